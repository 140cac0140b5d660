"""Holded's documented v2 record shapes (shared/holded-api/v2/README.md, "Shapes") -> v1's, as the
unified mappings read them; and v2's dated listings given in days."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import jsonschema

from holded_core.dialects.v1 import V1
from holded_core.dialects.v2 import V2
from holded_core.mappings import ACCOUNTING_INVOICE_ITEM, GENERIC_CONTACT, to_unified
from holded_core.streams import custom_stream, native_streams

MADRID = ZoneInfo("Europe/Madrid")
NEW_YEAR_MADRID = 1_704_063_600  # 2024-01-01T00:00 in Madrid


def test_given_a_documented_v2_contact_then_it_reads_as_the_v1_contact():
    v2 = {
        "id": "5f0c1e2d3b4a596877665544", "custom_id": "C-1", "name": "Ana Ruiz", "code": "X1", "is_person": True,
        "trade_name": None, "email": "ana@example.com", "bill_address": {"address": "Calle 1", "postal_code": "28001"},
        "contact_persons": [{"person_id": "p1", "name": "Bo", "send_documents_by_default": True}],
        "custom_fields": [{"field": "tier", "value": "gold"}], "website": "https://a.example",
        "created_at": "2024-01-01T09:30:00Z", "updated_at": "2024-01-02T00:00:00Z",
    }  # fmt: skip
    v1 = V2.resource("contacts").listing.as_v1(v2, MADRID)
    assert v1["isperson"] == 1 and v1["customId"] == "C-1" and v1["tradeName"] is None
    assert v1["billAddress"] == {"address": "Calle 1", "postalCode": "28001"}
    assert v1["contactPersons"] == [{"personId": "p1", "name": "Bo", "sendDocumentsByDefault": True}]
    assert v1["createdAt"] == 1_704_101_400 and v1["updatedAt"] == 1_704_153_600
    assert v1["socialNetworks"] == {"website": "https://a.example"} and v1["customFields"] == v2["custom_fields"]
    record = next(to_unified(GENERIC_CONTACT, v1))
    assert record["address"]["postalCode"] == "28001" and record["customFields"] == {"tier": "gold"}


def test_given_a_v2_invoice_then_days_amounts_status_and_lines_read_as_v1s():
    v2 = {
        "id": "i1", "document_number": "F-1", "contact_id": "c1", "date": "2024-01-01", "due_date": None,
        "total": "121.00", "status": "partial", "draft": False, "description": "d",
        "lines": [{"line_id": "l1", "name": "Hour", "description": "x", "price": "10.50", "units": 2, "tax": 21}],
    }  # fmt: skip
    v1 = V2.resource("invoices").listing.as_v1(v2, MADRID)
    assert (v1["docNumber"], v1["contact"], v1["desc"]) == ("F-1", "c1", "d")
    assert (v1["date"], v1["dueDate"], v1["total"], v1["status"], v1["draft"]) == (NEW_YEAR_MADRID, 0, 121, 2, 0)
    assert v1["products"] == [{"lineId": "l1", "name": "Hour", "desc": "x", "price": 10.5, "units": 2, "tax": 21}]
    line = next(to_unified(ACCOUNTING_INVOICE_ITEM, v1))
    assert (line["id"], line["unitPrice"], line["amount"]) == ("i1:0", 10.5, 21.0)


def test_given_v2_leads_funnels_and_events_then_their_codes_and_names_are_v1s():
    lead = V2.resource("leads").listing.as_v1({"status": "won", "value": "99.90", "due_date": "2024-01-01"}, MADRID)
    assert (lead["status"], lead["value"], lead["dueDate"]) == (1, 99.9, NEW_YEAR_MADRID)
    funnel = V2.resource("funnels").listing.as_v1({"id": "f", "stages": [{"id": "s", "description": "x"}]}, MADRID)
    assert funnel["stages"] == [{"stageId": "s", "desc": "x"}]
    event = V2.resource("crm_events").listing.as_v1({"start_date": "2024-01-01T00:00:00Z", "location": "HQ"}, MADRID)
    assert (event["startDate"], event["locationDesc"]) == (1_704_067_200, "HQ")


def test_given_a_start_date_then_v2_sends_days_and_v1_unix_seconds():
    v2 = V2.resource("invoices").listing.query(NEW_YEAR_MADRID, "Europe/Madrid")
    assert v2["start_date"] == "2024-01-01" and len(v2["end_date"]) == 10 and "starttmp" not in v2
    v1 = V1.resource("invoices").listing.query(NEW_YEAR_MADRID, "Europe/Madrid")
    assert v1["starttmp"] == str(NEW_YEAR_MADRID) and "start_date" not in v1
    assert V2.resource("daily_ledger").listing.query(None)["start_date"] == "1970-01-01"


def test_given_v1_records_then_no_translation_applies():
    record = {"isperson": 1}
    assert V1.resource("contacts").listing.as_v1(record, MADRID) is record


def test_given_each_dialect_then_a_native_streams_cursor_schema_is_the_type_it_serves():
    """v1 serves `updatedAt` as unix seconds, v2 `updated_at` as an ISO date-time (README "Shapes"): a native
    stream's schema says which, so a v2 record validates against it (the CDK's standard read checks)."""
    v1 = {s.name: s for s in native_streams(V1)}["contacts"]
    v2 = {s.name: s for s in native_streams(V2)}["contacts"]
    record_v2 = {"id": "5f0c1e2d3b4a596877665544", "updated_at": "2024-01-02T00:00:00Z"}
    jsonschema.validate(record_v2, v2.json_schema)
    jsonschema.validate({"id": "5f0c1e2d3b4a596877665544", "updatedAt": 1_704_153_600}, v1.json_schema)
    assert v1.json_schema["properties"]["updatedAt"]["type"] == ["null", "integer"]
    assert v2.json_schema["properties"]["updated_at"]["format"] == "date-time"
    # A custom stream over a known route with its cursor takes the route's format; a field of its own, either.
    known = custom_stream({"name": "mine", "path": "/v2/leads", "cursor_field": "updated_at"}, V2)
    own = custom_stream({"name": "mine", "path": "/v2/leads", "cursor_field": "modified"}, V2)
    assert known.json_schema["properties"]["updated_at"]["type"] == ["null", "string"]
    assert own.json_schema["properties"]["modified"]["type"] == ["null", "integer", "string"]
