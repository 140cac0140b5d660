"""v2 sales and purchase documents over the v1 per-docType collections (`invoice`, `estimate`...).

One table (`KINDS`) declares every document route: path, v1 docType, permission scope and which of
approve / payments / bulk delete / full PUT it has; `_resource` turns a row into a `V2Resource`.

Invariants:
- Requests send `items`, answers carry `lines`; each line has a stable `line_id` (the stored
  `_lineId`, never shown by v1). An item sent with a known `line_id` keeps that id.
- A document created through v2 is a draft without a number (`document_number` null) when its type
  has an approve route; `POST /<docs>/{id}/approve` gives it the next number of its series (the one
  named by `number_line_id`, else the type's default) and sets `approved_at`. Types without an
  approve route (estimates) are numbered and final at creation. Drafts made through v1 keep the
  number v1 gave them.
- Totals, payments and status are the v1 ones (computed from lines and payments); amounts are
  strings; `status` reads pending | partial | completed from v1's 0 | 2 | 1.
- Invoice PUT takes the whole body and resets what is left out (lines included); other documents'
  PUT take only `date`, `due_date`, `project_id`, also on final documents (the fields Holded leaves
  editable after approval); otherwise approved documents are neither edited nor deleted (422), as in
  v1. PUT answers `{"id"}`.
- `DELETE /invoices {ids}` (at most 100): 204 when all went, 207 with per-id results when some did,
  422 when none did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model import compute_totals, documented_custom_fields, now, seeded_line_id, today
from ..routes.documents import create_document, next_number, pay_document
from ..routing import Request, Response
from ..store import Record
from .bridge import v1_request, v1_result
from .dates import day_text, instant_text, object_id_time
from .fields import amount, body_object, id_list, str_list
from .fields_in import body_day, query_day
from .problems import Problem, bad_request, invalid
from .resource import Extra, V2Resource, created, json_answer, no_content, record_of

if TYPE_CHECKING:
    from ..server import App

STATUS = {0: "pending", 1: "completed", 2: "partial"}
SORTS = {"date": "date", "dueDate": "dueDate", "total": "total"}
LIMIT, MAX_LIMIT = 50, 100
BULK_MAX = 100


@dataclass(frozen=True)
class DocKind:
    """One v2 document route family."""

    path: str  # "/invoices"
    doc_type: str  # v1 docType and store collection
    scope: str  # "sales:invoices"
    name: str  # "Invoice"
    approve: bool = True  # POST /{id}/approve exists (else: numbered and final at creation)
    payments: bool = False  # POST /{id}/payments exists
    full_put: bool = False  # PUT takes the whole create body (else only date, due_date, project_id)
    bulk_delete: bool = False  # DELETE <path> {ids}
    approval_filter: bool = True  # the list takes `approval_status`


KINDS = (
    DocKind("/invoices", "invoice", "sales:invoices", "Invoice", payments=True, full_put=True, bulk_delete=True),
    DocKind("/sales-receipts", "salesreceipt", "sales:receipts", "Sales receipt", payments=True),
    DocKind("/credit-notes", "creditnote", "sales:credit-notes", "Credit note", payments=True),
    DocKind("/receipt-notes", "receiptnote", "sales:receipt-notes", "Receipt note", payments=True),
    DocKind("/estimates", "estimate", "sales:estimates", "Estimate", approve=False),
    DocKind("/proformas", "proform", "sales:proforms", "Proforma", approval_filter=False),
    DocKind("/sales-orders", "salesorder", "sales:orders", "Sales order", approval_filter=False),
    DocKind("/waybills", "waybill", "sales:waybills", "Waybill", approval_filter=False),
    DocKind("/purchases", "purchase", "accounting:purchases", "Purchase", payments=True),
    DocKind("/purchase-orders", "purchaseorder", "accounting:purchase-orders", "Purchase order", approval_filter=False),
)


# --- reading ---------------------------------------------------------------------------------


def line_id(doc: Record, index: int) -> str:
    """The stored id of line `index` (every line gets one on write and at seeding)."""
    return doc["products"][index].get("_lineId") or seeded_line_id(doc["id"], index)


def _line_view(doc: Record, index: int) -> dict[str, Any]:
    line = doc["products"][index]
    return {
        "line_id": line_id(doc, index),
        "name": line["name"],
        "description": line["desc"],
        "price": amount(line["price"]),
        "units": line["units"],
        "discount": line["discount"],
        "tax": line["tax"],
        "taxes": list(line["taxes"]),
        "retention": line.get("retention", 0),
        "product_id": line.get("productId") or None,
        "service_id": line.get("serviceId") or None,
        "sku": line.get("sku", ""),
        "account": line.get("_account") or None,
    }


def document_view(app: App, d: Record) -> dict[str, Any]:
    """A stored document (any docType) as v2 reads it."""
    approved = not d["draft"]
    return {
        "id": d["id"],
        "document_number": d["docNumber"] or None,
        "contact_id": d["contact"] or None,
        "contact_name": d["contactName"],
        "description": d["desc"],
        "date": day_text(d["date"]),
        "due_date": day_text(d["dueDate"]),
        "accounting_date": day_text(d["date"]) if approved else None,
        "subtotal": amount(d["subtotal"]),
        "discount": amount(d["discount"]),
        "tax": amount(d["tax"]),
        "total": amount(d["total"]),
        "currency": str(d["currency"]).upper(),
        "currency_change": d["currencyChange"],
        "status": "cancelled" if d.get("_cancelled") else STATUS.get(int(d["status"]), "pending"),
        "draft": not approved,
        "approved_at": instant_text(d.get("_approvedAt") or object_id_time(d["id"])) if approved else None,
        "tags": list(d["tags"]),
        "notes": d["notes"],
        "language": d["language"],
        "custom_fields": [{"field": f["field"], "value": f["value"]} for f in d["customFields"]],
        "project_id": d.get("_projectId") or None,
        "pipeline_id": d.get("_pipelineId") or None,
        "warehouse_id": d.get("_warehouseId") or None,
        "number_line_id": d.get("numSerieId") or None,
        "payments_total": amount(d["paymentsTotal"]),
        "payments_pending": amount(d["paymentsPending"]),
        "payments_refunds": amount(d["paymentsRefunds"]),
        "payments_detail": [
            {
                "payment_id": p["paymentId"],
                "date": day_text(p["date"]),
                "amount": amount(p["amount"]),
                "treasury_id": p.get("bankId") or None,
                "description": p.get("desc", ""),
            }
            for p in d["paymentsDetail"]
        ],
        "lines": [_line_view(d, i) for i in range(len(d["products"]))],
    }


def _approval(record: Record, value: str) -> bool:
    if value not in ("draft", "approved"):
        raise bad_request("approval_status must be draft or approved.")
    return bool(record["draft"]) == (value == "draft")


def _status(record: Record, value: str) -> bool:
    shown = "cancelled" if record.get("_cancelled") else STATUS.get(int(record["status"]), "pending")
    return shown == value


FILTERS = {
    "contact_id": lambda r, v: r["contact"] == v,
    "status": _status,
    "start_date": lambda r, v: r["date"] >= query_day(v, "start_date"),
    "end_date": lambda r, v: r["date"] <= query_day(v, "end_date"),
    "approval_status": _approval,
}


def _order(req: Request, records: list[Record]) -> list[Record] | None:
    sort = req.query.get("sort", "")
    if not sort:
        return None
    key = SORTS.get(sort.removeprefix("-"))
    if key is None:
        raise bad_request("sort must be one of date, -date, dueDate, -dueDate, total, -total.")
    return sorted(records, key=lambda r: (r[key], r["id"]), reverse=sort.startswith("-"))


# --- writing ---------------------------------------------------------------------------------


def _items(value: Any) -> list[dict[str, Any]]:
    """v2 `items` as v1 create items (price -> subtotal, description -> desc, product_id -> productId)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise invalid("items must be a list of objects.")
    out = []
    for item in value:
        v1 = {k: item[k] for k in ("name", "units", "discount", "tax", "taxes", "sku", "retention") if k in item}
        if "price" in item:
            v1["subtotal"] = item["price"]
        v1["desc"] = item.get("description") or ""
        if item.get("product_id"):
            v1["productId"] = item["product_id"]
        out.append(v1)
    return out


