"""`source-holded read` end to end, as a subprocess against the sandbox: counts, schemas, mappings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import requests

from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.source_helpers import UNIFIED, SourceRunner, sandbox_counts


@pytest.fixture(scope="module")
def sb():
    with running_sandbox(scale=0.1, seed=5) as server:
        yield server


@pytest.fixture(scope="module")
def runner(sb, tmp_path_factory):
    config = connector_config(
        sb,
        field_mappings=[
            {"stream": "genericCompany", "field": "sector", "holded_custom_field": "Sector"},
            {"stream": "genericCompany", "field": "iban", "holded_path": "iban"},
        ],
        custom_streams=[{"name": "my_products", "path": "/invoicing/v1/products", "primary_key": "id"}],
    )
    return SourceRunner(tmp_path_factory.mktemp("source"), config)


@pytest.fixture(scope="module")
def full(runner):
    result = runner.read(UNIFIED, mode="full_refresh")
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _get(sb, path: str) -> Any:
    resp = requests.get(f"{sb.base_url}{path}", headers={"key": sb.api_key}, timeout=30)
    return resp.json()


def test_counts_equal_the_sandbox(sb, full):
    expected = sandbox_counts(sb)
    got = {stream: len(full.records.get(stream, [])) for stream in UNIFIED}
    assert got == expected
    for stream in UNIFIED:
        assert len(full.ids(stream)) == expected[stream], f"{stream}: duplicate ids"


def test_every_record_validates_against_its_stream_schema(runner, full):
    catalog = runner.discover()
    for stream in UNIFIED:
        schema = catalog[stream]["json_schema"]  # `format: date` checked: a day is a real YYYY-MM-DD
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        for record in full.records[stream]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream} {record.get('id')}: {errors[0].message}"


def test_invoice_and_lead_days_are_the_madrid_days_holded_stores_as_midnight(sb, full):
    """shared/holded-api/README.md: Calendar dates are midnight in Madrid."""
    madrid = ZoneInfo("Europe/Madrid")

    def midnight(day: str) -> int:
        return int(datetime.combine(date.fromisoformat(day), time(0), madrid).timestamp())

    invoices = {d["id"]: d for d in _get(sb, "/invoicing/v1/documents/invoice")}
    for record in full.records["accountingInvoice"]:
        holded = invoices[record["id"]]
        assert (midnight(record["issueDate"]), midnight(record["dueDate"])) == (holded["date"], holded["dueDate"])
    leads = {lead["id"]: lead for lead in _get(sb, "/crm/v1/leads")}
    assert all(midnight(r["closeDate"]) == leads[r["id"]]["dueDate"] for r in full.records["crmOpportunity"])


def test_discover_shows_mapped_fields(runner):
    props = runner.discover()["genericCompany"]["json_schema"]["properties"]
    assert props["sector"]["type"] == ["null", "string"] and "iban" in props


def test_mapped_custom_fields(sb, full):
    companies = {c["id"]: c for c in _get(sb, "/invoicing/v1/contacts") if c["isperson"] == 0}
    checked = 0
    for record in full.records["genericCompany"]:
        holded = companies.get(record["id"])
        if holded is None:
            continue
        sector = next((cf["value"] for cf in holded["customFields"] if cf.get("field") == "Sector"), None)
        assert record.get("sector") == sector
        assert "Sector" not in record["customFields"]
        assert record.get("iban") == (holded["iban"] or None)
        checked += sector is not None
    assert checked, "the seeded data should give some companies a Sector custom field"


def test_invoice_customer_or_company_follows_isperson(sb, full):
    kinds = {}
    page = 1
    while True:
        batch = _get(sb, f"/invoicing/v1/contacts?page={page}")
        kinds.update({c["id"]: c["isperson"] for c in batch})
        if len(batch) < 500:
            break
        page += 1
    people = companies = 0
    for invoice in full.records["accountingInvoice"]:
        holded_contact = invoice.get("customer") or invoice.get("company")
        assert holded_contact in kinds
        if kinds[holded_contact] == 1:
            assert invoice.get("customer") and invoice.get("company") is None
            people += 1
        else:
            assert invoice.get("company") and invoice.get("customer") is None
            companies += 1
    assert people and companies


def test_leads_point_at_real_pipelines_and_stages(full):
    pipelines = {p["id"]: p for p in full.records["crmPipeline"]}
    stages = {s["id"]: s for s in full.records["crmStage"]}
    for opportunity in full.records["crmOpportunity"]:
        assert opportunity["pipeline"] in pipelines
        assert opportunity["stage"] in stages
        assert stages[opportunity["stage"]]["pipeline"] == opportunity["pipeline"]
        assert opportunity["currency"] == "EUR"
    for pipeline in pipelines.values():
        assert pipeline["stages"] and all(stage_id in stages for stage_id in pipeline["stages"])
        assert all(stage_id.startswith(pipeline["id"] + ":") for stage_id in pipeline["stages"])


def test_invoice_lines_amounts_and_tax_rates(sb, full):
    invoices = {i["id"]: i for i in _get(sb, "/invoicing/v1/documents/invoice")}
    lines = [line for line in full.records["accountingInvoiceItem"] if line["invoice"] in invoices]
    assert lines
    for line in lines:
        holded = invoices[line["invoice"]]["products"][line["position"]]
        assert line["id"] == f"{line['invoice']}:{line['position']}"
        assert line["taxRate"] == holded["tax"]
        assert line["quantity"] == holded["units"] and line["unitPrice"] == holded["price"]
        expected = round(holded["price"] * holded["units"] * (1 - (holded.get("discount") or 0) / 100), 2)
        assert line["amount"] == pytest.approx(expected, abs=0.01)
    unified = {i["id"]: i for i in full.records["accountingInvoice"]}
    for invoice_id, holded in list(invoices.items())[:50]:
        assert unified[invoice_id]["subtotal"] == holded["subtotal"]
        assert len(unified[invoice_id]["lines"]) == len(holded["products"])


def test_statuses_complete_and_no_errors(full):
    assert not full.errors
    assert all(full.statuses[stream] == "COMPLETE" for stream in UNIFIED)
    assert any("sync finished" in log for log in full.logs)


def test_custom_stream_reads_any_list_endpoint(sb, runner):
    assert runner.discover()["my_products"]["source_defined_primary_key"] == [["id"]]
    result = runner.read(["my_products"], mode="full_refresh")
    assert result.returncode == 0, result.stderr[-2000:]
    products = _get(sb, "/invoicing/v1/products")
    assert result.ids("my_products") == {p["id"] for p in products}


def test_native_streams_cover_the_community_source_and_more(runner):
    offered = set(runner.discover())
    community = {"contacts", "products", "invoices", "purchases", "sales_orders", "estimates", "credit_notes"}
    community |= {"purchase_orders", "projects"}
    assert community <= offered
    assert {"leads", "funnels", "employees", "payments", "taxes", "daily_ledger", "chart_of_accounts"} <= offered


def test_start_date_limits_documents(sb, tmp_path):
    invoices = _get(sb, "/invoicing/v1/documents/invoice")
    dates = sorted(i["date"] for i in invoices)
    cutoff = dates[len(dates) // 2]
    start = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = connector_config(sb, start_date=start)
    result = SourceRunner(tmp_path, config).read(["accountingInvoice", "invoices"], mode="full_refresh")
    assert result.returncode == 0, result.stderr[-2000:]
    expected = {i["id"] for i in invoices if i["date"] >= cutoff}
    assert result.ids("accountingInvoice") == expected == {r["id"] for r in result.records["invoices"]}
