"""`holded get` / `holded search` and `holded_core.Lookup`: one record live from Holded, as the stream
emits it, through either API; a contact search through v2's search (v1 has none: a prefix match)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from holded_core import HoldedClient, Lookup
from holded_core.errors import HoldedNotFoundError
from holded_core.settings import parse_settings
from holded_core.sync import RecordOut, Selected, SyncEngine
from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import run_script

MODELS = (
    "genericContact",
    "genericCompany",
    "crmStage",
    "crmOpportunity",
    "accountingInvoice",
    "accountingInvoiceItem",
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.03, seed=8, api_key=f"lookup-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def streamed(config: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    """What the unified stream emits, by id (a full read)."""
    settings = parse_settings(config)
    spec = next(s for s in settings.unified() if s.name == model)
    with HoldedClient(settings.client) as client:
        engine = SyncEngine(client, [Selected(spec, False)], {}, settings.options, dialect=settings.dialect)
        return {out.data["id"]: out.data for out in engine.run() if isinstance(out, RecordOut)}


@pytest.mark.parametrize("dialect", ["v1", "v2"])
def test_get_returns_exactly_what_the_stream_emits_children_included(sandbox, dialect):
    config = connector_config(sandbox, dialect=dialect)
    with Lookup(config) as lookup:
        for model in MODELS:
            records = streamed(config, model)
            some = sorted(records)[:: max(1, len(records) // 3)][:3]
            assert some, model
            for record_id in some:
                assert lookup.get(model, record_id) == records[record_id], (model, record_id)
        with pytest.raises(HoldedNotFoundError):
            lookup.get("genericCompany", "0" * 24)


def test_search_finds_the_same_contacts_through_v1_and_v2(sandbox):
    companies = sorted(streamed(connector_config(sandbox), "genericCompany").values(), key=lambda c: c["id"])
    name = companies[0]["name"]
    prefix = name[:4].upper()  # case ignored
    found = {}
    for dialect in ("v1", "v2"):
        with Lookup(connector_config(sandbox, dialect=dialect)) as lookup:
            found[dialect] = lookup.search("genericCompany", prefix)
    assert {c["id"] for c in found["v1"]} == {c["id"] for c in found["v2"]}
    assert companies[0]["id"] in {c["id"] for c in found["v2"]}
    assert all(c["name"].upper().startswith(prefix) for c in found["v2"])


def test_the_commands_print_the_record_and_say_one_line_when_it_is_not_there(sandbox):
    company = sorted(streamed(connector_config(sandbox), "genericCompany").values(), key=lambda c: c["id"])[0]
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": sandbox.api_token}
    got = run_script("holded", "get", "genericCompany", company["id"], env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == company
    search = run_script("holded", "search", "genericCompany", company["name"][:5], env=env)
    assert search.returncode == 0 and company["id"] in {json.loads(line)["id"] for line in search.stdout.splitlines()}
    missing = run_script("holded", "get", "genericCompany", "0" * 24, env=env)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "not found" in missing.stderr
    assert sandbox.api_token not in missing.stderr + got.stdout
