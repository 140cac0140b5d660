"""Calling the v1 write rules from v2: one set of rules for both dialects.

Invariant: a v2 write that has a v1 twin builds the v1 body and runs the v1 create/update function,
so validation, defaults, numbering and totals are the v1 ones; a v1 logical failure
(`{"status": 0, "info": ...}`) becomes a 422 problem with that text, a v1 404 a 404 problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..routing import Request, Response
from ..store import Record
from .fields import require
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


def call_v1(fn: Any, app: Any, body: dict[str, Any], method: str = "POST", **params: str) -> dict[str, Any]:
    """Run a v1 route handler (`fn(app, req)`) and return its JSON answer; a failure is a problem."""
    return _payload(fn(app, v1_request(body, method, **params)))


def _payload(answer: Response) -> dict[str, Any]:
    """A v1 route's JSON answer; its failure (404, `status 0`) raised as the matching problem."""
    payload = json.loads(answer.body) if answer.body else {}
    if answer.status == 404 or (isinstance(payload, dict) and payload.get("status") == 0):
        v1_result(answer)
    return payload


def v1_writes(
    v1: Any, to_v1_body: Callable[[dict[str, Any]], dict[str, Any]], after: Callable[[dict[str, Any], Record], None]
) -> tuple[Callable[[Any, dict[str, Any]], Record], Callable[[Any, dict[str, Any], Record], None]]:
    """The v2 create and update of a resource whose v1 twin `v1` (a v1 `Resource`) holds the rules.

    `to_v1_body` turns the v2 body into v1's; `after(body, record)` applies what only v2 carries. The
    create needs `name`, as every such resource does; an update changes what is sent.
    """

    def create(app: Any, body: dict[str, Any]) -> Record:
        require(body, "name")
        record = run_v1(v1.create, app, to_v1_body(body))
        after(body, record)
        return record

    def update(app: Any, body: dict[str, Any], record: Record) -> None:
        v1.update(app, v1_request(to_v1_body(body), "PUT"), record)
        after(body, record)

    return create, update


def v1_route(app: Any, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run the v1 route serving `method path` (e.g. `POST /invoicing/v1/treasury`) and return its answer."""
    handler, params = app.router.match(method, path)
    if handler is None:
        raise Problem(404, "Not found.")
    return _payload(handler(app, Request(method, path, {}, body, {}, params)))
