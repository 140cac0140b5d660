"""`holded permissions`: the API v2 permissions a catalog needs, and which a real token lacks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from holded_sandbox.testing import running_sandbox
from integration_tests.conftest import run_script

TEN = ("genericContact,genericCompany,genericUser,genericWorkspace,crmPipeline,crmStage,crmOpportunity,"
       "crmEngagement,accountingInvoice,accountingInvoiceItem")  # fmt: skip


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.02, seed=4, api_key=f"perm-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def permissions(sandbox: Any, *args: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": token or ""}
    result = run_script("holded", "permissions", "--json", *args, env=env)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_without_a_token_it_lists_what_the_ten_unified_streams_and_a_write_need(sandbox):
    code, answer = permissions(sandbox, "--writes", "crmOpportunity")
    assert code == 0 and answer["probed"] is False
    assert {row["permission"]: row["used_by"] for row in answer["permissions"]} == {
        "contacts:contacts.read": ["genericContact", "genericCompany"],
        "sales:invoices.read": ["accountingInvoice", "accountingInvoiceItem"],
        "crm:funnels.read": ["crmPipeline", "crmStage"],
        "crm:deals.read": ["crmOpportunity"],
        "crm:deals.write": ["write crmOpportunity"],
        "crm:events.read": ["crmEngagement"],
        "projects:projects.read": ["genericWorkspace"],
        "team:employees.read": ["genericUser"],
    }


def test_given_a_token_it_names_exactly_what_the_token_lacks_and_writes_nothing(sandbox):
    token = sandbox.mint_token(["contacts:contacts.read", "crm:deals.read", "crm:deals.write", "crm:funnels.read"])
    before = len(sandbox.store.all("contacts")), len(sandbox.store.all("leads"))
    code, answer = permissions(sandbox, "--streams", TEN, "--writes", "crmOpportunity,genericCompany", token=token)
    assert code == 1 and answer["probed"] is True
    assert answer["lacking"] == [
        "contacts:contacts.write", "sales:invoices.read", "crm:events.read", "projects:projects.read",
        "team:employees.read",
    ]  # fmt: skip
    granted = {row["permission"] for row in answer["permissions"] if row["granted"]}
    assert granted == {"contacts:contacts.read", "crm:funnels.read", "crm:deals.read", "crm:deals.write"}
    assert (len(sandbox.store.all("contacts")), len(sandbox.store.all("leads"))) == before  # the probes wrote nothing
    assert token not in json.dumps(answer)


def test_a_token_with_every_permission_lacks_nothing_and_a_refused_token_is_one_line(sandbox):
    code, answer = permissions(sandbox, "--writes", "genericCompany", token=sandbox.api_token)
    assert code == 0 and answer["lacking"] == [] and all(row["granted"] for row in answer["permissions"])
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "pat_revoked0123456789"}
    result = run_script("holded", "permissions", env=env)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Access denied" in result.stderr
    assert "pat_revoked0123456789" not in result.stderr
    assert requests.get(sandbox.base_url + "/v2/contacts", timeout=10).status_code == 401  # no credential: 401
