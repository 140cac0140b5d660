"""Dates between the store (v1 unix seconds) and API v2 (ISO texts).

Invariants:
- A calendar day (a document's `date`, a lead's `due_date`...) is stored as the unix seconds of 00:00
  Europe/Madrid of that day (the v1 convention, see `model.ACCOUNT_ZONE`) and served by v2 as
  `YYYY-MM-DD` of that Madrid day; `0`/`None` (unset) is served as `null`.
- An instant (`created_at`, an event's start) is served as ISO 8601 UTC with a `Z` suffix, to the second.
- The ledger serves its days as `DD/MM/YYYY`, as the live API does despite its docs.
- Parsing never guesses a zone for a bare day: it is a Madrid day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..model import ACCOUNT_ZONE

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateError(ValueError):
    """A date text a v2 client sent that is not `YYYY-MM-DD` (or an ISO instant where one is allowed)."""


def day_text(ts: Any) -> str | None:
    """`YYYY-MM-DD` of the Madrid day a stored day (unix seconds) falls on; None when unset (0, None, "")."""
    if not ts:
        return None
    return dt.datetime.fromtimestamp(int(ts), ACCOUNT_ZONE).date().isoformat()


def ledger_day(ts: int) -> str:
    """`DD/MM/YYYY` of the Madrid day: how v2 ledger entries carry their dates."""
    return dt.datetime.fromtimestamp(int(ts), ACCOUNT_ZONE).strftime("%d/%m/%Y")


def instant_text(ts: Any) -> str | None:
    """ISO 8601 UTC (`2024-01-01T09:30:00Z`) of unix seconds; None when unset."""
    if not ts:
        return None
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_day(value: Any, field: str) -> int:
    """A v2 day (`YYYY-MM-DD`) as the store keeps it: 00:00 in Madrid, unix seconds.

    Args:
        value: the text sent; None or "" means unset (0).
        field: the body field, named in the error.

    Returns:
        Unix seconds of that day's Madrid midnight (1704063600 for "2024-01-01"), or 0 when unset.

    Raises:
        DateError: the value is not a `YYYY-MM-DD` calendar day.
    """
    if value in (None, ""):
        return 0
    text = str(value).strip()
    if not _DAY.match(text):
        raise DateError(f"{field} must be a date in YYYY-MM-DD format")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise DateError(f"{field} must be a date in YYYY-MM-DD format") from exc
    return int(dt.datetime.combine(day, dt.time(0), ACCOUNT_ZONE).timestamp())


def parse_instant(value: Any, field: str) -> int:
    """An instant sent as ISO 8601 (a zone-less one is UTC), a bare day (Madrid midnight) or unix seconds.

    Raises:
        DateError: none of those.
    """
    if value in (None, ""):
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if _DAY.match(text):
        return parse_day(text, field)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateError(f"{field} must be an ISO 8601 date-time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def object_id_time(rid: str) -> int:
    """The creation second an ObjectId carries in its first 4 bytes (0 when it is not one)."""
    try:
        return int(rid[:8], 16)
    except (TypeError, ValueError):
        return 0
