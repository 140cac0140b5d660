"""API v2 sales and purchase documents: items in / lines out, drafts and approval, PUT rules, bulk delete."""

from __future__ import annotations

import pytest

V1_INVOICES = "/invoicing/v1/documents/invoice"


def _contact(v2) -> str:
    return v2.get("/contacts", params={"limit": 1}).json()["items"][0]["id"]


def _invoice(v2, **extra) -> str:
    body = {
        "contact_id": _contact(v2),
        "date": "2024-01-01",
        "items": [{"name": "Soporte", "price": 100, "units": 2, "tax": 21}, {"name": "Cable", "price": "5.5"}],
        **extra,
    }
    resp = v2.post("/invoices", json=body)
    assert resp.status_code == 201 and list(resp.json()) == ["id"], resp.text
    return resp.json()["id"]


def test_items_in_lines_out_with_stable_line_ids(v2):
    rid = _invoice(v2)
    doc = v2.get(f"/invoices/{rid}").json()
    assert "items" not in doc and [line["name"] for line in doc["lines"]] == ["Soporte", "Cable"]
    first = doc["lines"][0]
    assert first["price"] == "100.00" and first["units"] == 2 and len(first["line_id"]) == 24
    assert doc["subtotal"] == "205.50" and doc["tax"] == "43.16" and doc["total"] == "248.66"
    assert doc["date"] == "2024-01-01" and doc["currency"] == "EUR"
    assert v2.get(f"/invoices/{rid}").json()["lines"] == doc["lines"]  # stable across reads
    v1 = v2.v1.get(f"{V1_INVOICES}/{rid}").json()
    assert v1["date"] == 1_704_063_600 and "line_id" not in v1["products"][0] and "_lineId" not in v1["products"][0]
    assert all(len(line["line_id"]) == 24 for d in v2.get("/invoices").json()["items"] for line in d["lines"])


def test_new_documents_are_drafts_and_approve_numbers_them(v2):
    rid = _invoice(v2)
    draft = v2.get(f"/invoices/{rid}").json()
    assert draft["draft"] is True and draft["document_number"] is None and draft["approved_at"] is None
    resp = v2.post(f"/invoices/{rid}/approve")
    assert resp.status_code == 200 and resp.json()["document_number"].startswith("F24")
    final = v2.get(f"/invoices/{rid}").json()
    assert final["draft"] is False and final["document_number"] == resp.json()["document_number"]
    assert final["approved_at"].endswith("Z")
    assert v2.v1.get(f"{V1_INVOICES}/{rid}").json()["docNumber"] == final["document_number"]
    second = _invoice(v2)
    number = v2.post(f"/invoices/{second}/approve").json()["document_number"]
    assert int(number[3:]) == int(final["document_number"][3:]) + 1  # the series' next number
    assert v2.post(f"/invoices/{rid}/approve").status_code == 422  # already approved
    assert v2.delete(f"/invoices/{rid}").status_code == 422  # approved: kept, as in v1


def test_estimates_have_no_approve_route_and_are_numbered_at_creation(v2):
    resp = v2.post("/estimates", json={"contact_id": _contact(v2), "date": "2024-03-01", "items": [{"name": "A"}]})
    doc = v2.get(f"/estimates/{resp.json()['id']}").json()
    assert doc["draft"] is False and doc["document_number"].startswith("P24")
    assert v2.post(f"/estimates/{doc['id']}/approve").status_code == 404


def test_invoice_put_replaces_the_whole_body_and_keeps_named_line_ids(v2):
    rid = _invoice(v2, notes="nota", tags=["a"])
    kept = v2.get(f"/invoices/{rid}").json()["lines"][0]
    item = {"line_id": kept["line_id"], "name": "Soporte", "price": 80, "units": 1}
    resp = v2.put(f"/invoices/{rid}", json={"date": "2024-02-01", "items": [item]})
    assert (resp.status_code, resp.json()) == (200, {"id": rid})
    doc = v2.get(f"/invoices/{rid}").json()
    assert doc["notes"] == "" and doc["tags"] == [] and doc["contact_id"] is None  # left out: reset
    assert [line["line_id"] for line in doc["lines"]] == [kept["line_id"]] and doc["total"] == "96.80"
    assert doc["date"] == "2024-02-01"


