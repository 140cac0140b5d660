"""v2 payments, treasury accounts and numbering series over the v1 `payments`, `treasury`, `numberingseries`.

Invariants:
- A payment reads `type` income | expense from the sign of its v1 `amount` and an unsigned string
  `amount`; writing `type: expense` stores a negative amount, as v1 keeps purchase payments.
  List filters: `start_date`/`end_date` (days, inclusive), `document_id`, `document_type`,
  `banking_account_id`.
- Treasury accounts live under `/treasury/accounts` (`accounting:banks`); `bic` is v1 `swift`.
- Numbering series are listed and created per `{type}` (a v1 docType such as `invoice`, or the v2
  path name such as `invoices`); `format` uses v1's placeholders (`F[YY]%%%%`). The documented body
  fields `refund_numbering_series_id` (an existing series, or null) and `verifactu_excluded` are kept
  on create and PUT (as `_refundSeriesId`, `_verifactuExcluded`, which v1 never shows) and read back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import intish, num
from ..routes.invoicing import create_payment, create_series, update_payment
from ..routing import Request, Response
from ..store import Record
from .bridge import run_v1, v1_route
from .dates import day_text
from .documents import KINDS
from .fields import amount, as_bool, as_number, body_object, require
from .fields_in import body_day, query_day
from .problems import Problem, invalid
from .resource import Extra, V2Resource, created, json_answer, list_answer, no_content

if TYPE_CHECKING:
    from ..server import App


# --- payments --------------------------------------------------------------------------------


def payment_view(app: App, p: Record) -> dict[str, Any]:
    """A stored payment as v2 reads it."""
    return {
        "id": p["id"],
        "type": "expense" if num(p["amount"]) < 0 else "income",
        "amount": amount(abs(num(p["amount"]))),
        "date": day_text(p["date"]),
        "bank_account_id": p["bankId"] or None,
        "contact_id": p["contactId"] or None,
        "contact_name": p["contactName"],
        "description": p["desc"],
        "document_id": p.get("documentId") or None,
        "document_type": p.get("docType") or None,
    }


def _payment_body(body: dict[str, Any], current: float | None) -> dict[str, Any]:
    if body.get("type") not in (None, "income", "expense"):
        raise invalid("type must be income or expense.")
    out: dict[str, Any] = {}
    if "amount" in body or "type" in body:
        value = abs(as_number(body.get("amount", abs(current or 0)), "amount"))
        expense = body.get("type") == "expense" or ("type" not in body and (current or 0) < 0)
        out["amount"] = -value if expense else value
    if "date" in body:
        out["date"] = body_day(body, "date")
    for name, v1_name in (("bank_account_id", "bankId"), ("contact_id", "contactId"), ("description", "desc")):
        if name in body:
            out[v1_name] = "" if body[name] is None else str(body[name])
    return out


def create(app: App, body: dict[str, Any]) -> Record:
    """A new payment (`amount` required; date: today)."""
    require(body, "amount")
    return run_v1(create_payment, app, _payment_body(body, None))


def update(app: App, body: dict[str, Any], payment: Record) -> None:
    """PUT: what is sent changes."""
    run_v1(update_payment, app, _payment_body(body, num(payment["amount"])), payment, method="PUT")
    payment["amount"] = intish(payment["amount"])


PAYMENTS = V2Resource(
    path="/payments",
    collection="payments",
    scope="accounting:payments",
    name="Payment",
    view=payment_view,
    create=create,
    update=update,
    filters={
        "start_date": lambda r, v: r["date"] >= query_day(v, "start_date"),
        "end_date": lambda r, v: r["date"] <= query_day(v, "end_date"),
        "document_id": lambda r, v: r.get("documentId") == v,
        "document_type": lambda r, v: r.get("docType") == v,
        "banking_account_id": lambda r, v: r["bankId"] == v,
    },
)


# --- treasury accounts -----------------------------------------------------------------------


def treasury_view(app: App, t: Record) -> dict[str, Any]:
    """A stored treasury (bank, cash, card) account as v2 reads it."""
    return {
        "id": t["id"],
        "name": t["name"],
        "type": t["type"],
        "currency": t.get("_currency", "EUR"),
        "iban": t["iban"],
        "bic": t["swift"],
        "account_number": t["accountNumber"],
        "bank_name": t.get("bankname", ""),
        "balance": amount(t["balance"]),
        "archived": bool(t.get("_archived", False)),
    }


def _treasury_body(body: dict[str, Any]) -> dict[str, Any]:
    out = {v1: body[v2] for v2, v1 in (("name", "name"), ("type", "type"), ("iban", "iban"), ("bic", "swift"))
           if body.get(v2) is not None}  # fmt: skip
    if body.get("account_number") is not None:
        out["accountNumber"] = int(as_number(body["account_number"], "account_number"))
    return out


def create_treasury(app: App, body: dict[str, Any]) -> Record:
    """A new treasury account (`name` required), through the v1 route."""
    require(body, "name")
    rid = v1_route(app, "POST", "/invoicing/v1/treasury", _treasury_body(body))["id"]
    record = app.store.get("treasury", rid)
    assert record is not None
    if body.get("currency"):
        record["_currency"] = str(body["currency"]).upper()
    return record


def update_treasury(app: App, body: dict[str, Any], record: Record) -> None:
    """PUT: what is sent changes (v1 has no update here: the fields are set directly)."""
    record.update({k: v for k, v in _treasury_body(body).items() if k != "type"})
    if body.get("currency"):
        record["_currency"] = str(body["currency"]).upper()


def archive(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /treasury/accounts/{id}/archive`."""
    record = app.store.get(res.collection, req.params["id"])
    if record is None:
        raise Problem(404, "Treasury account not found.")
    record["_archived"] = True
    app.store.save(res.collection, record)
    return json_answer({"id": record["id"]})


