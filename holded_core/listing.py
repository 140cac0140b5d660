"""One Holded list call, as the sync engine runs it (all its pages), whichever API dialect declared it."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Listing:
    """One Holded list call (all its pages). Streams sharing a listing are fed by one pass."""

    path: str
    params: tuple[tuple[str, str], ...] = ()
    dated: bool = False  # takes starttmp/endtmp on the business date (start_date applies)
    needs_range: bool = False  # Holded refuses the call without starttmp/endtmp
    item: str | None = None  # the route reading one listed record by `{id}`; None where Holded has none
    pagination: str = "page"  # page (v1's ?page=N), cursor (v2's), none (Holded answers everything at once)
    page_size: int | None = None  # records asked per page where Holded takes a size (v2's `limit`)

    def item_path(self, holded_id: str) -> str | None:
        """The route that reads the listed record `holded_id` (deletions are confirmed through it)."""
        return self.item.format(id=holded_id) if self.item else None

    def query(self, start_date: int | None) -> dict[str, str]:
        params = dict(self.params)
        if (self.dated and start_date is not None) or self.needs_range:
            params["starttmp"] = str(start_date or 0)
            params["endtmp"] = str(int(time.time()) + 20 * 365 * 86_400)  # future-dated documents too
        return params
