"""Invoicing module: contacts, catalogue, treasury and settings lists (documents live in documents.py)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..model import intish, now, num, object_entries_custom_fields, stamp, to01, today
from ..routing import Request, Response, Router, fail, json_response, not_found, updated
from ..store import Record, object_id
from .crud import (
    Resource,
    amount,
    apply_fields,
    boolean,
    integer,
    merge,
    register,
    simple,
    string_list,
    text,
)

if TYPE_CHECKING:
    from ..server import App

M = "invoicing"

# --- contacts -------------------------------------------------------------------------------

CONTACT_FIELDS = {
    "name": text,
    "code": text,
    "tradeName": text,
    "email": text,
    "mobile": text,
    "phone": text,
    "type": text,
    "iban": text,
    "swift": text,
    "groupId": text,
    "billAddress": merge,
    "defaults": merge,
    "tags": string_list,
}
EMPTY_ADDRESS = {
    "address": "",
    "city": "",
    "postalCode": "",
    "province": "",
    "country": "",
    "countryCode": "",
    "info": "",
}


def _ledger_record(value: Any, name: str) -> Any:
    """clientRecord/supplierRecord read back as 0 or {num, name} (written as an account number)."""
    if isinstance(value, dict):
        return value
    account = int(num(value))
    return {"num": account, "name": name} if account else 0


def _shipping(entries: Any) -> list[dict[str, Any]]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            out.append(
                {
                    "shippingId": object_id(),
                    "name": text(entry.get("name")),
                    "address": text(entry.get("address")),
                    "city": text(entry.get("city")),
                    "postalCode": text(entry.get("postalCode")),
                    "province": text(entry.get("province")),
                    "country": text(entry.get("country")),
                    "countryCode": text(entry.get("countryCode")),
                    "notes": text(entry.get("notes", entry.get("note"))),  # written as note, read as notes
                    "privateNotes": text(entry.get("privateNotes", entry.get("privateNote"))),
                }
            )
    return out


def _persons(entries: Any) -> list[dict[str, Any]]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            out.append(
                {
                    "personId": object_id(),
                    "name": text(entry.get("name")),
                    "job": text(entry.get("job")),
                    "phone": text(entry.get("phone")),
                    "email": text(entry.get("email")),
                    "sendDocumentsByDefault": bool(entry.get("sendDocumentsByDefault", False)),
                    "linkedin": text(entry.get("linkedin")),
                }
            )
    return out


def _contact_extras(record: Record, body: dict[str, Any], creating: bool) -> None:
    if "CustomId" in body:  # the write name; reads answer `customId`
        record["customId"] = text(body["CustomId"])
    if "isperson" in body:
        record["isperson"] = to01(body["isperson"])
    for key in ("clientRecord", "supplierRecord"):
        if key in body:
            record[key] = _ledger_record(body[key], record["name"])
    if "customFields" in body:
        record["customFields"] = object_entries_custom_fields(body["customFields"])
    if "shippingAddresses" in body:
        record["shippingAddresses"] = _shipping(body["shippingAddresses"])
    if "contactPersons" in body:
        record["contactPersons"] = _persons(body["contactPersons"])
    if creating and "socialNetworks" in body and isinstance(body["socialNetworks"], dict):
        record["socialNetworks"] = {"website": "", **body["socialNetworks"]}  # ignored on update (Holded no-op)
    if creating and body.get("note"):
        record["notes"] = [
            {
                "noteId": object_id(),
                "name": "",
                "description": text(body["note"]),
                "color": "",
                "updatedAt": record["createdAt"],
                "userId": "",
            }
        ]
    if isinstance(record.get("billAddress"), dict):
        record["billAddress"] = {**EMPTY_ADDRESS, **record["billAddress"]}
        record["billAddress"]["postalCode"] = text(record["billAddress"]["postalCode"])


def create_contact(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    ts = now()
    record: Record = {
        "id": object_id(ts),
        "customId": "",
        "name": "",
        "code": "",
        "tradeName": "",
        "email": "",
        "mobile": "",
        "phone": "",
        "type": "client",
        "iban": "",
        "swift": "",
        "groupId": "",
        "clientRecord": 0,
        "supplierRecord": 0,
        "billAddress": dict(EMPTY_ADDRESS, country="España", countryCode="ES"),
        "customFields": [],
        "defaults": {
            "salesChannel": 0,
            "expensesAccount": 0,
            "dueDays": 0,
            "paymentMethod": 0,
            "discount": 0,
            "language": "es",
            "currency": "eur",
            "tax": "default",
            "retention": "default",
        },
        "socialNetworks": {"website": ""},
        "tags": [],
        "notes": [],
        "contactPersons": [],
        "shippingAddresses": [],
        "isperson": 0,
        "createdAt": ts,
    }
    apply_fields(record, body, CONTACT_FIELDS)
    _contact_extras(record, body, creating=True)
    return stamp(record, ts)


def update_contact(app: App, req: Request, record: Record) -> Response | None:
    apply_fields(record, req.body, CONTACT_FIELDS)
    _contact_extras(record, req.body, creating=False)
    stamp(record, now())
    return None


def filter_contacts(app: App, req: Request, records: list[Record]) -> list[Record]:
    q = req.query
    if q.get("phone"):
        records = [r for r in records if r["phone"] == q["phone"]]
    if q.get("mobile"):
        records = [r for r in records if r["mobile"] == q["mobile"]]
    if q.get("customId"):
        wanted = {v.strip() for v in q["customId"].split(",") if v.strip()}
        records = [r for r in records if r["customId"] in wanted]
    return records


def contact_attachments(app: App, req: Request) -> Response:
    if app.store.get("contacts", req.params["id"]) is None:
        return not_found()
    if req.path.endswith("/get"):
        return fail("No attachments found")
    return json_response([])


# --- products and services ------------------------------------------------------------------

PRODUCT_FIELDS = {
    "kind": text,
    "name": text,
    "desc": text,
    "price": amount,
    "subtotal": amount,
    "tax": lambda v: intish(num(v)),
    "cost": amount,
    "purchasePrice": amount,
    "tags": string_list,
    "barcode": text,
    "sku": text,
    "weight": lambda v: intish(num(v)),
    "stock": integer,
}
PRODUCT_DEFAULTS = {
    "kind": "simple",
    "name": "",
    "desc": "",
    "typeId": "",
    "contactId": "",
    "contactName": "",
    "price": 0,
    "tax": 21,
    "total": 0,
    "rates": [],
    "hasStock": 0,
    "stock": 0,
    "barcode": "",
    "sku": "",
    "cost": 0,
    "purchasePrice": 0,
    "weight": 0,
    "tags": [],
    "categoryId": "",
    "factoryCode": "",
    "attributes": [],
    "forSale": 1,
    "forPurchase": 1,
    "salesChannelId": "",
    "expAccountId": "",
    "warehouseId": "",
    "variants": [],
}


def _priced(record: Record, price_key: str) -> Record:
    """Products are written with price (create) or subtotal (update); reads carry price and total."""
    if price_key == "price" and "subtotal" in record:
        record["price"] = record.pop("subtotal")
    record["total"] = round(num(record[price_key]) * (1 + num(record["tax"]) / 100), 2)
    if price_key == "price":
        record["hasStock"] = 1 if record["stock"] else record["hasStock"]
    return record


def product_resource() -> Resource:
    return simple(M, "/products", "products", PRODUCT_FIELDS, PRODUCT_DEFAULTS, derive=lambda r: _priced(r, "price"))


def product_stock(app: App, req: Request) -> Response:
    product = app.store.get("products", req.params["id"])
    if product is None:
        return not_found()
    stock = req.body.get("stock") if isinstance(req.body, dict) else None
    if not isinstance(stock, dict):
        return fail("stock needed")
    for per_item in stock.values():  # {warehouseId: {productId or variantId: units to add}}
        for units in (per_item or {}).values() if isinstance(per_item, dict) else []:
            product["stock"] = int(product["stock"] + num(units))
    product["hasStock"] = 1
    app.store.save("products", product)
    return updated(product["id"])


SERVICE_FIELDS = {
    "name": text,
    "desc": text,
    "tags": string_list,
    "tax": lambda v: intish(num(v)),
    "subtotal": amount,
    "salesChannelId": text,
    "cost": amount,
}


def service_resource() -> Resource:
    defaults = {
        "name": "",
        "desc": "",
        "tags": [],
        "tax": 21,
        "subtotal": 0,
        "total": 0,
        "salesChannelId": "",
        "cost": 0,
    }
    return simple(M, "/services", "services", SERVICE_FIELDS, defaults, derive=lambda r: _priced(r, "subtotal"))


# --- warehouses, treasury, settings -----------------------------------------------------------


def warehouse_stock(app: App, req: Request) -> Response:
    warehouse = app.store.get("warehouses", req.params["id"])
    if warehouse is None:
        return not_found()
    products = [
        {"_id": p["id"], "stock": p["stock"], "variants": {}}
        for p in app.store.all("products")
        if p["hasStock"] and (p["warehouseId"] == warehouse["id"] or (warehouse["default"] and not p["warehouseId"]))
    ]
    return json_response(
        {"warehouse": {"id": warehouse["id"], "name": warehouse["name"], "color": "", "products": products}}
    )


def filter_series(app: App, req: Request, records: list[Record]) -> list[Record]:
    kind = req.params["type"].lower()
    return [r for r in records if r["type"].lower() == kind]


def create_series(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    if not body.get("name"):
        return fail("name needed")
    return {
        "id": object_id(),
        "name": text(body["name"]),
        "format": text(body.get("format") or "%%%%"),
        "last": integer(body.get("last", 0)),
        "type": req.params["type"],
    }


def filter_dates(app: App, req: Request, records: list[Record]) -> list[Record]:
    """starttmp/endtmp (unix seconds) on the business `date`, both inclusive."""
    start, end = req.query.get("starttmp"), req.query.get("endtmp")
    if start:
        records = [r for r in records if r["date"] >= num(start)]
    if end:
        records = [r for r in records if r["date"] <= num(end)]
    return records


def create_payment(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    contact = app.store.get("contacts", text(body.get("contactId")))
    record = {
        "id": object_id(),
        "bankId": text(body.get("bankId")),
        "contactId": contact["id"] if contact else "",
        "contactName": contact["name"] if contact else "",
        "amount": intish(amount(body.get("amount", 0))),
        "desc": text(body.get("desc")),
        "date": integer(body.get("date") or today()),  # a day: 00:00 in Madrid
    }
    if body.get("documentId"):
        record["documentId"] = text(body["documentId"])
    return record


def update_payment(app: App, req: Request, record: Record) -> Response | None:
    apply_fields(record, req.body, {"bankId": text, "desc": text, "date": integer})
    if "amount" in req.body:
        record["amount"] = intish(amount(req.body["amount"]))
    if "contactId" in req.body:
        contact = app.store.get("contacts", text(req.body["contactId"]))
        record["contactId"], record["contactName"] = (contact["id"], contact["name"]) if contact else ("", "")
    return None


def _account_fields() -> dict[str, Any]:
    return {"name": text, "desc": text, "color": text, "accountNum": integer}


def _with_acc_num(res: Resource) -> Resource:
    """Expense accounts and sales channels are written with accountNum and read with accNum."""
    base_create, base_update = res.create, res.update
    assert base_create is not None and base_update is not None

    def create(app: App, req: Request) -> Record | Response:
        record = base_create(app, req)
        if not isinstance(record, Response):
            record["accNum"] = record.pop("accountNum", 0)
        return record

    def update(app: App, req: Request, record: Record) -> Response | None:
        base_update(app, req, record)
        if "accountNum" in record:
            record["accNum"] = record.pop("accountNum")
        return None

    res.create, res.update = create, update
    return res


def contact_group_resource() -> Resource:
    """v1 contact groups (`/contacts/groups`); API v2 runs the same create and update."""
    return simple(
        M,
        "/contacts/groups",
        "contactgroups",
        {"name": text, "desc": text, "color": text},
        {"name": "", "desc": "", "color": ""},
        required=("name",),
    )


def warehouse_resource() -> Resource:
    """v1 warehouses; API v2 runs the same create and update."""
    return simple(
        M,
        "/warehouses",
        "warehouses",
        {"name": text, "email": text, "phone": text, "mobile": text, "address": merge, "default": boolean},
        {
            "userId": "",
            "name": "",
            "email": "",
            "phone": "",
            "mobile": "",
            "default": False,
            "warehouseRecord": 0,
            "address": {
                "address": "",
                "city": "",
                "postalCode": "",
                "province": "",
                "country": "",
                "countryCode": "",
            },
        },
        required=("name",),
    )


def account_resource(coll: str) -> Resource:
    """v1 expense accounts or sales channels (`/expensesaccounts`, `/saleschannels`: path = collection)."""
    return _with_acc_num(
        simple(
            M,
            f"/{coll}",
            coll,
            _account_fields(),
            {"name": "", "desc": "", "color": "#6B7280"},
            required=("name", "accountNum"),
        )
    )


def untagged(app: App, record: Record) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k != "id" and not k.startswith("_")}


def register_routes(router: Router) -> None:
    register(
        router,
        Resource(M, "/contacts", "contacts", create=create_contact, update=update_contact, filter=filter_contacts),
    )
    router.add("GET", f"/{M}/v1/contacts/{{id}}/attachments/list", contact_attachments)
    router.add("GET", f"/{M}/v1/contacts/{{id}}/attachments/get", contact_attachments)
    register(router, contact_group_resource())
    register(router, product_resource())
    router.add("PUT", f"/{M}/v1/products/{{id}}/stock", product_stock)
    register(router, service_resource())
    register(router, warehouse_resource())
    router.add("GET", f"/{M}/v1/warehouses/{{id}}/stock", warehouse_stock)
    register(router, Resource(M, "/taxes", "taxes", view=untagged, ops="L"))
    register(
        router,
        simple(
            M,
            "/treasury",
            "treasury",
            {
                "name": text,
                "type": text,
                "balance": amount,
                "accountNumber": integer,
                "iban": text,
                "swift": text,
                "bank": text,
                "bankname": text,
            },
            {
                "name": "",
                "type": "bank",
                "balance": 0,
                "accountNumber": 0,
                "iban": "",
                "swift": "",
                "bank": "",
                "bankname": "",
            },
            required=("name",),
            ops="LCG",
        ),
    )
    register(
        router,
        simple(
            M,
            "/numberingseries/{type}",
            "numberingseries",
            {"name": text, "format": text, "last": integer},
            {},
            create=create_series,
            filter=filter_series,
            ops="LCUD",
        ),
    )
    for coll in ("expensesaccounts", "saleschannels"):
        register(router, account_resource(coll))
    register(
        router, Resource(M, "/payments", "payments", create=create_payment, update=update_payment, filter=filter_dates)
    )
    register(router, Resource(M, "/paymentmethods", "paymentmethods", ops="L"))
    register(router, Resource(M, "/remittances", "remittances", ops="LG"))
