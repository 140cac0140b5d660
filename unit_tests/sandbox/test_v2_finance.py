"""API v2 catalogue and money: products, services, taxes, payments, treasury accounts, numbering
series, ledger entries and accounting accounts, over the same records as v1."""

from __future__ import annotations

import re


def test_products_both_ways(v2):
    body = {"name": "Teclado", "price": "20", "cost": 8, "taxes": ["s_iva_10"], "sku": "TEC-1", "for_sale": False}
    rid = v2.post("/products", json=body).json()["id"]
    product = v2.get(f"/products/{rid}").json()
    assert (product["price"], product["total"], product["taxes"]) == ("20.00", "22.00", ["s_iva_10"])
    assert product["for_sale"] is False and product["sku"] == "TEC-1"
    v1 = v2.v1.get(f"/invoicing/v1/products/{rid}").json()
    assert v1["tax"] == 10 and v1["forSale"] == 0 and v1["total"] == 22.0
    assert v2.put(f"/products/{rid}", json={"price": 30, "archived": True}).json() == {"id": rid}
    assert v2.get(f"/products/{rid}").json()["total"] == "33.00"
    assert len(v2.get("/products", params={"limit": 500}).json()["items"]) <= 100


def test_services_and_taxes(v2):
    rid = v2.post("/services", json={"name": "Formación", "price": 50, "duration": 60}).json()["id"]
    service = v2.get(f"/services/{rid}").json()
    assert (service["price"], service["total"], service["duration"]) == ("50.00", "60.50", 60)
    taxes = v2.get("/taxes").json()
    assert taxes["has_more"] is False and taxes["cursor"] is None
    iva21 = next(t for t in taxes["items"] if t["key"] == "s_iva_21")
    assert iva21["amount"] == "21"


def test_payments_sign_is_the_type(v2):
    body = {"type": "expense", "amount": "12.5", "date": "2024-04-01", "description": "Taxi"}
    rid = v2.post("/payments", json=body).json()["id"]
    payment = v2.get(f"/payments/{rid}").json()
    assert (payment["type"], payment["amount"], payment["date"]) == ("expense", "12.50", "2024-04-01")
    assert (
        v2.v1.get("/invoicing/v1/payments", params={"starttmp": 1_711_922_400, "endtmp": 1_711_922_400}).json()[0][
            "amount"
        ]
        == -12.5
    )
    listed = v2.all("/payments", start_date="2024-04-01", end_date="2024-04-01")
    assert [p["id"] for p in listed] == [rid]
    v2.put(f"/payments/{rid}", json={"type": "income"})
    assert v2.get(f"/payments/{rid}").json()["type"] == "income"


def test_treasury_accounts(v2):
    rid = v2.post("/treasury/accounts", json={"name": "Caja", "type": "cash", "bic": "X"}).json()["id"]
    assert v2.v1.get(f"/invoicing/v1/treasury/{rid}").json()["swift"] == "X"
    assert v2.post(f"/treasury/accounts/{rid}/archive").status_code == 200
    assert rid in [t["id"] for t in v2.all("/treasury/accounts", archived="true")]


def test_numbering_series_per_type(v2):
    rid = v2.post("/numbering-series/invoices", json={"name": "Web", "format": "W[YY]%%%"}).json()["id"]
    names = [s["name"] for s in v2.get("/numbering-series/invoice").json()["items"]]
    assert "Web" in names and "Facturas" in names
    contact = v2.get("/contacts", params={"limit": 1}).json()["items"][0]["id"]
    doc = v2.post("/invoices", json={"contact_id": contact, "date": "2024-02-02", "number_line_id": rid}).json()["id"]
    assert v2.post(f"/invoices/{doc}/approve").json()["document_number"] == "W24001"
    assert v2.put(f"/numbering-series/invoice/{rid}", json={"last": 9}).json() == {"id": rid}
    assert v2.delete(f"/numbering-series/invoice/{rid}").status_code == 204
    assert v2.get("/numbering-series/nonsense").status_code == 404


def test_numbering_series_keep_their_documented_refund_series_and_verifactu_flag(v2):
    # endpoints.md: POST and PUT /numbering-series/{type} take refund_numbering_series_id and
    # verifactu_excluded; what is written is read back (a third-party v2 client reads both).
    (refunds,) = v2.get("/numbering-series/creditnote").json()["items"]
    body = {"name": "Tienda", "format": "T[YY]%%%", "refund_numbering_series_id": refunds["id"]}
    rid = v2.post("/numbering-series/invoice", json={**body, "verifactu_excluded": True}).json()["id"]
    series = {s["id"]: s for s in v2.get("/numbering-series/invoice").json()["items"]}
    assert series[rid]["refund_numbering_series_id"] == refunds["id"] and series[rid]["verifactu_excluded"] is True
    default = next(s for s in series.values() if s["id"] != rid)
    assert default["refund_numbering_series_id"] is None and default["verifactu_excluded"] is False
    unknown = v2.put(f"/numbering-series/invoice/{rid}", json={"refund_numbering_series_id": "0" * 24, "last": 5})
    assert unknown.status_code == 422 and "refund_numbering_series_id" in unknown.json()["detail"]
    assert v2.put(f"/numbering-series/invoice/{rid}", json={"refund_numbering_series_id": None}).status_code == 200
    (after,) = [s for s in v2.get("/numbering-series/invoice").json()["items"] if s["id"] == rid]
    assert after["refund_numbering_series_id"] is None and after["verifactu_excluded"] is True
    assert after["last"] == 0  # the refused PUT changed nothing
    v1 = v2.v1.get("/invoicing/v1/numberingseries/invoice").json()
    assert all(not key.startswith("_") and "verifactu" not in key for s in v1 for key in s)


def test_ledger_entries_need_dates_and_read_ddmmyyyy(v2):
    assert v2.get("/ledger-entries", params={"start_date": "2024-01-01"}).json()["detail"] == "end_date is required."
    body = {"date": "2024-03-31", "notes": "Ajuste",
            "lines": [{"account": 62900000, "debit": 10}, {"account": 57000001, "credit": 10}]}  # fmt: skip
    rid = v2.post("/ledger-entries", json=body).json()["id"]
    entries = v2.all("/ledger-entries", start_date="2024-03-31", end_date="2024-03-31")
    mine = next(e for e in entries if e["id"] == rid)
    assert mine["date"] == "31/03/2024" and [line["debit"] for line in mine["lines"]] == ["10.00", "0.00"]
    assert all(re.match(r"^\d{2}/\d{2}/\d{4}$", e["date"]) for e in entries)
    unbalanced = {**body, "lines": [{"account": 62900000, "debit": 10}, {"account": 57000001, "credit": 9}]}
    assert v2.post("/ledger-entries", json=unbalanced).status_code == 422
    page = v2.get("/ledger-entries", params={"start_date": "2023-01-01", "end_date": "2024-12-31", "limit": 500})
    assert len(page.json()["items"]) == 100 and page.json()["has_more"] is True


def test_accounting_accounts(v2):
    accounts = v2.all("/accounting-accounts")
    assert accounts and all(a["debit"] != "0.00" or a["credit"] != "0.00" for a in accounts)
    every = v2.all("/accounting-accounts", include_empty="1")
    assert len(every) > len(accounts)
    rid = v2.post("/accounting-accounts", json={"prefix": "6290", "name": "Gastos web"}).json()["id"]
    assert rid in [a["id"] for a in v2.all("/accounting-accounts", include_empty="true")]
