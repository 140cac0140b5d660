"""v2 account settings over the v1 collections: contact groups, warehouses, expense accounts, sales
channels, payment methods and remittances (same records, same ids as v1).

Invariants:
- Writes run the v1 create / update of the same collection (`routes/invoicing.py` factories), so a
  record written in either dialect reads the same in both. Updates are partial and answer `{"id"}`.
- Contact groups (`contacts:contacts`): `description` is v1 `desc`.
- Warehouses (`inventory:warehouses`): unpaginated (one envelope, `has_more` false, as the v2 README
  says); written with `PATCH` (the catalogue has no PUT); `address` merges key by key, snake_case.
- Expense accounts and sales channels: `account_num` is v1 `accNum` (required on create, as v1 needs
  it; PUT takes `name, color` and `description`).
- Payment methods and remittances are read-only: v1 has no writes for them. A payment method reads
  `due_days` (an integer) and `banking_account_id`; remittances filter on `type, status, bank_id,
  start_date, end_date` (days, inclusive) and carry their documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import num
from ..routes.crud import Resource as V1Resource
from ..routes.invoicing import account_resource, contact_group_resource, warehouse_resource
from ..routing import Request, Response
from ..store import Record
from .bridge import run_v1
from .dates import day_text
from .fields import amount, as_bool, as_number, body_object, camel_keys, require, snake_keys, text_or_none
from .fields_in import query_day
from .problems import invalid
from .resource import Extra, V2Resource, json_answer, record_of

if TYPE_CHECKING:
    from ..server import App


def _v1_writes(v1: V1Resource, to_v1: Any, required: tuple[str, ...] = ("name",)) -> tuple[Any, Any]:
    """The v2 create / update over a v1 resource's own create / update (`to_v1`: v2 body -> v1 body)."""
    assert v1.create is not None and v1.update is not None
    v1_create, v1_update = v1.create, v1.update

    def create(app: App, body: dict[str, Any]) -> Record:
        require(body, *required)
        return run_v1(v1_create, app, to_v1(body))

    def update(app: App, body: dict[str, Any], record: Record) -> None:
        run_v1(v1_update, app, to_v1(body), record, method="PUT")

    return create, update


