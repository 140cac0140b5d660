"""One Holded list call, as the sync engine runs it (all its pages), whichever API dialect declared it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.dates import DEFAULT_TIMEZONE, account_zone, day_of

# A dialect's translation of one listed record into Holded's v1 record shape (what the unified mappings
# read), given the account's zone (calendar days are days there); None where records already are v1's.
ToV1 = Callable[[Mapping[str, Any], ZoneInfo], dict[str, Any]]

FUTURE = 20 * 365 * 86_400  # the range's end: future-dated documents too


@dataclass(frozen=True)
class DateRange:
    """How a dated listing takes its range: the two query parameters and whether they are days.

    v1: `starttmp`/`endtmp` in unix seconds; v2: `start_date`/`end_date` as `YYYY-MM-DD` days of the
    account's zone (shared/holded-api/v2/README.md, "Transport")."""

    start: str = "starttmp"
    end: str = "endtmp"
    days: bool = False

    def params(self, start: int, zone: ZoneInfo) -> dict[str, str]:
        end = int(time.time()) + FUTURE
        if not self.days:
            return {self.start: str(start), self.end: str(end)}
        return {self.start: day_of(max(start, 0), zone), self.end: day_of(end, zone)}


UNIX_RANGE = DateRange()
DAY_RANGE = DateRange("start_date", "end_date", days=True)


@dataclass(frozen=True)
class Listing:
    """One Holded list call (all its pages). Streams sharing a listing are fed by one pass."""

    path: str
    params: tuple[tuple[str, str], ...] = ()
    dated: bool = False  # takes a date range on the business date (start_date applies)
    needs_range: bool = False  # Holded refuses the call without a date range
    item: str | None = None  # the route reading one listed record by `{id}`; None where Holded has none
    pagination: str = "page"  # page (v1's ?page=N), cursor (v2's), none (Holded answers everything at once)
    page_size: int | None = None  # records asked per page where Holded takes a size (v2's `limit`)
    date_range: DateRange = UNIX_RANGE  # the range's parameters (v1 unix seconds, v2 days)
    to_v1: ToV1 | None = None  # listed record -> Holded's v1 record shape, for the unified mappings
    # v1 list (embedded children the mappings read) -> the list of this dialect's record it translates,
    # index for index: where a child's `raw` is found in the record as Holded returned it.
    lists: tuple[tuple[str, str], ...] = ()

    def raw_list(self, v1_name: str) -> str:
        """The name, in the record as Holded returned it, of the v1 list `v1_name` (`products` -> `lines`)."""
        return dict(self.lists).get(v1_name, v1_name)

    def as_v1(self, record: Mapping[str, Any], zone: ZoneInfo | str = DEFAULT_TIMEZONE) -> Mapping[str, Any]:
        """`record` (as listed or read by id) in Holded's v1 shape, what the unified mappings read."""
        if self.to_v1 is None:
            return record
        return self.to_v1(record, zone if isinstance(zone, ZoneInfo) else account_zone(zone))

    def item_path(self, holded_id: str) -> str | None:
        """The route that reads the listed record `holded_id` (deletions are confirmed through it)."""
        return self.item.format(id=holded_id) if self.item else None

    def query(self, start_date: int | None, zone: ZoneInfo | str = DEFAULT_TIMEZONE) -> dict[str, str]:
        """The listing's query parameters, with its date range when `start_date` (unix seconds) bounds
        it or Holded requires one (`zone`: the account's, in which a v2 range is given in days)."""
        params = dict(self.params)
        if (self.dated and start_date is not None) or self.needs_range:
            zone = zone if isinstance(zone, ZoneInfo) else account_zone(zone)
            params.update(self.date_range.params(start_date or 0, zone))
        return params
