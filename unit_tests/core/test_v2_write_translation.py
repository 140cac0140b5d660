"""Holded's v1 write bodies, as the writer builds them, in API v2's shape (`from_v1` of each v2 row), the
whole bodies of v2's full-replace PUTs (`replace`), and an update laid over one (`write_channel._overlay`).

Facts: shared/holded-api/v2/README.md ("Shapes", "Writes"), endpoints.md (request bodies), the v2
contacts spec (francodesystems/n8n-nodes-holded spec/contacts-v2.md: PUT is a full replace).
"""

from __future__ import annotations

from holded_core.dates import account_zone
from holded_core.dialects.v1 import V1
from holded_core.dialects.v2 import V2
from holded_core.write_channel import _overlay

MADRID = account_zone("Europe/Madrid")
JAN_1_2024 = 1_704_063_600  # 00:00 of 2024-01-01 in Madrid (v1's day)


def test_given_a_v1_contact_body_then_v2_gets_snake_case_a_boolean_kind_and_documented_custom_fields():
    body = {"name": "Ana Ruiz", "CustomId": "p-1", "isperson": True, "tradeName": "Ana",
            "billAddress": {"address": "Mayor 1", "postalCode": "48001", "countryCode": "ES"},
            "socialNetworks": {"website": "https://ana.es"}, "customFields": [{"Sector": "Sanidad"}],
            "contactPersons": [{"personId": "p9", "name": "Bo", "sendDocumentsByDefault": True}]}  # fmt: skip
    assert V2.resource("contacts").from_v1(body, MADRID) == {
        "name": "Ana Ruiz", "custom_id": "p-1", "is_person": True, "trade_name": "Ana",
        "bill_address": {"address": "Mayor 1", "postal_code": "48001", "country_code": "ES"},
        "website": "https://ana.es", "custom_fields": [{"field": "Sector", "value": "Sanidad"}],
        "contact_persons": [{"person_id": "p9", "name": "Bo", "send_documents_by_default": True}],
    }  # fmt: skip


def test_given_a_v1_invoice_body_then_v2_gets_days_items_with_price_and_line_id_and_no_number():
    item = {"name": "Horas", "desc": "", "units": 2, "subtotal": 50, "tax": 21, "lineId": "L1"}
    body = {"contactId": "c1", "desc": "Obra", "date": JAN_1_2024, "dueDate": JAN_1_2024 + 30 * 86_400,
            "invoiceNum": "F-1", "customFields": [{"field": "holded-connector-id", "value": "i-1"}],
            "items": [item]}  # fmt: skip
    assert V2.resource("invoices").from_v1(body, MADRID) == {
        "contact_id": "c1", "description": "Obra", "date": "2024-01-01", "due_date": "2024-01-31",
        "custom_fields": [{"field": "holded-connector-id", "value": "i-1"}],
        "items": [{"name": "Horas", "description": "", "units": 2, "price": 50, "tax": 21, "line_id": "L1"}],
    }  # fmt: skip


def test_given_a_day_in_another_zone_then_v2_gets_that_zone_s_day():
    canary = account_zone("Atlantic/Canary")  # v1's 00:00 of 2 January in Canary is an hour after Madrid's
    assert V2.resource("projects").from_v1({"date": JAN_1_2024 + 86_400 + 3600}, canary) == {"start_date": "2024-01-02"}
    assert V2.resource("projects").from_v1({"date": JAN_1_2024 + 86_400}, canary) == {"start_date": "2024-01-01"}


def test_given_lead_funnel_event_and_employee_bodies_then_v2_names_them_as_its_routes_take_them():
    lead = {"funnelId": "f", "contactId": "c", "stageId": "s", "value": 9, "dueDate": JAN_1_2024}
    assert V2.resource("leads").from_v1(lead, MADRID) == {
        "funnel_id": "f", "contact_id": "c", "stage_id": "s", "value": 9, "due_date": "2024-01-01"}  # fmt: skip
    funnel = {"name": "E", "stages": [{"stageId": "s1", "name": "A", "desc": "x", "dealProbability": 5}]}
    assert V2.resource("funnels").from_v1(funnel, MADRID) == {
        "name": "E", "stages": [{"id": "s1", "name": "A", "description": "x", "deal_probability": 5}]}  # fmt: skip
    event = {"name": "Visita", "desc": "ok", "startDate": JAN_1_2024, "duration": 1800, "leadId": "l"}
    assert V2.resource("crm_events").from_v1(event, MADRID) == {
        "name": "Visita", "description": "ok", "start_date": "2023-12-31T23:00:00Z", "duration": 1800,
        "lead_id": "l"}  # fmt: skip
    assert V2.resource("employees").from_v1({"name": "Luis", "lastName": "Gil"}, MADRID) == {
        "name": "Luis", "last_name": "Gil"}  # fmt: skip


def test_given_a_v2_invoice_as_read_then_its_whole_body_sends_each_line_back_with_its_line_id():
    record = {"id": "i", "document_number": None, "contact_id": "c", "description": "Obra", "date": "2024-01-01",
              "due_date": None, "notes": "n", "total": "121.00", "custom_fields": [], "tags": ["a"],
              "lines": [{"line_id": "L1", "name": "Horas", "description": "", "price": "50.00", "units": 2,
                         "discount": 0, "tax": 21, "taxes": ["s_iva_21"], "product_id": None}]}  # fmt: skip
    assert V2.resource("invoices").replace(record) == {
        "contact_id": "c", "description": "Obra", "date": "2024-01-01", "notes": "n", "custom_fields": [],
        "tags": ["a"], "items": [{"line_id": "L1", "name": "Horas", "description": "", "price": 50, "units": 2,
                                  "discount": 0, "tax": 21, "taxes": ["s_iva_21"]}],
    }  # fmt: skip


def test_given_an_update_over_a_whole_body_then_objects_and_custom_fields_merge_and_the_rest_is_replaced():
    whole = {"name": "A", "phone": "1", "bill_address": {"address": "Mayor 1", "city": "Bilbao"},
             "custom_fields": [{"field": "holded-connector-id", "value": "k"}, {"field": "Sector", "value": "x"}],
             "contact_persons": [{"person_id": "p"}]}  # fmt: skip
    changes = {"phone": "2", "bill_address": {"city": "Getxo"}, "custom_fields": [{"field": "Sector", "value": "y"}],
               "contact_persons": []}  # fmt: skip
    assert _overlay(whole, changes) == {
        "name": "A", "phone": "2", "bill_address": {"address": "Mayor 1", "city": "Getxo"},
        "custom_fields": [{"field": "holded-connector-id", "value": "k"}, {"field": "Sector", "value": "y"}],
        "contact_persons": [],
    }  # fmt: skip


def test_given_the_two_dialects_then_a_lead_s_stage_has_its_own_sub_route_in_each_and_only_v2_approves_drafts():
    assert dict(V1.resource("leads").routes) == {"stageId": "stages"}
    assert dict(V2.resource("leads").routes) == {"stageId": "stage"}
    assert V1.resource("invoices").approve is None and V2.resource("invoices").approve == "approve"
    assert "contactPersons" in V1.resource("contacts").unwritable
    assert "contactPersons" not in V2.resource("contacts").unwritable
    assert all(r.from_v1 is None and r.replace is None for r in V1.resources.values())  # the writer's bodies are v1's