def _renamed(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The sent v2 fields under their v1 names (None sent: empty text)."""
    return {v1: ("" if body[v2] is None else body[v2]) for v2, v1 in names.items() if v2 in body}


# --- contact groups --------------------------------------------------------------------------


def group_view(app: App, g: Record) -> dict[str, Any]:
    """A stored contact group as v2 reads it."""
    return {"id": g["id"], "name": g["name"], "description": g["desc"], "color": g["color"]}


_group_create, _group_update = _v1_writes(
    contact_group_resource(), lambda b: _renamed(b, {"name": "name", "description": "desc", "color": "color"})
)

CONTACT_GROUPS = V2Resource(
    path="/contact-groups",
    collection="contactgroups",
    scope="contacts:contacts",
    name="Contact group",
    view=group_view,
    create=_group_create,
    update=_group_update,
)


# --- warehouses ------------------------------------------------------------------------------


def warehouse_view(app: App, w: Record) -> dict[str, Any]:
    """A stored warehouse as v2 reads it."""
    return {
        "id": w["id"],
        "name": w["name"],
        "email": w["email"],
        "phone": w["phone"],
        "mobile": w["mobile"],
        "default": bool(w["default"]),
        "address": snake_keys(w["address"]),
        "warehouse_record": w.get("warehouseRecord", 0),
    }


def _warehouse_v1(body: dict[str, Any]) -> dict[str, Any]:
    out = _renamed(body, {"name": "name", "email": "email", "phone": "phone", "mobile": "mobile"})
    if "default" in body:
        out["default"] = as_bool(body["default"], "default")
    if "address" in body:
        if body["address"] is not None and not isinstance(body["address"], dict):
            raise invalid("address must be an object.")
        out["address"] = camel_keys(body["address"])
    return out


_warehouse_create, _warehouse_update = _v1_writes(warehouse_resource(), _warehouse_v1)


def patch_warehouse(app: App, req: Request, res: V2Resource) -> Response:
    """`PATCH /warehouses/{id}`: what is sent changes; answers `{"id"}`."""
    record = record_of(app, res, req.params["id"])
    _warehouse_update(app, body_object(req.body), record)
    app.store.save(res.collection, record)
    return json_answer({"id": record["id"]})


WAREHOUSES = V2Resource(
    path="/warehouses",
    collection="warehouses",
    scope="inventory:warehouses",
    name="Warehouse",
    view=warehouse_view,
    create=_warehouse_create,
    paginated=False,
    ops="LCGD",
    extra=(Extra("PATCH", "/{id}", "update", patch_warehouse),),
)


# --- expense accounts and sales channels -----------------------------------------------------


def account_view(app: App, a: Record) -> dict[str, Any]:
    """A stored expense account or sales channel as v2 reads it."""
    return {
        "id": a["id"],
        "name": a["name"],
        "description": a["desc"],
        "color": a["color"],
        "account_num": a.get("accNum", 0),
    }


def _account_v1(body: dict[str, Any]) -> dict[str, Any]:
    out = _renamed(body, {"name": "name", "description": "desc", "color": "color"})
    if body.get("account_num") not in (None, ""):
        out["accountNum"] = int(as_number(body["account_num"], "account_num"))
    return out


def _account(path: str, coll: str, scope: str, name: str) -> V2Resource:
    create, update = _v1_writes(account_resource(coll), _account_v1, required=("name", "account_num"))
    return V2Resource(path=path, collection=coll, scope=scope, name=name, view=account_view, create=create,
                      update=update)  # fmt: skip


EXPENSE_ACCOUNTS = _account("/expenses-accounts", "expensesaccounts", "accounting:expenses-accounts", "Expense account")
SALES_CHANNELS = _account("/sales-channels", "saleschannels", "sales:sales-channels", "Sales channel")


# --- payment methods -------------------------------------------------------------------------


def payment_method_view(app: App, m: Record) -> dict[str, Any]:
    """A stored payment method as v2 reads it (v1 keeps `dueDays` as text)."""
    return {
        "id": m["id"],
        "name": m["name"],
        "due_days": int(num(m.get("dueDays", 0))),
        "banking_account_id": text_or_none(m.get("bankId")),
    }


PAYMENT_METHODS = V2Resource(
    path="/payment-methods",
    collection="paymentmethods",
    scope="accounting:payment-methods",
    name="Payment method",
    view=payment_method_view,
    ops="LG",
)


# --- remittances -----------------------------------------------------------------------------


def remittance_view(app: App, r: Record) -> dict[str, Any]:
    """A stored remittance as v2 reads it."""
    return {
        "id": r["id"],
        "name": r["name"],
        "date": day_text(r["date"]),
        "type": r["type"],
        "status": r["status"],
        "bank_id": text_or_none(r.get("bankId")),
        "bank_name": r.get("bankName", ""),
        "total": amount(r["total"]),
        "documents": [
            {
                "document_id": d["documentId"],
                "document_type": d["docType"],
                "document_number": d["docNumber"],
                "contact_id": text_or_none(d.get("contactId")),
                "contact_name": d.get("contactName", ""),
                "amount": amount(d["amount"]),
            }
            for d in r.get("documents", [])
        ],
    }


REMITTANCES = V2Resource(
    path="/treasury/remittances",
    collection="remittances",
    scope="accounting:remittances",
    name="Remittance",
    view=remittance_view,
    ops="LG",
    filters={
        "type": lambda r, v: r["type"] == v,
        "status": lambda r, v: r["status"] == v,
        "bank_id": lambda r, v: r.get("bankId") == v,
        "start_date": lambda r, v: r["date"] >= query_day(v, "start_date"),
        "end_date": lambda r, v: r["date"] <= query_day(v, "end_date"),
    },
)

RESOURCES = (CONTACT_GROUPS, WAREHOUSES, EXPENSE_ACCOUNTS, SALES_CHANNELS, PAYMENT_METHODS, REMITTANCES)
