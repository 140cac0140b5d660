"""Dates read from a v2 request, each failure the problem Holded answers: a body field that is not a
date is 422 (`unprocessable-entity`), a query parameter 400 (`bad-request`). One place for every resource."""

from __future__ import annotations

import functools
from typing import Any

from .dates import DateError, parse_day, parse_instant
from .problems import bad_request, invalid


def body_day(body: dict[str, Any], name: str) -> int:
    """The body's `name` (`YYYY-MM-DD`) as the store keeps a day (Madrid midnight, unix seconds)."""
    try:
        return parse_day(body.get(name), name)
    except DateError as exc:
        raise invalid(str(exc)) from None


def body_instant(body: dict[str, Any], name: str) -> int:
    """The body's `name` (ISO 8601 date-time) as unix seconds."""
    try:
        return parse_instant(body.get(name), name)
    except DateError as exc:
        raise invalid(str(exc)) from None


@functools.lru_cache(maxsize=256)
def query_day(value: str, name: str) -> int:
    """A query parameter's day (cached: list filters parse the same few values on every page)."""
    try:
        return parse_day(value, name)
    except DateError as exc:
        raise bad_request(str(exc)) from None
