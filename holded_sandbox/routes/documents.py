"""Invoicing documents for every docType: lines, totals, numbering, payments, approval."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ..fakedata import money
from ..model import (
    DOC_TYPES,
    PURCHASE_TYPES,
    add_days,
    compute_totals,
    day_year,
    documented_custom_fields,
    format_number,
    intish,
    line_from_item,
    num,
    object_entries_custom_fields,
    refresh_payments,
    to01,
)
from ..routing import Request, Response, Router, fail, json_response, not_found
from ..store import Record, object_id
from .crud import Resource, apply_fields, integer, register, string_list, text

if TYPE_CHECKING:
    from ..server import App

BASE = "/invoicing/v1/documents/{docType}/{id}"
# A one-page blank PDF, served base64-encoded like Holded's /pdf answer.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def doc_collection(req: Request) -> str | Response:
    doc_type = req.params.get("docType", "")
    return doc_type if doc_type in DOC_TYPES else fail(f"Invalid docType: {doc_type}")


def _lines(app: App, items: Any, doc_type: str) -> list[dict[str, Any]]:
    by_sku = {p["sku"]: p for p in app.store.all("products") if p["sku"]}
    purchase = doc_type in PURCHASE_TYPES
    return (
        [line_from_item(i, by_sku, purchase) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    )


def _contact_for(app: App, body: dict[str, Any], doc_type: str) -> Record | Response | None:
    """contactId, else an existing contact with contactCode, else a new contact from contactName."""
    if body.get("contactId"):
        contact = app.store.get("contacts", text(body["contactId"]))
        return contact if contact is not None else fail("Contact not found")
    code = text(body.get("contactCode")).strip()
    if code:
        for contact in app.store.all("contacts"):
            if contact["code"] == code:
                return contact
    if not body.get("contactName"):
        return None
    from .invoicing import create_contact  # a document for an unknown contact creates that contact

    fake = Request(
        "POST",
        "",
        {},
        {
            "name": body["contactName"],
            "code": code,
            "email": text(body.get("contactEmail")),
            "type": "supplier" if doc_type in PURCHASE_TYPES else "client",
            "billAddress": {
                "address": text(body.get("contactAddress")),
                "city": text(body.get("contactCity")),
                "postalCode": text(body.get("contactCp")),
                "province": text(body.get("contactProvince")),
                "countryCode": text(body.get("contactCountryCode")) or "ES",
            },
        },
        {},
    )
    contact = create_contact(app, fake)
    assert isinstance(contact, dict)
    return app.store.save("contacts", contact)


def next_number(app: App, doc_type: str, series_id: str, date: int) -> tuple[str, str]:
    """(the next number of the series `series_id`, or of the docType's default series; that series' id)."""
    series = app.store.get("numberingseries", series_id) if series_id else None
    if series is None:
        series = next((s for s in app.store.all("numberingseries") if s["type"] == doc_type), None)
    if series is None:
        return "", ""
    series["last"] = int(series["last"]) + 1
    app.store.save("numberingseries", series)
    return format_number(series["format"], series["last"], day_year(date)), series["id"]


def create_document(app: App, req: Request, numbered: bool = True) -> Record | Response:
    """A document from a v1 create body; `numbered=False` (API v2 drafts) leaves `docNumber` empty and
    only remembers the series (`numSerieId`) for the number given at approval."""
    body = req.body if isinstance(req.body, dict) else {}
    doc_type = req.params["docType"]
    if not body.get("date"):
        return fail("date needed")
    contact = _contact_for(app, body, doc_type)
    if isinstance(contact, Response):
        return contact
    date = integer(body["date"])
    # With the quirk switch on, a sales document's numbering series overrides the number sent (purchases
    # keep the supplier's): shared/holded-api/README.md, "what integrators report".
    series_wins = app.faults.series_overrides_number and doc_type not in PURCHASE_TYPES
    if not numbered:
        number, series_id = "", text(body.get("numSerieId"))
    elif body.get("invoiceNum") and not series_wins:
        number, series_id = text(body["invoiceNum"]), ""
    else:
        number, series_id = next_number(app, doc_type, text(body.get("numSerieId")), date)
    due_days = contact["defaults"].get("dueDays", 0) if contact else 0
    doc: Record = {
        "id": object_id(),
        "contact": contact["id"] if contact else "",
        "contactName": contact["name"] if contact else "",
        "desc": text(body.get("desc")),
        "date": date,
        "dueDate": integer(body.get("dueDate") or add_days(date, int(num(due_days)))),
        "notes": text(body.get("notes")),
        "products": _lines(app, body.get("items"), doc_type),
        "tax": 0,
        "subtotal": 0,
        "discount": 0,
        "total": 0,
        "language": text(body.get("language")) or "es",
        "status": 0,
        "customFields": object_entries_custom_fields(body.get("customFields")),
        "docNumber": number,
        "currency": (text(body.get("currency")) or "eur").lower(),
        "currencyChange": intish(num(body.get("currencyChange"), 1)),
        "paymentsTotal": 0,
        "paymentsPending": 0,
        "paymentsRefunds": 0,
        "salesChannelId": text(body.get("salesChannelId")),
        "paymentMethodId": text(body.get("paymentMethodId")),
        "tags": string_list(body.get("tags")),
        "draft": 0 if to01(body.get("approveDoc")) else 1,
        "paymentsDetail": [],
        "numSerieId": series_id,
        "_docType": doc_type,
        "_billed": 0,
    }
    if app.faults.imported_status and body.get("status") in (0, 1, 2, "0", "1", "2"):
        doc["_storedStatus"] = int(body["status"])  # imported: the badge stays whatever payments say
    return compute_totals(doc)


def document_answer(app: App, doc: Record) -> Response:
    return json_response(
        {"status": 1, "id": doc["id"], "invoiceNum": doc["docNumber"], "contactId": doc["contact"]}, 201
    )


def guard_approved(app: App, req: Request, doc: Record) -> Response | None:
    if doc["draft"]:
        return None
    return fail(
        "Approved documents can't be deleted" if req.method == "DELETE" else "Approved documents can't be edited"
    )


def update_document(app: App, req: Request, doc: Record) -> Response | None:
    body = req.body
    apply_fields(
        doc,
        body,
        {
            "desc": text,
            "notes": text,
            "language": text,
            "date": integer,
            "salesChannelId": text,
            "tags": string_list,
            "dueDate": integer,
        },
    )
    if "paymentMethod" in body:
        doc["paymentMethodId"] = text(body["paymentMethod"])
    if "customFields" in body:  # update honours the documented shape (create does not)
        doc["customFields"] = documented_custom_fields(body["customFields"])
    if "items" in body:
        doc["products"] = _lines(app, body["items"], doc["_docType"])
    # No `approveDoc` here: Holded's "Update Document" takes none and v1 has no approve route
    # (openapi-v1/invoice.json); a draft is approved only as it is created. An update leaves it a draft.
    compute_totals(doc)  # a `status` in the body is ignored: it follows payments
    return None


def filter_documents(app: App, req: Request, records: list[Record]) -> list[Record]:
    q = req.query
    if q.get("starttmp"):
        records = [d for d in records if d["date"] >= num(q["starttmp"])]
    if q.get("endtmp"):
        records = [d for d in records if d["date"] <= num(q["endtmp"])]
    if q.get("contactid"):
        records = [d for d in records if d["contact"] == q["contactid"]]
    if q.get("paid", "") != "":
        records = [d for d in records if str(d["status"]) == q["paid"]]
    if q.get("billed", "") != "":
        records = [d for d in records if str(d["_billed"]) == q["billed"]]
    if q.get("sort") == "created-desc":
        records = records[::-1]  # storage order is creation order
    return records


def _doc(app: App, req: Request) -> Record | Response:
    coll = doc_collection(req)
    if isinstance(coll, Response):
        return coll
    doc = app.store.get(coll, req.params["id"])
    return doc if doc is not None else not_found()


def pay_document(app: App, req: Request) -> Response:
    doc = _doc(app, req)
    if isinstance(doc, Response):
        return doc
    body = req.body if isinstance(req.body, dict) else {}
    if "amount" not in body:
        return fail("amount needed")
    if not body.get("date"):
        return fail("date needed")
    paid = money(num(body["amount"]))
    bank = text(body.get("treasury") or body.get("bankId"))  # Holded accepts both names
    date = integer(body["date"])
    purchase = doc["_docType"] in PURCHASE_TYPES
    desc = text(body.get("desc")) or f"{'Pago' if purchase else 'Cobro'} {doc['docNumber']}"
    payment = {
        "id": object_id(),
        "bankId": bank,
        "contactId": doc["contact"],
        "contactName": doc["contactName"],
        "amount": intish(-paid if purchase else paid),
        "desc": desc,
        "date": date,
        "documentId": doc["id"],
        "docType": doc["_docType"],
    }
    app.store.save("payments", payment)
    doc["paymentsDetail"].append(
        {"paymentId": payment["id"], "date": date, "amount": paid, "bankId": bank, "desc": desc}
    )
    app.store.save(doc["_docType"], refresh_payments(doc))
    return json_response(
        {"status": 1, "invoiceId": doc["id"], "invoiceNum": doc["docNumber"], "paymentId": payment["id"]}
    )


def send_document(app: App, req: Request) -> Response:
    doc = _doc(app, req)
    if isinstance(doc, Response):
        return doc
    body = req.body if isinstance(req.body, dict) else {}
    if not (body.get("emails") or body.get("email")):
        return fail("emails needed")
    return json_response({"status": 1, "info": "Document sent"})


def document_pdf(app: App, req: Request) -> Response:
    doc = _doc(app, req)
    if isinstance(doc, Response):
        return doc
    return json_response({"status": 1, "data": base64.b64encode(_PDF).decode()})


def _shipped(doc: Record) -> list[float]:
    shipped = doc.setdefault("_shipped", [0.0] * len(doc["products"]))
    shipped.extend([0.0] * (len(doc["products"]) - len(shipped)))
    return shipped


def ship(app: App, req: Request) -> Response:
    req.params["docType"] = "salesorder"
    doc = _doc(app, req)
    if isinstance(doc, Response):
        return doc
    shipped = _shipped(doc)
    if req.path.endswith("/shipall"):
        for index, line in enumerate(doc["products"]):
            shipped[index] = num(line["units"])
    else:
        lines = req.body.get("lines") if isinstance(req.body, dict) else None
        for entry in lines if isinstance(lines, list) else []:
            index = int(num(entry.get("itemLinePosition"), -1)) if isinstance(entry, dict) else -1
            if 0 <= index < len(shipped):
                shipped[index] = min(num(doc["products"][index]["units"]), shipped[index] + num(entry.get("units")))
    app.store.save("salesorder", doc)
    return json_response({"status": 1, "info": "Items Shipped"})


def shipped_items(app: App, req: Request) -> Response:
    doc = _doc(app, req)
    if isinstance(doc, Response):
        return doc
    shipped = _shipped(doc)
    return json_response(
        [
            {
                "name": line["name"],
                "sku": line["sku"],
                "total": line["units"],
                "sent": intish(sent),
                "pending": intish(num(line["units"]) - sent),
            }
            for line, sent in zip(doc["products"], shipped, strict=False)
        ]
    )


def simple_ack(info: str, key: str = "info") -> Any:
    def handler(app: App, req: Request) -> Response:
        doc = _doc(app, req)
        return doc if isinstance(doc, Response) else json_response({"status": 1, key: info})

    return handler


def register_routes(router: Router) -> None:
    register(
        router,
        Resource(
            "invoicing",
            "/documents/{docType}",
            doc_collection,
            create=create_document,
            update=update_document,
            guard=guard_approved,
            filter=filter_documents,
            answer=document_answer,
        ),
    )
    router.add("POST", BASE + "/pay", pay_document)
    router.add("POST", BASE + "/send", send_document)
    router.add("GET", BASE + "/pdf", document_pdf)
    router.add("GET", BASE + "/shippeditems", shipped_items)
    router.add("POST", "/invoicing/v1/documents/salesorder/{id}/shipall", ship)
    router.add("POST", "/invoicing/v1/documents/salesorder/{id}/shipbylines", ship)
    router.add("POST", BASE + "/attach", simple_ack("File attached"))
    router.add("POST", BASE + "/updatetracking", simple_ack("Updated", "data"))
    router.add("POST", BASE + "/pipeline/set", simple_ack("Done"))
