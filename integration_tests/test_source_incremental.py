"""Incremental reads, deletions, change events, resume after SIGKILL, faults, permissions, bad data."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter

import pytest
import requests

from holded_core.changes import fingerprint
from holded_sandbox import OAuthSettings
from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.source_helpers import UNIFIED, SourceRunner, parse_output, sandbox_counts
from unit_tests.conftest import control

EVENTS = "changeEvents"


def _runner(sb, tmp_path, **extra) -> SourceRunner:
    config = connector_config(sb, **extra)
    return SourceRunner(tmp_path, config)


class Holded:
    """Changes made the way a user makes them: through the Holded routes."""

    def __init__(self, sb) -> None:
        self.base, self.headers = sb.base_url, {"key": sb.api_key}

    def get(self, path, **params):
        return requests.get(self.base + path, headers=self.headers, params=params, timeout=30).json()

    def put(self, path, body):
        answer = requests.put(self.base + path, headers=self.headers, json=body, timeout=30).json()
        assert answer["status"] == 1, answer
        return answer

    def delete(self, path):
        answer = requests.delete(self.base + path, headers=self.headers, timeout=30).json()
        assert answer["status"] == 1, answer


def _counts(result) -> dict[str, int]:
    return {stream: len(records) for stream, records in result.records.items() if records}


@pytest.fixture
def sb():
    with running_sandbox(scale=0.1, seed=9) as server:
        yield server


def test_second_read_emits_nothing_then_exactly_the_changes(sb, tmp_path):
    runner = _runner(sb, tmp_path)
    streams = [*UNIFIED, EVENTS]
    first = runner.read(streams)
    assert first.returncode == 0, first.stderr[-2000:]
    assert _counts(first) == {**sandbox_counts(sb), EVENTS: sum(sandbox_counts(sb).values())}

    second = runner.read(streams, first.state_messages())
    assert second.returncode == 0 and _counts(second) == {}

    holded = Holded(sb)
    contacts = holded.get("/invoicing/v1/contacts")
    people = [c for c in contacts if c["isperson"] == 1][:2]
    company = next(c for c in contacts if c["isperson"] == 0)
    for i, contact in enumerate([*people, company]):
        holded.put(f"/invoicing/v1/contacts/{contact['id']}", {"phone": f"+34 910 000 00{i}"})
    draft = next(d for d in holded.get("/invoicing/v1/documents/invoice") if d["draft"] == 1 and d["products"])
    items = [
        {k: line.get(k) for k in ("name", "desc", "units", "tax", "taxes", "discount", "retention", "sku", "weight")}
        | {"subtotal": line["price"], "costPrice": line.get("costPrice")}
        for line in draft["products"]
    ]
    items[0]["units"] = items[0]["units"] + 3
    holded.put(f"/invoicing/v1/documents/invoice/{draft['id']}", {"items": items})
    lead = holded.get("/crm/v1/leads")[0]
    holded.delete(f"/crm/v1/leads/{lead['id']}")

    third = runner.read(streams, second.state_messages() or first.state_messages())
    assert third.returncode == 0, third.stderr[-2000:]
    assert _counts(third) == {
        "genericContact": 2,
        "genericCompany": 1,
        "accountingInvoice": 1,  # its totals follow the line
        "accountingInvoiceItem": 1,
        "crmOpportunity": 1,
        EVENTS: 6,
    }
    assert third.ids("genericContact") == {p["id"] for p in people}
    assert third.ids("genericCompany") == {company["id"]}
    (line,) = third.records["accountingInvoiceItem"]
    assert line["id"] == f"{draft['id']}:0" and line["quantity"] == items[0]["units"]
    (tombstone,) = third.records["crmOpportunity"]
    assert tombstone["id"] == lead["id"] and tombstone["_ab_cdc_deleted_at"]
    events = Counter(e["event"] for e in third.records[EVENTS])
    assert events == {
        "genericContact::updated": 2,
        "genericCompany::updated": 1,
        "accountingInvoice::updated": 1,
        "accountingInvoiceItem::updated": 1,
        "crmOpportunity::deleted": 1,
    }
    company_event = next(e for e in third.records[EVENTS] if e["model"] == "genericCompany")
    assert set(company_event["changedFields"]) == {"phoneNumber", "updatedAt"}
    assert company_event["record"]["phoneNumber"] == "+34 910 000 002"

    fourth = runner.read(streams, third.state_messages())
    assert _counts(fourth) == {}  # the tombstone is emitted once


def test_full_refresh_is_still_available(sb, tmp_path):
    runner = _runner(sb, tmp_path)
    first = runner.read(["genericCompany", "invoices"], mode="full_refresh")
    again = runner.read(["genericCompany", "invoices"], mode="full_refresh")
    assert _counts(first) == _counts(again) and _counts(first)["invoices"] > 0
    assert not first.states


def test_sigkill_mid_read_then_resume_covers_everything_exactly(tmp_path):
    with running_sandbox(scale=0.05, seed=3) as sb:
        control(sb, "POST", "fill", collection="contacts", count=2600)
        control(sb, "POST", "fill", collection="invoice", count=1600)
        runner = _runner(sb, tmp_path, read_ahead=0, stream_concurrency=1)
        streams = ["genericCompany", "genericContact", "accountingInvoice", "accountingInvoiceItem"]
        complete = runner.read(streams, mode="full_refresh")
        control(sb, "PATCH", "faults", latency_ms=60)  # slow enough to be killed mid-listing

        proc = subprocess.Popen(runner.command(streams), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        seen: list[str] = []
        states = 0
        for line in proc.stdout:
            seen.append(line)
            if '"type":"STATE"' in line:
                states += 1
                if states >= 3:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait(timeout=30)
        killed = parse_output(seen)
        assert killed.states, "the read was killed before any checkpoint"
        assert any(killed.ids(s) != complete.ids(s) for s in streams), "the read finished before the kill"

        control(sb, "PATCH", "faults", latency_ms=0)
        resumed = runner.read(streams, killed.state_messages())
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        for stream in streams:
            assert killed.ids(stream) | resumed.ids(stream) == complete.ids(stream), stream
            assert not any(r.get("_ab_cdc_deleted_at") for r in resumed.records[stream]), stream
        # Re-emitted at most the page in flight: 500 contacts.
        assert len(killed.ids("genericCompany") & resumed.ids("genericCompany")) <= 500


def _content(result, stream) -> set[tuple[str, bytes]]:
    return {(r["id"], fingerprint(r)) for r in result.records[stream]}


def test_read_survives_5xx_resets_and_a_tight_rate_limit(sb, tmp_path):
    control(sb, "POST", "fill", collection="contacts", count=6000)
    control(sb, "POST", "fill", collection="invoice", count=3000)
    runner = _runner(sb, tmp_path, max_retries=12, requests_per_second=100)
    clean = runner.read(UNIFIED, mode="full_refresh")
    # 5% random 5xx and 5% resets, a limit of 15 requests/s (429 + Retry-After), and one of each for sure.
    sure = [{"status": 503, "match": "/invoicing/v1/contacts"}, {"kind": "reset", "match": "/crm/v1/leads"}]
    control(
        sb,
        "PATCH",
        "faults",
        error_rate=0.05,
        reset_rate=0.05,
        rate_limit_rps=15,
        rate_limit_burst=2,
        seed=4,
        script=sure,
    )
    noisy = runner.read(UNIFIED, mode="full_refresh")
    stats = control(sb, "GET", "stats")
    assert noisy.returncode == 0, noisy.stderr[-2000:]
    for stream in UNIFIED:
        assert _content(noisy, stream) == _content(clean, stream), stream
    assert stats["requests"]["by_status"].get("429"), stats
    assert stats["faults"].get("error", 0) + stats["faults"].get("script", 0) >= 2, stats
    assert stats["faults"].get("reset", 0) >= 1 or stats["faults"].get("script", 0) >= 2, stats
    assert any("retries" in log and "sync finished" in log for log in noisy.logs)


def test_module_without_access_fails_its_streams_only(sb, tmp_path):
    counts = sandbox_counts(sb)
    control(sb, "PATCH", "faults", denied_modules=["crm"])
    result = _runner(sb, tmp_path).read(UNIFIED, mode="full_refresh")
    assert result.returncode != 0
    crm = {"crmPipeline", "crmStage", "crmOpportunity", "crmEngagement"}
    failed = {e["stream_descriptor"]["name"] for e in result.errors if e.get("stream_descriptor")}
    assert failed == crm
    for error in result.errors:
        if error.get("stream_descriptor"):
            assert error["failure_type"] == "config_error"
            assert "no access" in error["message"] and "crm" in error["message"]
    for stream in set(UNIFIED) - crm:
        assert len(result.records[stream]) == counts[stream]
        assert result.statuses[stream] == "COMPLETE"
    assert all(result.statuses[s] == "INCOMPLETE" for s in crm)


def test_records_that_do_not_fit_are_reported_and_the_sync_completes(sb, tmp_path):
    leads = sb.store.all("leads")
    bad_lead = dict(leads[0], value="mucho")
    sb.store.save("leads", bad_lead)
    sb.store.save("contacts", {**sb.store.all("contacts")[0], "id": ""})
    result = _runner(sb, tmp_path).read(["crmOpportunity", "genericCompany", "genericContact"], mode="full_refresh")
    assert result.returncode == 0, result.stderr[-2000:]
    opportunity = next(r for r in result.records["crmOpportunity"] if r["id"] == bad_lead["id"])
    assert opportunity.get("amount") is None
    warnings = [log for log in result.logs if "does not fit" in log]
    assert any("crmOpportunity" in w and bad_lead["id"] in w and "value" in w for w in warnings)
    assert any("no id" in w for w in warnings)
    summary = next(log for log in result.logs if "sync finished" in log)
    assert "bad records" in summary


def test_rotated_refresh_token_reaches_the_platform(tmp_path):
    with running_sandbox(scale=0.02, oauth=OAuthSettings(rotate_refresh_tokens=True)) as sb:
        config = {
            "credentials": {
                "auth_type": "oauth2",
                "client_id": sb.oauth.client_id,
                "client_secret": sb.oauth.client_secret,
                "refresh_token": sb.oauth.refresh_token,
                "token_url": sb.token_url,
            },
            "base_url": sb.base_url,
        }
        old = sb.oauth.refresh_token
        result = SourceRunner(tmp_path, config).read(["genericUser"], mode="full_refresh")
        assert result.returncode == 0, result.stderr[-2000:]
        (control_message,) = result.controls
        new_config = control_message["connectorConfig"]["config"]
        assert new_config["credentials"]["refresh_token"] not in (old, "")
        assert json.dumps(result.records).count(old) == 0


def test_unreadable_state_fails_with_a_config_error_not_a_traceback(sb, tmp_path):
    runner = _runner(sb, tmp_path)
    corrupt = {"v": 1, "snapshot": {"fmt": "hex+parts", "n": 1, "nh": 1, "w": 4, "data": "%%"}}
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "genericCompany"}, "stream_state": corrupt}}]
    result = runner.read(["genericCompany"], state)
    assert result.returncode != 0
    (error,) = result.errors
    assert error["failure_type"] == "config_error" and "reset that stream's state" in error["message"]
    assert not result.records
