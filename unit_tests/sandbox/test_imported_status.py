"""Imported documents keep a stored `status` badge; the source reads what is owed from the payment fields."""

from __future__ import annotations

import requests

from holded_core.streams import unified_streams
from holded_core.sync import Selected, SyncEngine, SyncOptions
from unit_tests.conftest import control

INVOICES = "/invoicing/v1/documents/invoice"


def _api(sandbox, method: str, path: str, **kwargs):
    resp = requests.request(method, sandbox.base_url + path, headers={"key": sandbox.api_key}, timeout=30, **kwargs)
    resp.raise_for_status()
    return resp.json()


def _imported_paid_invoice(sandbox) -> str:
    contact = _api(sandbox, "GET", "/invoicing/v1/contacts")[0]["id"]
    body = {
        "contactId": contact,
        "date": 1704063600,
        "approveDoc": True,
        "status": 1,  # "paid", as the import said
        "items": [{"name": "Consultoría", "units": 2, "subtotal": 50, "tax": 21}],
    }
    return _api(sandbox, "POST", INVOICES, json=body)["id"]


def test_given_the_switch_an_imported_badge_says_paid_while_money_is_owed(sandbox):
    control(sandbox, "PATCH", "faults", imported_status=True)
    doc = _api(sandbox, "GET", f"{INVOICES}/{_imported_paid_invoice(sandbox)}")
    assert doc["status"] == 1 and doc["paymentsTotal"] == 0 and doc["paymentsPending"] == 121


def test_without_the_switch_status_follows_payments(sandbox):
    doc = _api(sandbox, "GET", f"{INVOICES}/{_imported_paid_invoice(sandbox)}")
    assert doc["status"] == 0 and doc["paymentsPending"] == 121


def test_the_source_reads_what_is_owed_from_payments_pending_not_the_badge(sandbox, make_client):
    control(sandbox, "PATCH", "faults", imported_status=True)
    invoice_id = _imported_paid_invoice(sandbox)
    spec = next(s for s in unified_streams() if s.name == "accountingInvoice")
    with make_client() as client:
        engine = SyncEngine(client, [Selected(spec, False)], {}, SyncOptions())
        records = [out.data for out in engine.run() if getattr(out, "stream", "") == spec.name and hasattr(out, "data")]
    invoice = next(r for r in records if r["id"] == invoice_id)
    assert (invoice["status"], invoice["pendingAmount"], invoice["paidAmount"]) == ("unpaid", 121.0, 0.0)
    # Half paid through Holded's route: partially paid, still whatever the badge says.
    _api(sandbox, "POST", f"{INVOICES}/{invoice_id}/pay", json={"date": 1704150000, "amount": 60.5})
    with make_client() as client:
        engine = SyncEngine(client, [Selected(spec, False)], {}, SyncOptions())
        records = [out.data for out in engine.run() if getattr(out, "stream", "") == spec.name and hasattr(out, "data")]
    invoice = next(r for r in records if r["id"] == invoice_id)
    assert (invoice["status"], invoice["pendingAmount"]) == ("partially_paid", 60.5)