def _v1_body(body: dict[str, Any]) -> dict[str, Any]:
    """The v1 create body of a v2 create (or full PUT) body."""
    if not body.get("date"):
        raise invalid("date is required.")
    v1: dict[str, Any] = {
        "date": body_day(body, "date"),
        "desc": body.get("description") or "",
        "notes": body.get("notes") or "",
        "items": _items(body.get("items")),
        "tags": str_list(body.get("tags"), "tags"),
    }
    if body.get("due_date"):
        v1["dueDate"] = body_day(body, "due_date")
    renames = {"contact_id": "contactId", "contact_name": "contactName", "language": "language",
               "currency": "currency", "currency_change": "currencyChange", "number_line_id": "numSerieId",
               "sales_channel_id": "salesChannelId", "payment_method_id": "paymentMethodId"}  # fmt: skip
    v1.update({v1_name: body[name] for name, v1_name in renames.items() if body.get(name) not in (None, "")})
    return v1


def _finish(doc: Record, body: dict[str, Any], old_lines: list[dict[str, Any]]) -> Record:
    """What v1 create does not keep: line ids sent back, service ids, accounts, v2-only references."""
    known = {line.get("_lineId") for line in old_lines}
    items = body.get("items") or []
    for line, item in zip(doc["products"], items, strict=False):
        if item.get("line_id") in known:
            line["_lineId"] = item["line_id"]
        if item.get("service_id"):
            line["serviceId"] = str(item["service_id"])
        if item.get("account"):
            line["_account"] = str(item["account"])
    doc["customFields"] = documented_custom_fields(body.get("custom_fields"))
    for name, key in (("project_id", "_projectId"), ("warehouse_id", "_warehouseId")):
        if body.get(name):
            doc[key] = str(body[name])
        else:
            doc.pop(key, None)
    return compute_totals(doc)


