"""Cursor pagination as Holded API v2 does it.

Invariants:
- A list answers `{"items": [...], "cursor": "<24-hex>" | null, "has_more": bool}`; `cursor` is the id
  of the page's last item when `has_more`, else null. The next page starts after that id.
- The order is ascending id (creation order: ids start with their creation second) unless a resource
  sorts otherwise (documents' `sort`); with ascending ids a cursor whose record was deleted still
  works (the next page starts after that id value).
- `limit` defaults per resource and is clamped to the resource's maximum; a non-integer or a limit
  below 1 is a 400. `page` is ignored (a v1-style pager loops on the first page, as on Holded).
- A cursor that is not a 24-hex ObjectId is a 400 "Error parsing ObjectId string: ...".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..routing import Request
from ..store import Record
from .problems import bad_request

if TYPE_CHECKING:
    from ..server import App

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
Predicate = Callable[[Record], bool]


def limit_of(req: Request, default: int, most: int) -> int:
    """The page size asked for, clamped to `most`."""
    raw = req.query.get("limit", "")
    if raw == "":
        return default
    try:
        wanted = int(raw)
    except ValueError:
        raise bad_request(f"limit must be an integer between 1 and {most}.") from None
    if wanted < 1:
        raise bad_request(f"limit must be an integer between 1 and {most}.")
    return min(wanted, most)


def cursor_of(req: Request) -> str | None:
    """The cursor sent, validated as an ObjectId."""
    cursor = req.query.get("cursor", "")
    if cursor == "":
        return None
    if not OBJECT_ID.match(cursor):
        raise bad_request(f"Error parsing ObjectId string: {cursor}: the provided hex string is not a valid ObjectID")
    return cursor


def by_id(app: App, collection: str) -> tuple[list[Record], list[str]]:
    """The collection in ascending id order and its ids, cached until the next write."""

    def build() -> tuple[list[Record], list[str]]:
        records = sorted(app.store.all(collection), key=lambda r: r["id"])
        return records, [r["id"] for r in records]

    return app.derived(f"v2:by-id:{collection}", build)


def _take(records: Iterable[Record], keep: Predicate | None, limit: int) -> tuple[list[Record], bool]:
    page: list[Record] = []
    for record in records:
        if keep is not None and not keep(record):
            continue
        if len(page) == limit:
            return page, True
        page.append(record)
    return page, False


def page_by_id(
    app: App, req: Request, collection: str, keep: Predicate | None, default: int, most: int
) -> tuple[list[Record], bool]:
    """One page of a collection in ascending id order: (records, has_more)."""
    limit, cursor = limit_of(req, default, most), cursor_of(req)
    records, ids = by_id(app, collection)
    start = bisect.bisect_right(ids, cursor) if cursor else 0
    return _take(records[start:], keep, limit)


def page_of(req: Request, ordered: list[Record], default: int, most: int) -> tuple[list[Record], bool]:
    """One page of an already filtered and ordered list: the page starts after the cursor's record."""
    limit, cursor = limit_of(req, default, most), cursor_of(req)
    start = 0
    if cursor:
        position = next((i for i, r in enumerate(ordered) if r["id"] == cursor), None)
        if position is None:
            raise bad_request(f"Invalid cursor: {cursor} is not in this listing any more.")
        start = position + 1
    return _take(ordered[start:], None, limit)


def envelope(items: list[dict[str, Any]], records: list[Record], has_more: bool) -> dict[str, Any]:
    """`{"items", "cursor", "has_more"}` for a page."""
    return {"items": items, "cursor": records[-1]["id"] if has_more and records else None, "has_more": has_more}
