"""API v2 permissions: `holded permissions` (what a catalog needs, which a real token lacks), `check`
naming each missing permission and what it blocks, reads whose streams fail alone naming the permission,
and pushes refused up front. Real console scripts against a sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from holded_core.permissions import QUOTA_CHECK, needed
from holded_core.writes import TARGETS
from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import airbyte_messages, run_script, script
from integration_tests.source_helpers import SourceRunner

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
        "crm:deals.read": ["crmOpportunity", "write crmOpportunity"],  # the writer matches before creating
        "crm:deals.write": ["write crmOpportunity"],
        "crm:events.read": ["crmEngagement"],
        "projects:projects.read": ["genericWorkspace"],
        "team:employees.read": ["genericUser"],
        "developers:usage.read": [QUOTA_CHECK],  # not a stream's: the quota check of `holded sync`
    }
    assert [row["permission"] for row in answer["permissions"] if row["optional"]] == ["developers:usage.read"]


def test_given_a_token_without_usage_read_then_it_is_named_optional_and_the_token_lacks_nothing(sandbox):
    token = sandbox.mint_token([*NO_DEALS, "crm:deals.read"])
    code, answer = permissions(sandbox, token=token)
    assert code == 0 and answer["lacking"] == [] and answer["optional_lacking"] == ["developers:usage.read"]
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": token}
    shown = run_script("holded", "permissions", env=env)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "developers:usage.read" in text and "not ticked (optional)" in text and "MISSING" not in text
    assert "without developers:usage.read, `holded sync` does not check the monthly quota first" in text


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


# ------------------------------------------------------------------------------ check

NO_DEALS = [
    "contacts:contacts.read",
    "sales:invoices.read",
    "crm:funnels.read",
    "crm:events.read",
    "projects:projects.read",
    "team:employees.read",
]  # fmt: skip  (every unified stream's but leads')


def config_with(sandbox: Any, token: str, tmp_path: Any, name: str = "config.json", **extra: Any) -> str:
    config = connector_config(sandbox, dialect="v2", **extra)
    config["credentials"]["token"] = token
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def status_of(stdout: str) -> dict[str, Any]:
    return next(m["connectionStatus"] for m in airbyte_messages(stdout) if m["type"] == "CONNECTION_STATUS")


def test_given_a_token_without_deals_when_the_source_checks_then_it_names_the_permission_and_its_stream(
    sandbox, tmp_path
):
    token = sandbox.mint_token(NO_DEALS)
    before = sandbox.stats()["requests"]["total"]
    result = run_script("source-holded", "check", "--config", config_with(sandbox, token, tmp_path))
    status = status_of(result.stdout)
    assert status["status"] == "SUCCEEDED", status  # the other streams can be read
    assert "crm:deals.read (for crmOpportunity)" in status["message"]
    assert "crm:funnels.read" not in status["message"] and "contacts" not in status["message"]
    # One permission missing: "tick it", where Holded shows tokens, and "that stream".
    assert "tick it on the token in Holded (Settings > Developers > Credentials > Add API Token)" in status["message"]
    assert "tick them" not in status["message"] and "leave that stream out" in status["message"]
    assert sandbox.stats()["requests"]["total"] - before == 7  # one probe per distinct permission, no more
    assert token not in result.stdout + result.stderr


def test_given_a_token_that_only_reads_when_the_destination_checks_then_it_names_each_write_permission(
    sandbox, tmp_path
):
    token = sandbox.mint_token(["contacts:contacts.read", "contacts:contacts.write", "crm:deals.write"])
    result = run_script("destination-holded", "check", "--config", config_with(sandbox, token, tmp_path))
    status = status_of(result.stdout)
    assert status["status"] == "SUCCEEDED", status
    message = status["message"]
    assert "crm:deals.read (for write crmOpportunity)" in message  # .write alone is not enough: it matches first
    assert "sales:invoices.write (for write accountingInvoice, write accountingInvoiceItem)" in message
    assert "contacts:contacts" not in message and "crm:deals.write" not in message
    none = config_with(sandbox, sandbox.mint_token(["developers:usage.read"]), tmp_path, "none.json")
    nothing = run_script("destination-holded", "check", "--config", none)
    assert status_of(nothing.stdout)["status"] == "FAILED" and "every write needs" in nothing.stdout


def test_given_a_token_that_reads_everything_and_writes_nothing_the_destination_check_fails(sandbox, tmp_path):
    reads = sorted({need.permission for need in needed([], list(TARGETS))[0] if need.permission.endswith(".read")})
    config = config_with(sandbox, sandbox.mint_token(reads), tmp_path, "reads.json")
    result = run_script("destination-holded", "check", "--config", config)
    status = status_of(result.stdout)
    assert status["status"] == "FAILED", status  # no model could be written: not a connection that works
    assert "every write needs" in status["message"] and "crm:deals.write" in status["message"]
    assert "crm:deals.read" not in status["message"]
    source = run_script("source-holded", "check", "--config", config)
    assert status_of(source.stdout)["status"] == "SUCCEEDED"  # reading is all a source needs


def test_given_a_config_with_a_top_level_api_token_then_every_check_takes_it_as_the_credential(sandbox, tmp_path):
    """The documented shorthand `{"api_token": "pat_..."}` (no `credentials`) works wherever a config file does."""
    token = sandbox.mint_token([*NO_DEALS, "contacts:contacts.write"])  # a destination needs one model it can write
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"api_token": token, "base_url": sandbox.base_url}))
    no_env = {"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_BASE_URL": "", "HOLDED_CONFIG": ""}
    for connector in ("source-holded", "destination-holded"):
        result = run_script(connector, "check", "--config", str(path))
        status = status_of(result.stdout)
        assert status["status"] == "SUCCEEDED" and "crm:deals" in status["message"], (connector, status)
        assert token not in result.stdout + result.stderr
    checked = run_script("holded", "check", "--config", str(path), env=no_env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("holded check: connected; the Holded API token lacks crm:deals.read")
    code = run_script("holded", "permissions", "--config", str(path), "--json", env=no_env)
    assert code.returncode == 1 and json.loads(code.stdout)["lacking"] == ["crm:deals.read"], code.stderr
    path.write_text(json.dumps({"api_key": sandbox.api_key, "base_url": sandbox.base_url}))  # the v1 key's shorthand
    v1 = run_script("holded", "check", "--config", str(path), env=no_env)
    assert v1.returncode == 0 and "connected" in v1.stdout, v1.stderr


def test_given_a_v2_token_and_a_custom_stream_on_a_v1_route_then_check_names_the_field_and_the_v2_route(
    sandbox, tmp_path
):
    streams = [{"name": "taxes_v2", "path": "/v2/taxes"}, {"name": "my_products", "path": "/invoicing/v1/products"}]
    config = config_with(sandbox, sandbox.api_token, tmp_path, custom_streams=streams)
    before = sandbox.stats()["requests"]["total"]
    result = run_script("holded", "check", "--config", config, env={"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": ""})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("holded check: `custom_streams[1].path` /invoicing/v1/products is an API v1 route")
    assert "use its API v2 route, /v2/products" in result.stderr
    status = status_of(run_script("source-holded", "check", "--config", config).stdout)
    assert status["status"] == "FAILED" and "`custom_streams[1].path`" in status["message"]
    assert sandbox.stats()["requests"]["total"] == before  # refused at parse: no request (no "Invalid key")


# ------------------------------------------------------------------------------ reads


def test_given_a_token_without_deals_when_the_source_reads_then_leads_fail_naming_it_and_contacts_complete(
    sandbox, tmp_path
):
    config = connector_config(sandbox, dialect="v2")
    config["credentials"]["token"] = sandbox.mint_token(NO_DEALS)
    read = SourceRunner(tmp_path, config).read(["genericContact", "crmOpportunity", "crmPipeline"])
    assert read.records["genericContact"] and read.records["crmPipeline"] and not read.records.get("crmOpportunity")
    assert read.statuses == {"genericContact": "COMPLETE", "crmPipeline": "COMPLETE", "crmOpportunity": "INCOMPLETE"}
    assert "genericContact" in read.states and "crmOpportunity" not in read.states
    per_stream, last = read.errors[0], read.errors[-1]
    assert per_stream["failure_type"] == "config_error" and per_stream["stream_descriptor"]["name"] == "crmOpportunity"
    assert "crm:deals.read" in per_stream["message"] and per_stream["message"].startswith("crmOpportunity:")
    assert last["failure_type"] == "config_error" and "crmOpportunity" in last["message"]
    assert read.returncode != 0
    assert any("crmOpportunity: incomplete" in log and "requests" in log for log in read.logs)  # the summary


def test_given_a_token_without_deals_when_holded_syncs_then_one_line_names_it_and_contacts_are_in_duckdb(
    sandbox, tmp_path
):
    token = sandbox.mint_token([*NO_DEALS, "developers:usage.read"])
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": token}
    db = tmp_path / "h.duckdb"
    result = run_script("holded", "sync", "--db", str(db), "--json", "--no-progress", env=env)
    assert result.returncode == 1, result.stderr  # the read is incomplete
    told = [line for line in result.stderr.splitlines() if line.startswith("crmOpportunity: incomplete")]
    assert len(told) == 1 and "crm:deals.read" in told[0], result.stderr  # one line (then the summary table)
    summary = json.loads(result.stdout)
    assert summary["streams"]["crmOpportunity"]["status"] == "incomplete"
    # changeEvents did not complete because of that listing: it says so, in the JSON and its line.
    why = "no events for crmOpportunity: its listing failed (crm:deals.read missing)"
    assert summary["streams"]["changeEvents"] == {**summary["streams"]["changeEvents"], "status": "incomplete",
                                                  "error": why}  # fmt: skip
    assert any(
        line.startswith("changeEvents: incomplete") and line.endswith(why) for line in result.stderr.splitlines()
    )
    assert summary["streams"]["genericContact"]["status"] == "complete" and summary["streams"]["genericContact"]["rows"]
    assert token not in result.stdout + result.stderr

    tap_config = config_with(sandbox, token, tmp_path, "tap.json")
    tap = run_script("tap-holded", "--config", tap_config)
    assert tap.returncode == 1
    told = [line for line in tap.stderr.splitlines() if line.startswith("ERROR crmOpportunity")]
    assert len(told) == 1 and "crm:deals.read" in told[0], tap.stderr  # one line (then the run's summary)
    records = [json.loads(line) for line in tap.stdout.splitlines() if line.startswith("{")]
    assert any(m["type"] == "RECORD" and m["stream"] == "genericContact" for m in records)

    events = run_script("holded", "events", "--db", str(tmp_path / "e.duckdb"), env=env)
    named = [line for line in events.stderr.splitlines() if "lacks the permission crm:deals.read" in line]
    assert events.returncode == 1 and len(named) == 1 and "crmOpportunity" in named[0], events.stderr  # said once
    report = events.stderr.splitlines()[-1]  # the run's report line: why detection is incomplete, in short
    assert report.endswith(f"detection incomplete: {why}"), events.stderr
    assert "requests (contacts 1," in events.stderr  # the run's report line: its requests per listing


# ------------------------------------------------------------------------------ pushes


def test_given_a_token_without_deals_write_when_pushing_leads_then_nothing_is_written_and_one_line_names_it(
    sandbox, tmp_path
):
    token = sandbox.mint_token(["crm:deals.read", "crm:funnels.read", "contacts:contacts.read"])
    leads = len(sandbox.store.all("leads"))
    contact = sandbox.store.all("contacts")[0]["id"]
    funnel = sandbox.store.all("funnels")[0]
    stage = funnel["stages"][0]["stageId"]
    row = {"id": "new-lead-1", "name": "Refused lead", "pipeline": funnel["id"], "stage": stage, "contact": contact}
    rows = tmp_path / "leads.jsonl"
    rows.write_text(json.dumps(row) + "\n")
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": token}
    pushed = run_script("holded", "push", "--file", str(rows), "--stream", "crmOpportunity", env=env)
    assert pushed.returncode == 2 and pushed.stderr.count("\n") == 1, pushed.stderr
    assert "crm:deals.write (for write crmOpportunity)" in pushed.stderr and token not in pushed.stderr

    config = config_with(sandbox, token, tmp_path, "dest.json")
    catalog = {"streams": [{"stream": {"name": "crmOpportunity", "json_schema": {"type": "object"},
                                       "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup"}]}  # fmt: skip
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    message = {"type": "RECORD", "record": {"stream": "crmOpportunity", "data": row, "emitted_at": 0}}
    command = [script("destination-holded"), "write", "--config", config, "--catalog", str(catalog_path)]
    written = subprocess.run(command, input=json.dumps(message) + "\n", capture_output=True, text=True, timeout=120)
    traces = [m["trace"]["error"] for m in airbyte_messages(written.stdout) if m["type"] == "TRACE"]
    assert written.returncode != 0 and len(traces) == 1, written.stdout + written.stderr
    assert traces[0]["failure_type"] == "config_error"
    assert "crm:deals.write (for write crmOpportunity)" in traces[0]["message"]
    assert len(sandbox.store.all("leads")) == leads  # nothing was created by either


def test_given_a_token_without_deals_write_when_the_singer_target_gets_leads_then_it_stops_before_writing(
    sandbox, tmp_path
):
    import io

    from holded_cli.config import load_config
    from singer_holded import target
    from singer_holded.common import Lines

    token = sandbox.mint_token(["crm:deals.read", "contacts:contacts.read", "contacts:contacts.write"])
    leads = len(sandbox.store.all("leads"))
    lines = [{"type": "SCHEMA", "stream": "crmOpportunity", "schema": {}, "key_properties": ["id"]},
             {"type": "RECORD", "stream": "crmOpportunity", "record": {"id": "x-1", "name": "Refused"}}]  # fmt: skip
    stdin = io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())
    loaded = load_config(config_with(sandbox, token, tmp_path, "target.json"), env={}, require_credentials=False)
    with pytest.raises(Exception) as caught:
        target.write(loaded, stdin, Lines(io.BytesIO()))
    assert type(caught.value).__name__ == "PermissionsLacking"  # exit 2 through the command wrapper
    assert "crm:deals.write (for write crmOpportunity)" in str(caught.value) and "\n" not in str(caught.value)
    assert len(sandbox.store.all("leads")) == leads
