"""Fidelity: an ordinary third-party Holded client (PyPI `holded-python`) works against the sandbox
exactly as it would against Holded: lists, reads, creates, updates and deletes the main objects."""

from __future__ import annotations

import time

import pytest
from holded import HoldedClient as ThirdPartyClient
from holded.exceptions import HoldedNotFoundError


@pytest.fixture
def tp(sandbox):
    # The library joins paths onto the base URL, so it wants the trailing slash it documents.
    return ThirdPartyClient(api_key=sandbox.api_key, base_url=sandbox.base_url + "/", max_retries=1)


def _created_id(answer: dict) -> str:
    assert answer["status"] == 1, answer
    return answer["id"]


def test_contacts_crud(tp):
    listed = tp.contacts.list()
    assert isinstance(listed, list) and listed
    new_id = _created_id(tp.contacts.create({"name": "Fidelidad Pruebas SL", "email": "hola@fidelidad.es"}))
    assert tp.contacts.get(new_id)["name"] == "Fidelidad Pruebas SL"
    assert tp.contacts.update(new_id, {"phone": "+34 911 222 333"})["status"] == 1
    contact = tp.contacts.get(new_id)
    assert contact["phone"] == "+34 911 222 333" and contact["email"] == "hola@fidelidad.es"
    assert tp.contacts.delete(new_id)["status"] == 1
    with pytest.raises(HoldedNotFoundError):
        tp.contacts.get(new_id)


def test_funnels_and_leads_crud(tp):
    funnel_id = _created_id(tp.crm.create_funnel({"name": "Embudo de prueba"}))
    stages = [{"name": "Nuevo"}, {"name": "Propuesta"}, {"name": "Cierre"}]
    assert tp.crm.update_funnel(funnel_id, {"stages": stages})["status"] == 1
    funnel = tp.crm.get_funnel(funnel_id)
    assert [s["name"] for s in funnel["stages"]] == ["Nuevo", "Propuesta", "Cierre"]
    assert all(s["stageId"] for s in funnel["stages"])

    contact_id = tp.contacts.list()[0]["id"]
    lead_id = _created_id(
        tp.crm.create_lead({"name": "Renovación anual", "funnelId": funnel_id, "contactId": contact_id, "value": 1500})
    )
    lead = tp.crm.get_lead(lead_id)
    assert lead["funnelId"] == funnel_id and lead["stageId"] == funnel["stages"][0]["stageId"]
    assert tp.crm.update_lead(lead_id, {"name": "Renovación bianual"})["status"] == 1
    # The library's own stage helper calls /stage (singular), a route Holded does not have; its
    # generic put reaches the real one.
    move = tp.put(f"crm/leads/{lead_id}/stages", data={"stageId": funnel["stages"][2]["stageId"]})
    assert move["status"] == 1
    lead = tp.crm.get_lead(lead_id)
    assert lead["name"] == "Renovación bianual" and lead["stageId"] == funnel["stages"][2]["stageId"]
    assert any(item["id"] == lead_id for item in tp.crm.list_leads())
    assert tp.crm.delete_lead(lead_id)["status"] == 1
    assert tp.crm.delete_funnel(funnel_id)["status"] == 1
    with pytest.raises(HoldedNotFoundError):
        tp.crm.get_lead(lead_id)


def test_employees_crud(tp):
    listed = tp.employees.list()
    assert isinstance(listed["employees"], list) and listed["employees"]  # Holded's wrapper
    new_id = _created_id(tp.employees.create({"name": "Lucía", "lastName": "Prieto", "email": "lucia@empresa.es"}))
    assert tp.employees.get(new_id)["lastName"] == "Prieto"
    assert tp.employees.update(new_id, {"mobile": "+34 600 111 222"})["status"] == 1
    assert tp.employees.get(new_id)["mobile"] == "+34 600 111 222"
    assert tp.employees.delete(new_id)["status"] == 1
    with pytest.raises(HoldedNotFoundError):
        tp.employees.get(new_id)


def test_projects_crud(tp):
    assert tp.projects.list()
    new_id = _created_id(tp.projects.create({"name": "Migración ERP"}))
    assert tp.projects.update(new_id, {"desc": "Fase 1"})["status"] == 1
    project = tp.projects.get(new_id)
    assert project["name"] == "Migración ERP" and project["desc"] == "Fase 1"
    assert tp.projects.delete(new_id)["status"] == 1
    with pytest.raises(HoldedNotFoundError):
        tp.projects.get(new_id)


def test_invoices_crud(tp):
    assert tp.documents.list("invoice")
    contact_id = tp.contacts.list()[0]["id"]
    answer = tp.documents.create(
        "invoice",
        {
            "contactId": contact_id,
            "date": int(time.time()),
            "items": [{"name": "Consultoría", "units": 2, "subtotal": 100.0, "tax": 21}],
        },
    )
    invoice_id = _created_id(answer)
    invoice = tp.documents.get(invoice_id, "invoice")
    assert invoice["contact"] == contact_id
    assert invoice["subtotal"] == 200.0 and invoice["tax"] == 42.0 and invoice["total"] == 242.0
    assert tp.documents.update(invoice_id, "invoice", {"notes": "Pago a 30 días"})["status"] == 1
    assert tp.documents.get(invoice_id, "invoice")["notes"] == "Pago a 30 días"
    assert tp.documents.delete(invoice_id, "invoice")["status"] == 1
    with pytest.raises(HoldedNotFoundError):
        tp.documents.get(invoice_id, "invoice")
