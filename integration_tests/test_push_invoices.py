"""`holded push` of invoices with their lines: asked approved, they end approved, or are counted apart."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from holded_sandbox.testing import running_sandbox
from integration_tests.test_local_runner import api, holded
from unit_tests.conftest import control

INVOICES = "/invoicing/v1/documents/invoice"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.02, seed=9, api_key=f"push-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return str(path)


def _ours(sandbox: Any) -> dict[str, dict[str, Any]]:
    """Holded's invoices by the external id the connector keeps in a custom field."""
    out = {}
    for doc in api(sandbox, "GET", INVOICES):
        for item in doc.get("customFields") or []:
            if item.get("field") == "holded-connector-id":
                out[item["value"]] = doc
    return out


def test_an_invoice_pushed_with_draft_false_and_its_lines_ends_approved_with_them(sandbox, tmp_path):
    company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c["isperson"])["id"]
    invoices = _jsonl(tmp_path / "invoices.jsonl", [
        {"id": "fac-1", "company": company, "issueDate": "2024-01-01", "draft": False},
        {"id": "fac-2", "company": company, "issueDate": "2024-01-02", "draft": True},
    ])  # fmt: skip
    lines = _jsonl(tmp_path / "lines.jsonl", [
        {"id": "fac-1:1", "invoice": "fac-1", "position": 1, "description": "Soporte", "quantity": 1,
         "unitPrice": 75, "taxRate": 21},
        {"id": "fac-1:0", "invoice": "fac-1", "position": 0, "description": "Consultoría", "quantity": 2,
         "unitPrice": 50, "taxRate": 21},
        {"id": "fac-2:0", "invoice": "fac-2", "position": 0, "description": "Borrador", "quantity": 1,
         "unitPrice": 10, "taxRate": 21},
    ])  # fmt: skip
    args = ("push", "--file", invoices, "--stream", "accountingInvoice", "--lines", lines, "--json")
    result = holded(sandbox, *args)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert counts == {"created": 5}  # two invoices, three lines; none "not approved"
    docs = _ours(sandbox)
    assert docs["fac-1"]["draft"] == 0 and [p["name"] for p in docs["fac-1"]["products"]] == ["Consultoría", "Soporte"]
    assert docs["fac-1"]["date"] == 1704063600  # 1 January 2024, midnight in Madrid
    assert docs["fac-2"]["draft"] == 1  # draft: true stays a draft
    # A re-run creates nothing.
    again = json.loads(holded(sandbox, *args).stdout)["counts"]
    assert again == {"unchanged": 5}
    assert len(_ours(sandbox)) == 2


def test_without_its_lines_an_invoice_asked_approved_is_counted_not_approved_with_the_reason(sandbox, tmp_path):
    company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c["isperson"])["id"]
    invoices = _jsonl(tmp_path / "invoices.jsonl", [
        {"id": "fac-9", "company": company, "issueDate": "2024-03-01", "draft": False},
    ])  # fmt: skip
    rejected = tmp_path / "rejected.jsonl"
    result = holded(
        sandbox, "push", "--file", invoices, "--stream", "accountingInvoice", "--rejected", str(rejected), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"] == {"not approved": 1}
    (noted,) = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert (noted["key"], noted["status"]) == ("fac-9", "not approved") and "lines" in noted["reason"]
    assert _ours(sandbox)["fac-9"]["draft"] == 1


def test_lines_go_only_with_invoices(sandbox, tmp_path):
    rows = _jsonl(tmp_path / "companies.jsonl", [{"id": "c-1", "name": "Uno SL"}])
    result = holded(sandbox, "push", "--file", rows, "--stream", "genericCompany", "--lines", rows)
    assert result.returncode == 2 and "--lines goes with --stream accountingInvoice" in result.stderr


def test_given_v2_when_holded_refuses_to_approve_a_new_invoice_then_it_is_not_approved_its_lines_created(
    sandbox, tmp_path
):
    """The invoice and its lines are created (a draft), Holded answers the approve with a 422 problem: the
    invoice is `not approved` with Holded's `detail`, its lines `created`, and a re-run approves it."""
    env = {"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": sandbox.api_token}
    company = next(c for c in sandbox.store.all("contacts") if not c["isperson"])["id"]
    invoices = _jsonl(tmp_path / "inv.jsonl", [
        {"id": "fac-v2", "company": company, "issueDate": "2025-06-02", "draft": False},
    ])  # fmt: skip
    lines = _jsonl(tmp_path / "lines.jsonl", [
        {"id": f"fac-v2:{n}", "invoice": "fac-v2", "position": n, "description": f"Servicio {n}", "quantity": 1,
         "unitPrice": 100, "taxRate": 21}
        for n in (0, 1)
    ])  # fmt: skip
    detail = "The numbering series has no numbers left for this year."
    problem = {"type": "https://api.holded.com/problems/unprocessable-entity", "title": "Unprocessable Entity",
               "status": 422, "detail": detail}  # fmt: skip
    control(sandbox, "PATCH", "faults", script=[{"match": "/v2/invoices/", "method": "POST", "status": 422,
                                                 "body": problem}])  # fmt: skip
    rejected = tmp_path / "rejected.jsonl"
    args = ("push", "--file", invoices, "--stream", "accountingInvoice", "--lines", lines, "--json")
    result = holded(sandbox, *args, "--rejected", str(rejected), **env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert control(sandbox, "GET", "stats")["faults"] == {"script": 1}  # the approve was answered 422
    assert json.loads(result.stdout)["counts"] == {"not approved": 1, "created": 2}
    assert "refused" not in result.stderr.replace("Holded refused to approve it", "")
    (noted,) = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert (noted["stream"], noted["key"], noted["status"]) == ("accountingInvoice", "fac-v2", "not approved")
    assert noted["reason"] == (
        f"created as a draft, not approved: Holded refused to approve it: {detail}; push it again with its "
        "accountingInvoiceItem records and draft false (Holded's API v2 approves an existing draft), or approve it "
        "in Holded"
    )
    (draft,) = _ours_v2(sandbox)
    assert draft["draft"] is True and [ln["name"] for ln in draft["lines"]] == ["Servicio 0", "Servicio 1"]

    again = holded(sandbox, *args, **env)  # nothing scripted now: the draft is approved
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["counts"] == {"updated": 1, "unchanged": 2}
    (approved,) = _ours_v2(sandbox)
    assert approved["id"] == draft["id"] and approved["draft"] is False and approved["document_number"]
    assert len(approved["lines"]) == 2


def _ours_v2(sandbox: Any) -> list[dict[str, Any]]:
    """Holded's invoices (read through API v2, one by one) that carry the connector's external id."""
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    found = []
    for doc in sandbox.store.all("invoice"):
        v2 = requests.get(f"{sandbox.base_url}/v2/invoices/{doc['id']}", headers=headers, timeout=30).json()
        if any(f.get("field") == "holded-connector-id" for f in v2.get("custom_fields") or []):
            found.append(v2)
    return found