TREASURY = V2Resource(
    path="/treasury/accounts",
    collection="treasury",
    scope="accounting:banks",
    name="Treasury account",
    view=treasury_view,
    create=create_treasury,
    update=update_treasury,
    filters={
        "type": lambda r, v: r["type"] == v,
        "archived": lambda r, v: bool(r.get("_archived", False)) == (v.lower() in ("1", "true")),
    },
    extra=(Extra("POST", "/{id}/archive", "archive", archive),),
)


# --- numbering series ------------------------------------------------------------------------

_TYPE_OF_PATH = {kind.path.strip("/"): kind.doc_type for kind in KINDS}


def _series_type(req: Request) -> str:
    kind = req.params["type"]
    doc_type = _TYPE_OF_PATH.get(kind, kind)
    if doc_type not in _TYPE_OF_PATH.values() and doc_type != "purchaserefund":
        raise Problem(404, f"Unknown document type {kind}.")
    return doc_type


def series_view(app: App, s: Record) -> dict[str, Any]:
    """A numbering series as v2 reads it."""
    return {
        "id": s["id"],
        "name": s["name"],
        "format": s["format"],
        "last": s["last"],
        "type": s["type"],
        "refund_numbering_series_id": s.get("_refundSeriesId") or None,
        "verifactu_excluded": bool(s.get("_verifactuExcluded", False)),
    }


def _series_options(app: App, body: dict[str, Any], record: Record) -> None:
    """The v2-only body fields of a series, where sent: the refund series (must exist) and the flag.
    Both are checked before either is written (a 422 changes nothing)."""
    changes: dict[str, Any] = {}
    if "refund_numbering_series_id" in body:
        refund = body["refund_numbering_series_id"] or ""
        if refund and (not isinstance(refund, str) or app.store.get("numberingseries", refund) is None):
            raise invalid(f"refund_numbering_series_id: numbering series {refund} not found.")
        changes["_refundSeriesId"] = refund
    if body.get("verifactu_excluded") is not None:
        changes["_verifactuExcluded"] = as_bool(body["verifactu_excluded"], "verifactu_excluded")
    record.update(changes)


def list_series(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /numbering-series/{type}`."""
    doc_type = _series_type(req)
    return list_answer(app, req, res, keep=lambda s: s["type"] == doc_type)


def create_series_v2(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /numbering-series/{type} {name, format, last, refund_numbering_series_id, verifactu_excluded}`."""
    body = body_object(req.body)
    require(body, "name")
    v1_body = {k: body[k] for k in ("name", "format", "last") if body.get(k) is not None}
    record = run_v1(create_series, app, v1_body, type=_series_type(req))
    _series_options(app, body, record)
    app.store.save(res.collection, record)
    return created(record["id"])


def _series(app: App, req: Request, res: V2Resource) -> Record:
    record = app.store.get(res.collection, req.params["id"])
    if record is None or record["type"] != _series_type(req):
        raise Problem(404, "Numbering series not found.")
    return record


def update_series(app: App, req: Request, res: V2Resource) -> Response:
    """`PUT /numbering-series/{type}/{id}`: what is sent changes."""
    record, body = _series(app, req, res), body_object(req.body)
    last = None if body.get("last") is None else int(as_number(body["last"], "last"))
    _series_options(app, body, record)
    for name in ("name", "format"):
        if body.get(name) is not None:
            record[name] = str(body[name])
    if last is not None:
        record["last"] = last
    app.store.save(res.collection, record)
    return json_answer({"id": record["id"]})


def delete_series(app: App, req: Request, res: V2Resource) -> Response:
    """`DELETE /numbering-series/{type}/{id}`: 204."""
    app.store.delete(res.collection, _series(app, req, res)["id"])
    return no_content()


SERIES = V2Resource(
    path="/numbering-series",
    collection="numberingseries",
    scope="sales:numbering-series",
    name="Numbering series",
    view=series_view,
    ops="",
    extra=(
        Extra("GET", "/{type}", "list", list_series),
        Extra("POST", "/{type}", "create", create_series_v2),
        Extra("PUT", "/{type}/{id}", "update", update_series),
        Extra("DELETE", "/{type}/{id}", "delete", delete_series),
    ),
)

RESOURCES = (PAYMENTS, TREASURY, SERIES)
