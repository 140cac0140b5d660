"""`Push` holding an invoice asked to be approved until its lines are in, and the state messages after it."""

from __future__ import annotations

from typing import Any

from holded_core import HoldedClient
from holded_core.mappings import ACCOUNTING_INVOICE, to_unified
from holded_core.push import Push, PushOptions
from holded_core.settings import parse_settings
from holded_sandbox.testing import connector_config


def test_a_state_waits_for_the_invoices_held_before_it_and_only_those(sandbox):
    settings = parse_settings(connector_config(sandbox))
    company = next(c for c in sandbox.store.all("contacts") if not c["isperson"])["id"]
    issued = next(to_unified(ACCOUNTING_INVOICE, sandbox.store.all("invoice")[0]))["issueDate"]

    def invoice(key: str) -> dict[str, Any]:
        return {"id": key, "company": company, "issueDate": issued, "draft": False, "lines": [f"{key}:0"]}

    def line(key: str) -> dict[str, Any]:
        return {"id": f"{key}:0", "invoice": key, "description": "Horas", "quantity": 1, "unitPrice": 60}

    with HoldedClient(settings.client) as client, Push(client, settings, PushOptions()) as push:
        outcomes = []
        push.submit("accountingInvoice", invoice("x"))
        push.hold_state("S1")
        outcomes += push.settle()
        assert push.released() == []  # x waits for its line, and S1 for x
        push.submit("accountingInvoice", invoice("y"))  # held after S1: y's line never comes
        push.submit("accountingInvoiceItem", line("x"))  # x is complete: written now, approved
        outcomes += push.settle()
        push.hold_state("S2")
        assert push.released() == ["S1"]
        outcomes += push.drain()
        assert push.released() == ["S2"]
    results = {(o.result.stream, o.result.key): o.result for o in outcomes}
    assert [(k, r.status) for k, r in results.items()] == [
        (("accountingInvoice", "x"), "created"),
        (("accountingInvoiceItem", "x:0"), "created"),
        (("accountingInvoice", "y"), "not approved"),
    ]
    assert "accountingInvoiceItem y:0 were not in this push" in (results["accountingInvoice", "y"].reason or "")
    approved = {d["id"]: d["draft"] for d in sandbox.store.all("invoice")}
    assert approved[results["accountingInvoice", "x"].holded_id] == 0
    assert approved[results["accountingInvoice", "y"].holded_id] == 1
