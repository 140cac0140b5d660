"""Holded's webhook events: the catalogue, the payload of each object, and the store observer that emits them.

The catalogue is Holded's: 18 objects, 58 events `<object>.<action>`
(shared/holded-api/v2/README.md, "Webhooks"). Collections map to objects one to one (a document
collection is its docType); stock has no collection of its own: it is a product's `stock` field.
Leads, funnels, CRM events, projects, tasks, employees and the ledger emit nothing, as in Holded.

Invariants of `EventObserver` (attached to `Store.observer` only while a webhook is registered):
- a `save` emits `<object>.create` when the id was new, else `<object>.update`; a document of a type
  that has `approve` emits `<object>.approve` instead of `update` when its `draft` flag goes from 1
  to 0 (a document created approved emits only `create`);
- a product save whose `stock` changed emits `stock.update`, plus `product.update` only if something
  other than `stock`/`hasStock` changed; a product created with stock emits only `product.create`;
- a `delete` emits `<object>.delete`, its payload the record as it was plus `deletedAt`;
- payloads are built at the moment of the change (a later change never alters a queued event), and
  only for events some webhook subscribes to; the draft flags and product stock it compares with
  are remembered from the previous save (rebuilt by `resync` after unreported bulk writes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from .model import ACCOUNT_ZONE, DOC_TYPES, intish, num, to01
from .store import Record, Store, dumps

APPROVABLE = ("invoice", "creditnote", "salesreceipt", "purchase", "purchaserefund", "receiptnote")
PLAIN = (
    "proform",
    "estimate",
    "salesorder",
    "waybill",
    "service",
    "receipt",
    "purchaseorder",
    "payment",
    "contact",
    "product",
    "warehouse",
)
OBJECTS: dict[str, tuple[str, ...]] = {
    **{name: ("create", "update", "delete", "approve") for name in APPROVABLE},
    **{name: ("create", "update", "delete") for name in PLAIN},
    "stock": ("update",),
}
EVENTS: frozenset[str] = frozenset(f"{obj}.{action}" for obj, actions in OBJECTS.items() for action in actions)
assert len(OBJECTS) == 18 and len(EVENTS) == 58

# Document-like objects: every docType, plus `receipt`, which v1 does not serve (no collection is seeded);
# a collection named `receipt` (e.g. one the v2 dialect adds) emits receipt.* with the document shape.
DOCUMENT_OBJECTS = frozenset([*DOC_TYPES, "receipt"])
OBJECT_OF_COLLECTION: dict[str, str] = {
    **{name: name for name in DOCUMENT_OBJECTS},
    "contacts": "contact",
    "products": "product",
    "services": "service",
    "warehouses": "warehouse",
    "payments": "payment",
}
_STOCK_FIELDS = ("stock", "hasStock")

Emit = Callable[[str, dict[str, Any]], None]


def instant(ts: Any) -> str | None:
    """Unix seconds -> ISO 8601 UTC (`2025-01-15T10:00:00Z`); None when absent."""
    if not isinstance(ts, int | float) or isinstance(ts, bool) or not ts:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(ts: Any) -> str | None:
    """A Holded calendar day (unix seconds of 00:00 in Madrid) -> `YYYY-MM-DD`; None when absent."""
    if not isinstance(ts, int | float) or isinstance(ts, bool) or not ts:
        return None
    return dt.datetime.fromtimestamp(ts, ACCOUNT_ZONE).date().isoformat()


def now_instant() -> str:
    """The current instant as the payloads and headers write it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Any) -> int | float:
    """Amounts as Holded's JSON writes them: 2 decimals, whole numbers without `.0`."""
    return intish(round(num(value), 2))


def document_payload(obj: str, doc: Record) -> dict[str, Any]:
    """`{id, type, documentNumber, date, dueDate, contactId, contactName, total, subtotal, isDraft}`."""
    return {
        "id": doc["id"],
        "type": obj,
        "documentNumber": doc.get("docNumber") or None,  # null until numbered (v2 drafts)
        "date": day(doc.get("date")),
        "dueDate": day(doc.get("dueDate")),
        "contactId": doc.get("contact", ""),
        "contactName": doc.get("contactName", ""),
        "total": _money(doc.get("total")),
        "subtotal": _money(doc.get("subtotal")),
        "isDraft": bool(to01(doc.get("draft", 0))),
    }


def contact_payload(contact: Record) -> dict[str, Any]:
    """`{id, name, email, isPerson, createdAt}`."""
    return {
        "id": contact["id"],
        "name": contact.get("name", ""),
        "email": contact.get("email", ""),
        "isPerson": bool(to01(contact.get("isperson", 0))),
        "createdAt": instant(contact.get("createdAt")),
    }


def product_payload(product: Record) -> dict[str, Any]:
    """`{id, name, sku, kind, price, tax, stock}`."""
    return {
        "id": product["id"],
        "name": product.get("name", ""),
        "sku": product.get("sku", ""),
        "kind": product.get("kind", "simple"),
        "price": _money(product.get("price")),
        "tax": intish(num(product.get("tax"))),
        "stock": intish(num(product.get("stock"))),
    }


