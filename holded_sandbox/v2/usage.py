"""`GET /v2/usage`: the account's monthly request count, v1 and v2 together.

Invariant: the answer is the quota's report (`quota.AccountQuota.report`): `usage` counts every
request of the calendar month that was let through (this one included), `limit` is the monthly
quota (null when off), `secondary_usages` splits it per route, v1 calls under `api_v1_legacy_1`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..routing import Request, Response
from .problems import Problem
from .resource import Extra, V2Resource, json_answer

if TYPE_CHECKING:
    from ..server import App


def usage(app: App, req: Request, res: V2Resource) -> Response:
    """The month's usage report; `/usage/{type}` answers the same for type `api`, else 404."""
    kind = req.params.get("type")
    if kind is not None and kind != "api":
        raise Problem(404, f"Usage type {kind} not found.")
    return json_answer(app.v2.quota.report(app.faults.rate_limit_per_month))


USAGE = V2Resource(
    path="/usage",
    collection="",
    scope="developers:usage",
    name="Usage",
    view=lambda app, record: record,
    ops="",
    extra=(Extra("GET", "", "get", usage), Extra("GET", "/{type}", "get", usage)),
)
RESOURCES = (USAGE,)
