"""`holded push` of invoices with their lines: asked approved, they end approved, or are counted apart."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holded_sandbox.testing import running_sandbox
from integration_tests.test_local_runner import api, holded

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