def stock_payload(product: Record, previous: Any) -> dict[str, Any]:
    """`{id, name, sku, warehouseId, stock, variation}`: `id` is the product's, `variation` the change."""
    stock = num(product.get("stock"))
    return {
        "id": product["id"],
        "name": product.get("name", ""),
        "sku": product.get("sku", ""),
        "warehouseId": product.get("warehouseId", ""),
        "stock": intish(stock),
        "variation": intish(stock - num(previous)),
    }


def service_payload(service: Record) -> dict[str, Any]:
    """`{id, name, subtotal, tax, total}`."""
    return {
        "id": service["id"],
        "name": service.get("name", ""),
        "subtotal": _money(service.get("subtotal")),
        "tax": intish(num(service.get("tax"))),
        "total": _money(service.get("total")),
    }


def warehouse_payload(warehouse: Record) -> dict[str, Any]:
    """`{id, name, email, isDefault}`."""
    return {
        "id": warehouse["id"],
        "name": warehouse.get("name", ""),
        "email": warehouse.get("email", ""),
        "isDefault": bool(warehouse.get("default", False)),
    }


def payment_payload(payment: Record) -> dict[str, Any]:
    """`{id, date, amount, description, contactId, contactName, treasuryId, documentId, documentType}`."""
    return {
        "id": payment["id"],
        "date": day(payment.get("date")),
        "amount": _money(payment.get("amount")),
        "description": payment.get("desc", ""),
        "contactId": payment.get("contactId", ""),
        "contactName": payment.get("contactName", ""),
        "treasuryId": payment.get("bankId", ""),
        "documentId": payment.get("documentId") or None,
        "documentType": payment.get("docType") or None,
    }


def payload(obj: str, record: Record) -> dict[str, Any]:
    """The summary Holded sends for `record`, an instance of webhook object `obj` (not `stock`)."""
    if obj in DOCUMENT_OBJECTS:
        return document_payload(obj, record)
    builders: dict[str, Callable[[Record], dict[str, Any]]] = {
        "contact": contact_payload,
        "product": product_payload,
        "service": service_payload,
        "warehouse": warehouse_payload,
        "payment": payment_payload,
    }
    return builders[obj](record)


def _product_signature(product: Record) -> str:
    body = {k: v for k, v in product.items() if not k.startswith("_") and k not in _STOCK_FIELDS}
    return hashlib.md5(dumps(body)).hexdigest()


class EventObserver:
    """Turns store writes into webhook events (see the module invariants); plugs into `Store.observer`.

    Args:
        emit: called as `emit("invoice.approve", payload)` for each event some webhook wants, under the
            store lock (so it must only queue).
    """

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self.wanted: frozenset[str] = frozenset()  # the events at least one webhook subscribes to
        self._drafts: dict[tuple[str, str], int] = {}  # (collection, id) -> draft flag, approvable docs
        self._products: dict[str, tuple[Any, str]] = {}  # id -> (stock, signature without stock)

    def resync(self, store: Store) -> None:
        """Remember the draft flags and product stock now in the store (after a bulk, unreported change)."""
        with store.lock:
            self._drafts = {
                (name, rid): to01(doc.get("draft", 0))
                for name in APPROVABLE
                for rid, doc in store.coll(name).records.items()
            }
            self._products = {
                rid: (p.get("stock"), _product_signature(p)) for rid, p in store.coll("products").records.items()
            }

    def saved(self, name: str, record: Record, existed: bool) -> None:
        """A save in `name`: emit create / update / approve (and stock.update for products)."""
        obj = OBJECT_OF_COLLECTION.get(name)
        if obj is None:
            return
        if obj == "product":
            self._product_saved(record, existed)
            return
        action = "update" if existed else "create"
        if obj in APPROVABLE:
            draft = to01(record.get("draft", 0))
            before = self._drafts.get((name, record["id"]))
            self._drafts[(name, record["id"])] = draft
            if existed and before == 1 and draft == 0:
                action = "approve"
        self._send(f"{obj}.{action}", obj, record)

    def deleted(self, name: str, record: Record) -> None:
        """A delete in `name`: emit `<object>.delete` with `deletedAt`."""
        obj = OBJECT_OF_COLLECTION.get(name)
        if obj is None:
            return
        self._drafts.pop((name, record["id"]), None)
        if obj == "product":
            self._products.pop(record["id"], None)
        event = f"{obj}.delete"
        if event in self.wanted:
            self._emit(event, {**payload(obj, record), "deletedAt": now_instant()})

    def _product_saved(self, product: Record, existed: bool) -> None:
        stock, signature = product.get("stock"), _product_signature(product)
        before = self._products.get(product["id"])
        self._products[product["id"]] = (stock, signature)
        if not existed:
            self._send("product.create", "product", product)
            return
        if before is None or before[1] != signature:
            self._send("product.update", "product", product)
        if before is not None and num(before[0]) != num(stock) and "stock.update" in self.wanted:
            self._emit("stock.update", stock_payload(product, before[0]))

    def _send(self, event: str, obj: str, record: Record) -> None:
        if event in self.wanted:
            self._emit(event, payload(obj, record))