def _creator(kind: DocKind, doc_type: str) -> Any:
    def create(app: App, body: dict[str, Any]) -> Record:
        v1 = _v1_body(body)
        if not kind.approve:
            v1["approveDoc"] = True
        return _finish(_make_document(app, v1, doc_type, numbered=not kind.approve), body, [])

    return create


def _make_document(app: App, v1: dict[str, Any], doc_type: str, numbered: bool) -> Record:
    doc = v1_result(create_document(app, v1_request(v1, docType=doc_type), numbered))
    assert doc is not None
    return doc


def _guard(kind: DocKind) -> Any:
    def guard(app: App, doc: Record, method: str) -> None:
        if method == "PUT" and not kind.full_put:
            return  # date, due_date and project_id stay editable on a final document
        if not doc["draft"]:
            verb = "deleted" if method == "DELETE" else "edited"
            raise invalid(f"Approved documents can't be {verb}.")

    return guard


# Fields a full PUT replaces (the rest: id, number, draft state, payments, status, are kept).
_REPLACED = ("contact", "contactName", "desc", "date", "dueDate", "notes", "products", "language", "currency",
             "currencyChange", "salesChannelId", "paymentMethodId", "tags", "customFields", "_projectId",
             "_warehouseId")  # fmt: skip


def _updater(kind: DocKind) -> Any:
    def full_put(app: App, body: dict[str, Any], doc: Record) -> None:
        v1 = _v1_body(body)
        v1.setdefault("numSerieId", doc.get("numSerieId", ""))
        fresh = _finish(_make_document(app, v1, kind.doc_type, numbered=False), body, doc["products"])
        for key in _REPLACED:
            if key in fresh:
                doc[key] = fresh[key]
            else:
                doc.pop(key, None)
        compute_totals(doc)

    def dates_put(app: App, body: dict[str, Any], doc: Record) -> None:
        if "date" in body:
            doc["date"] = body_day(body, "date") or doc["date"]
        if "due_date" in body:
            doc["dueDate"] = body_day(body, "due_date")
        if "project_id" in body:
            doc["_projectId"] = str(body["project_id"] or "")

    return full_put if kind.full_put else dates_put