def test_other_documents_put_only_dates_and_project(v2):
    body = {"contact_id": _contact(v2), "date": "2024-01-10", "items": [{"name": "Caja", "price": 10}], "notes": "n"}
    rid = v2.post("/sales-orders", json=body).json()["id"]
    resp = v2.put(f"/sales-orders/{rid}", json={"due_date": "2024-05-05", "project_id": "p1", "notes": "ignored"})
    assert resp.json() == {"id": rid}
    doc = v2.get(f"/sales-orders/{rid}").json()
    assert (doc["date"], doc["due_date"], doc["project_id"], doc["notes"]) == ("2024-01-10", "2024-05-05", "p1", "n")


def test_documents_made_in_v1_read_in_v2_with_the_same_id(v2):
    contact = _contact(v2)
    body = {"contactId": contact, "date": 1_704_063_600, "items": [{"name": "Uno", "subtotal": 10, "tax": 21}]}
    rid = v2.v1.post("/invoicing/v1/documents/purchase", json=body).json()["id"]
    doc = v2.get(f"/purchases/{rid}").json()
    assert doc["contact_id"] == contact and doc["date"] == "2024-01-01" and doc["total"] == "12.10"
    assert doc["lines"][0]["line_id"]


def test_filters_and_sort(v2):
    contact = _contact(v2)
    ids = [
        v2.post("/invoices", json={"contact_id": contact, "date": d}).json()["id"] for d in ("2031-01-01", "2031-02-01")
    ]
    listed = v2.all("/invoices", start_date="2031-01-01", end_date="2031-01-31")
    assert [d["id"] for d in listed] == ids[:1]
    assert [d["id"] for d in v2.all("/invoices", start_date="2031-01-01", approval_status="draft")] == ids
    newest = v2.get("/invoices", params={"sort": "-date", "limit": 1}).json()
    assert newest["items"][0]["id"] == ids[1] and newest["has_more"] is True
    after = v2.get("/invoices", params={"sort": "-date", "limit": 1, "cursor": newest["cursor"]}).json()
    assert after["items"][0]["id"] == ids[0]
    assert all(d["contact_id"] == contact for d in v2.all("/invoices", contact_id=contact))
    assert v2.get("/invoices", params={"sort": "name"}).status_code == 400
    assert v2.get("/invoices", params={"start_date": "01/01/2031"}).status_code == 400


def test_bulk_delete_204_207_422(v2):
    a, b, c = (_invoice(v2) for _ in range(3))
    v2.post(f"/invoices/{c}/approve")
    assert v2.request("DELETE", "/invoices", json={"ids": [a]}).status_code == 204
    resp = v2.request("DELETE", "/invoices", json={"ids": [b, c]})
    assert resp.status_code == 207
    assert [(r["id"], r["status"]) for r in resp.json()["results"]] == [(b, 204), (c, 422)]
    assert v2.request("DELETE", "/invoices", json={"ids": [c]}).status_code == 422
    assert v2.request("DELETE", "/invoices", json={"ids": ["0" * 24] * 101}).status_code == 422


def test_payments_follow_into_status(v2):
    rid = _invoice(v2)
    v2.post(f"/invoices/{rid}/approve")
    resp = v2.post(f"/invoices/{rid}/payments", json={"amount": "100", "date": "2024-01-05"})
    assert resp.status_code == 201
    doc = v2.get(f"/invoices/{rid}").json()
    assert doc["status"] == "partial" and doc["payments_pending"] == "148.66"
    assert doc["payments_detail"][0] == {
        "payment_id": resp.json()["id"], "date": "2024-01-05", "amount": "100.00", "treasury_id": None,
        "description": f"Cobro {doc['document_number']}",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "doc_type"),
    [("/sales-receipts", "salesreceipt"), ("/credit-notes", "creditnote"), ("/receipt-notes", "receiptnote"),
     ("/proformas", "proform"), ("/waybills", "waybill"), ("/purchase-orders", "purchaseorder")],
)  # fmt: skip
def test_every_document_type_lists_its_own_collection(v2ro, path, doc_type):
    page = v2ro.get(path).json()
    assert page["items"], path
    v1_ids = {d["id"] for d in v2ro.v1.get(f"/invoicing/v1/documents/{doc_type}").json()}
    assert {d["id"] for d in v2ro.all(path)} == v1_ids


def test_purchase_refund_is_created_as_a_purchaserefund(v2):
    resp = v2.post("/purchases/refund", json={"contact_id": _contact(v2), "date": "2024-01-01", "items": []})
    assert resp.status_code == 201
    assert v2.v1.get(f"/invoicing/v1/documents/purchaserefund/{resp.json()['id']}").status_code == 200
