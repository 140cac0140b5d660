"""v2 ledger entries and accounting accounts, derived from the same ledger as v1's daily ledger.

Invariants:
- `GET /ledger-entries` requires `start_date` and `end_date` (400 naming the missing one); both
  days are inclusive. An item is one entry (a posted document, a payment or a manual entry) with
  its lines; its `id` is the document's, payment's or manual entry's id and its `date` is
  `DD/MM/YYYY`, as the live API answers despite its docs. Order: by date, then id; the cursor is the
  last entry's id. Default 50, max 100.
- `POST /ledger-entries {date, notes, contact_id, lines}` goes through v1's balanced-entry rule.
- `GET /accounting-accounts` lists the chart of accounts with debit / credit / balance (strings)
  over `[start_date, end_date]`; accounts without movements only with `include_empty=1|true`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import add_days, num
from ..routes import accounting as v1
from ..routing import Request, Response
from .bridge import call_v1
from .dates import DateError, ledger_day, parse_day
from .fields import amount, body_object, require
from .paging import page_of
from .problems import bad_request, invalid
from .resource import Extra, V2Resource, created, json_answer

if TYPE_CHECKING:
    from ..server import App


def _query_day(req: Request, name: str, required: bool) -> int | None:
    value = req.query.get(name, "")
    if not value:
        if required:
            raise bad_request(f"{name} is required.")
        return None
    try:
        return parse_day(value, name)
    except DateError as exc:
        raise bad_request(str(exc)) from None


def _entries(app: App, start: int, end: int) -> list[dict[str, Any]]:
    """The ledger's entries with a line on a day in [start, end], lines grouped (cached per write)."""
    lines, _, numbers = v1.numbered_ledger(app)
    out: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    until = add_days(end, 1)
    for line, (number, _position) in zip(lines, numbers, strict=True):
        if not start <= line[0] < until:
            continue
        entry = by_key.get(line[1])
        if entry is None:
            entry = by_key[line[1]] = {
                "id": line[1].split(":", 1)[1],
                "entry_number": number,
                "date": ledger_day(line[0]),
                "type": line[2],
                "description": line[3],
                "document_description": line[4],
                "lines": [],
            }
            out.append(entry)
        entry["lines"].append({"account": line[5], "debit": amount(line[6]), "credit": amount(line[7]),
                               "description": line[3], "tags": list(line[8])})  # fmt: skip
    return out


def list_entries(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /ledger-entries?start_date&end_date` (both required)."""
    start = _query_day(req, "start_date", True)
    end = _query_day(req, "end_date", True)
    assert start is not None and end is not None
    entries = _entries(app, start, end)
    page, more = page_of(req, entries, res.default_limit, res.max_limit)
    return json_answer({"items": page, "cursor": page[-1]["id"] if more and page else None, "has_more": more})


def create_entry(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /ledger-entries {date, notes, contact_id, lines}`: 201 {"id"} (balanced lines only)."""
    body = body_object(req.body)
    require(body, "date", "lines")
    try:
        date = parse_day(body["date"], "date")
    except DateError as exc:
        raise invalid(str(exc)) from None
    answer = call_v1(v1.create_entry, app, {"date": date, "notes": body.get("notes") or "", "lines": body["lines"]})
    return created(answer["entryGroupId"])


LEDGER = V2Resource(
    path="/ledger-entries",
    collection="entries",
    scope="accounting:daily-ledger",
    name="Ledger entry",
    view=lambda app, record: record,
    ops="",
    default_limit=50,
    max_limit=100,
    extra=(Extra("GET", "", "list", list_entries), Extra("POST", "", "create", create_entry)),
)


def list_accounts(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /accounting-accounts?start_date&end_date&include_empty`."""
    start = _query_day(req, "start_date", False)
    end = _query_day(req, "end_date", False)
    include_empty = req.query.get("include_empty", "").lower() in ("1", "true")
    totals: dict[int, list[float]] = {}
    until = add_days(end, 1) if end is not None else None
    for line in v1.ledger(app):
        if (start is not None and line[0] < start) or (until is not None and line[0] >= until):
            continue
        pair = totals.setdefault(line[5], [0.0, 0.0])
        pair[0] += line[6]
        pair[1] += line[7]
    items = []
    for account in sorted(app.store.all("accounts"), key=lambda a: a["num"]):
        debit, credit = totals.get(account["num"], (0.0, 0.0))
        if not include_empty and not debit and not credit:
            continue
        items.append({"id": account["id"], "number": account["num"], "name": account["name"],
                      "group": account["group"], "color": account["color"], "debit": amount(debit),
                      "credit": amount(credit), "balance": amount(num(debit) - num(credit))})  # fmt: skip
    page, more = page_of(req, items, res.default_limit, res.max_limit)
    return json_answer({"items": page, "cursor": page[-1]["id"] if more and page else None, "has_more": more})


def create_account(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /accounting-accounts {prefix, name, color}`: the next free number under the prefix."""
    body = body_object(req.body)
    require(body, "prefix")
    v1_body = {k: body[k] for k in ("prefix", "name", "color") if body.get(k) is not None}
    return created(call_v1(v1.create_account, app, v1_body)["accountId"])


ACCOUNTS = V2Resource(
    path="/accounting-accounts",
    collection="accounts",
    scope="accounting:chart-of-accounts",
    name="Accounting account",
    view=lambda app, record: record,
    ops="",
    default_limit=100,
    max_limit=500,
    extra=(Extra("GET", "", "list", list_accounts), Extra("POST", "", "create", create_account)),
)

RESOURCES = (LEDGER, ACCOUNTS)
