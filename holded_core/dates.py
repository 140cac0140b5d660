"""Calendar days in the account's time zone, and the `start_date` bound.

Holded keeps day-level dates (a document's `date` and `dueDate`, a lead's `dueDate`, a project's
`date` and `dueDate`, any date picked as a day in its UI) as the unix seconds of 00:00 of that day
in the account's time zone, Europe/Madrid for a Spanish account: 1 January 2024 is `1704063600`,
which is still 31 December in UTC (shared/holded-api/README.md: Calendar dates are midnight in
Madrid). Read in UTC, or in the machine's own zone, New Year's invoices land in the previous fiscal
year. So every conversion here takes the account's zone explicitly and none reads the process's
`TZ`. Unified records carry such days as `YYYY-MM-DD`; instants (`createdAt`, an event's start)
stay ISO 8601 UTC date-times and are not handled here.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holded_core.errors import HoldedConfigError

DEFAULT_TIMEZONE = "Europe/Madrid"


def account_zone(name: Any = None) -> ZoneInfo:
    """The account's time zone from the `timezone` setting.

    Args:
        name: an IANA zone name such as `Europe/Madrid` or `Atlantic/Canary`; None or "" means
            Europe/Madrid, the zone of Holded's Spanish accounts.

    Returns:
        The zone (zoneinfo caches them, so calling this per record costs a dictionary lookup).

    Raises:
        HoldedConfigError: the name is not a known IANA zone (one line naming `timezone` and the fix).
    """
    if name in (None, ""):
        name = DEFAULT_TIMEZONE
    if isinstance(name, ZoneInfo):
        return name
    text = str(name).strip()
    try:
        if not text or text.startswith(("/", ".")) or ".." in text:
            raise ValueError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise HoldedConfigError(
            f"`timezone` {str(name)[:60]!r} is not a known time zone: use the account's IANA zone name, "
            f"e.g. {DEFAULT_TIMEZONE} (the default) or Atlantic/Canary"
        ) from None


@functools.lru_cache(maxsize=4096)  # a read asks for the same few days thousands of times (dates are midnights)
def day_of(seconds: int, zone: ZoneInfo) -> str:
    """The calendar day (`YYYY-MM-DD`) that a Holded timestamp falls on in the account's zone.

    Args:
        seconds: unix seconds, e.g. Holded's `1704063600` (00:00 of 1 January 2024 in Madrid).
        zone: the account's zone (`account_zone`).

    Returns:
        The day in that zone: `"2024-01-01"` for the example, whatever the machine's zone is.
    """
    return dt.datetime.fromtimestamp(seconds, zone).date().isoformat()


def midnight(day: dt.date, zone: ZoneInfo) -> int:
    """The unix seconds Holded stores for a day: 00:00 of that day in the account's zone.

    Args:
        day: the calendar day.
        zone: the account's zone.

    Returns:
        Unix seconds, e.g. `1704063600` for 2024-01-01 in Europe/Madrid (where a zone skips 00:00 on
        a daylight-saving day, the first instant of that day).
    """
    return int(dt.datetime.combine(day, dt.time(0), zone).timestamp())


def parse_day(value: Any, zone: ZoneInfo) -> dt.date:
    """A unified day value as a calendar day.

    Args:
        value: `YYYY-MM-DD` (the unified form), a `date`, or an ISO 8601 date-time. A date-time with
            an offset is an instant and gives its day in the account's zone (so `2023-12-31T23:00:00Z`,
            how earlier versions wrote 1 January in Madrid, is 2024-01-01); one without an offset
            gives the day it names.
        zone: the account's zone.

    Returns:
        The day.

    Raises:
        ValueError: the value is not a date (the message says which form is expected).
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected a day YYYY-MM-DD, got {str(value)[:40]!r}") from None
    return parsed.astimezone(zone).date() if parsed.tzinfo is not None else parsed.date()


def start_of(value: Any, zone: ZoneInfo) -> int:
    """The `start_date` setting as the unix seconds sent to Holded as `starttmp`.

    Args:
        value: `YYYY-MM-DD` (00:00 of that day in the account's zone, so `2024-01-01` includes an
            invoice dated 1 January 2024), or an ISO 8601 date-time (with an offset: that instant;
            without one: that wall-clock time in the account's zone).
        zone: the account's zone.

    Returns:
        Unix seconds.

    Raises:
        HoldedConfigError: the value is not a date (one line naming `start_date` and the fix).
    """
    text = str(value).strip()
    try:
        if len(text) == 10:
            return midnight(dt.date.fromisoformat(text), zone)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HoldedConfigError(
            f"`start_date` {str(value)[:40]!r} is not a date: use ISO 8601, e.g. 2024-01-01 or 2024-01-01T00:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return int(parsed.timestamp())