def approve(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /<docs>/{id}/approve`: a draft becomes final and gets its number."""
    doc = record_of(app, res, req.params["id"])
    if not doc["draft"]:
        raise invalid("The document is already approved.")
    if not doc["docNumber"]:
        doc["docNumber"], series = next_number(app, res.collection, doc.get("numSerieId", ""), doc["date"])
        doc["numSerieId"] = series or doc.get("numSerieId", "")
    doc["draft"] = 0
    doc["_approvedAt"] = now()
    app.store.save(res.collection, doc)
    return json_answer({"id": doc["id"], "document_number": doc["docNumber"]})


def add_payment(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /<docs>/{id}/payments {amount, treasury_id, date, description}`: 201 {"id"} of the payment."""
    record_of(app, res, req.params["id"])
    body = body_object(req.body)
    if body.get("amount") in (None, ""):
        raise invalid("amount is required.")
    v1 = {
        "amount": body["amount"],
        "date": body_day(body, "date") or today(),
        "treasury": body.get("treasury_id") or "",
        "desc": body.get("description") or "",
    }
    answer = pay_document(app, v1_request(v1, docType=res.collection, id=req.params["id"]))
    payload = json.loads(answer.body)
    if not payload.get("status"):
        raise invalid(f"{payload.get('info', 'Payment refused')}.")
    return created(payload["paymentId"])


def bulk_delete(app: App, req: Request, res: V2Resource) -> Response:
    """`DELETE /<docs> {ids}`: 204 all deleted, 207 some, 422 none (or a bad list)."""
    ids = id_list(body_object(req.body), "ids", BULK_MAX)
    results = []
    for rid in ids:
        doc = app.store.get(res.collection, rid)
        if doc is None:
            results.append({"id": rid, "status": 404, "detail": f"{res.name} not found."})
        elif not doc["draft"]:
            results.append({"id": rid, "status": 422, "detail": "Approved documents can't be deleted."})
        else:
            app.store.delete(res.collection, rid)
            results.append({"id": rid, "status": 204, "detail": "Deleted."})
    done = sum(r["status"] == 204 for r in results)
    if done == len(results):
        return no_content()
    if done == 0:
        raise Problem(422, "No document was deleted: " + "; ".join(f"{r['id']}: {r['detail']}" for r in results))
    return json_answer({"results": results}, 207)


def refund(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /purchases/refund`: a purchase refund (v1 `purchaserefund`), a draft like a purchase."""
    body = body_object(req.body)
    doc = _creator(REFUND, "purchaserefund")(app, body)
    app.store.save("purchaserefund", doc)
    return created(doc["id"])


REFUND = DocKind("/purchases/refund", "purchaserefund", "accounting:purchases", "Purchase refund")


def _resource(kind: DocKind) -> V2Resource:
    extra = []
    if kind.approve:
        extra.append(Extra("POST", "/{id}/approve", "approve", approve))
    if kind.payments:
        extra.append(Extra("POST", "/{id}/payments", "payments_create", add_payment))
    if kind.bulk_delete:
        extra.append(Extra("DELETE", "", "bulk_delete", bulk_delete))
    if kind.doc_type == "purchase":
        extra.append(Extra("POST", "/refund", "refund_create", refund))
    return V2Resource(
        path=kind.path,
        collection=kind.doc_type,
        scope=kind.scope,
        name=kind.name,
        view=document_view,
        create=_creator(kind, kind.doc_type),
        update=_updater(kind),
        guard=_guard(kind),
        filters=FILTERS if kind.approval_filter else {k: v for k, v in FILTERS.items() if k != "approval_status"},
        default_limit=LIMIT,
        max_limit=MAX_LIMIT,
        order=_order,
        extra=tuple(extra),
    )


RESOURCES = tuple(_resource(kind) for kind in KINDS)
