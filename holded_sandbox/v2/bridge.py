"""Calling the v1 write rules from v2: one set of rules for both dialects.

Invariant: a v2 write that has a v1 twin builds the v1 body and runs the v1 create/update function,
so validation, defaults, numbering and totals are the v1 ones; a v1 logical failure
(`{"status": 0, "info": ...}`) becomes a 422 problem with that text, a v1 404 a 404 problem.
"""

from __future__ import annotations

import json
from typing import Any

from ..routing import Request, Response
from ..store import Record
from .problems import Problem


def v1_request(body: dict[str, Any], method: str = "POST", **params: str) -> Request:
    """A v1 request carrying `body` (what the v1 functions read)."""
    return Request(method, "", {}, body, {}, dict(params))


def v1_result(result: Record | Response | None) -> Record | None:
    """The record a v1 function built, or the problem its failure answer means."""
    if isinstance(result, Response):
        try:
            info = json.loads(result.body).get("info", "")
        except (ValueError, AttributeError):
            info = ""
        if result.status == 404:
            raise Problem(404, f"{info or 'Not found'}.")
        raise Problem(422, f"{info or 'Invalid request'}.")
    return result


def run_v1(fn: Any, app: Any, body: dict[str, Any], *record: Record, method: str = "POST", **params: str) -> Any:
    """Run a v1 create (`fn(app, req)`) or update (`fn(app, req, record)`) and translate a failure."""
    return v1_result(fn(app, v1_request(body, method, **params), *record))
