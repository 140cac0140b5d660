"""`holded` as a user runs it: real subprocesses, real DuckDB files, the sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import requests

from holded_cli.webhooks import verify
from holded_sandbox.testing import running_sandbox
from integration_tests.conftest import run_script, script
from unit_tests.conftest import control

MADRID = ZoneInfo("Europe/Madrid")
NEW_YEAR_MADRID = 1_704_063_600  # 2024-01-01T00:00 in Madrid, as Holded stores the day; 2023-12-31 in UTC
UNIFIED = (
    "genericContact", "genericCompany", "genericUser", "genericWorkspace", "crmPipeline", "crmStage",
    "crmOpportunity", "crmEngagement", "accountingInvoice", "accountingInvoiceItem",
)  # fmt: skip


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A fresh sandbox per test: these tests change its data."""
    with running_sandbox(scale=0.05, seed=5, api_key=f"runner-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def env_for(sandbox: Any, **extra: str) -> dict[str, str]:
    return {"HOLDED_API_KEY": sandbox.api_key, "HOLDED_BASE_URL": sandbox.base_url, **extra}


def holded(sandbox: Any, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return run_script("holded", *args, env=env_for(sandbox, **env), timeout=timeout)


def api(sandbox: Any, method: str, path: str, **kwargs: Any) -> Any:
    resp = requests.request(method, sandbox.base_url + path, headers={"key": sandbox.api_key}, timeout=30, **kwargs)
    resp.raise_for_status()
    return resp.json()


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def count(db: Path, table: str) -> int:
    return query(db, f'SELECT count(*) FROM "{table}"')[0][0]


def sync(sandbox: Any, db: Path, *args: str) -> dict[str, Any]:
    result = holded(sandbox, "sync", "--db", str(db), "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------------------- sync


def test_sync_then_changes_then_incremental_sync(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    first = sync(sandbox, db)
    contacts = api(sandbox, "GET", "/invoicing/v1/contacts")
    persons = [c for c in contacts if c.get("isperson")]
    companies = [c for c in contacts if not c.get("isperson")]
    leads = api(sandbox, "GET", "/crm/v1/leads")
    assert first["streams"]["genericCompany"]["rows"] == len(companies) == count(db, "genericCompany")
    assert count(db, "crmOpportunity") == len(leads)
    assert query(db, "SELECT count(*) - count(DISTINCT id) FROM genericContact")[0][0] == 0
    assert all(first["streams"][name]["status"] == "complete" for name in UNIFIED)
    # Typed columns: numbers are numbers, timestamps are timestamps, JSON is queryable.
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'accountingInvoice'"))  # fmt: skip
    assert types["total"] == "DOUBLE" and types["createdAt"].startswith("TIMESTAMP") and types["lines"] == "JSON"
    assert count(db, "_holded_state") >= len(UNIFIED)

    # Through Holded's routes: two persons edited, one company created, one lead deleted.
    for person in persons[:2]:
        api(sandbox, "PUT", f"/invoicing/v1/contacts/{person['id']}", json={"email": f"new-{person['id']}@x.es"})
    created = api(sandbox, "POST", "/invoicing/v1/contacts", json={"name": "Nueva Runner SL", "isperson": 0})
    api(sandbox, "DELETE", f"/crm/v1/leads/{leads[0]['id']}")

    second = sync(sandbox, db)["streams"]
    assert (second["genericContact"]["new"], second["genericContact"]["changed"]) == (0, 2)
    assert (second["genericCompany"]["new"], second["genericCompany"]["changed"]) == (1, 0)
    assert second["crmOpportunity"]["deleted"] == 1
    assert second["accountingInvoice"]["new"] + second["accountingInvoice"]["changed"] == 0
    assert (second["changeEvents"]["new"], second["changeEvents"]["changed"], second["changeEvents"]["deleted"]) == (
        1, 2, 1,
    )  # fmt: skip
    assert count(db, "crmOpportunity") == len(leads) - 1  # the deleted lead's row is removed
    assert query(db, f"SELECT count(*) FROM crmOpportunity WHERE id = '{leads[0]['id']}'")[0][0] == 0
    emails = dict(query(db, "SELECT id, email FROM genericContact"))
    assert emails[persons[0]["id"]] == f"new-{persons[0]['id']}@x.es"
    assert query(db, f"SELECT name FROM genericCompany WHERE id = '{created['id']}'") == [("Nueva Runner SL",)]
    events = query(db, "SELECT event, recordId FROM changeEvents ORDER BY seq DESC LIMIT 4")
    assert sorted(e for e, _ in events) == [
        "crmOpportunity::deleted", "genericCompany::created", "genericContact::updated", "genericContact::updated",
    ]  # fmt: skip
    third = sync(sandbox, db)["streams"]
    assert sum(s["new"] + s["changed"] + s["deleted"] for s in third.values()) == 0


def state_rows(db: Path) -> dict[str, Any]:
    """Each saved state row (`stream`, or `changeEvents:<model>` for a model's change-events state) -> when it
    was last written."""
    rows = query(db, "SELECT stream, updated_at FROM _holded_state")
    rows += query(db, "SELECT 'changeEvents:' || model, updated_at FROM _holded_event_state")
    return dict(rows)


def test_given_one_person_changed_when_synced_again_then_only_the_contacts_state_rows_are_written(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db)
    written = state_rows(db)
    assert {"crmOpportunity", "changeEvents:crmOpportunity", "changeEvents:genericContact"} <= set(written)
    assert "changeEvents" not in written  # one row per model, not one value for every model
    person = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if c.get("isperson"))
    api(sandbox, "PUT", f"/invoicing/v1/contacts/{person['id']}", json={"email": "state-rows@x.es"})

    second = sync(sandbox, db)["streams"]
    assert second["genericContact"]["changed"] == 1
    after = state_rows(db)
    assert set(after) == set(written)
    rewritten = {name for name, at in after.items() if at != written[name]}
    # The contacts listing's streams and models (the listed record's own fingerprint is kept by both), no other.
    contacts = {"genericContact", "genericCompany"}
    assert rewritten == contacts | {f"changeEvents:{name}" for name in contacts}
    # Nothing changed since: no state row is written at all.
    sync(sandbox, db)
    assert state_rows(db) == after


def test_given_a_file_with_every_model_in_one_state_row_when_synced_then_nothing_is_found_changed(sandbox, tmp_path):
    """A file written before the per-model layout (the change-events state of every model in one
    `_holded_state` row) is read as it was meant: nothing changed, no event, and its models get their rows."""
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db)
    events = count(db, "changeEvents")
    with duckdb.connect(str(db)) as con:  # back to the old layout
        models = {
            m: json.loads(state) for m, state in con.execute("SELECT model, state FROM _holded_event_state").fetchall()
        }
        con.execute("DELETE FROM _holded_event_state")
        con.execute(
            "INSERT INTO _holded_state VALUES ('changeEvents', ?, now())", [json.dumps({"v": 1, "models": models})]
        )

    again = sync(sandbox, db)["streams"]
    assert sum(s["new"] + s["changed"] + s["deleted"] for s in again.values()) == 0
    assert count(db, "changeEvents") == events
    assert query(db, "SELECT count(*) FROM _holded_state WHERE stream = 'changeEvents'") == [(0,)]
    migrated = {m: json.loads(state) for m, state in query(db, "SELECT model, state FROM _holded_event_state")}
    assert migrated == models


def test_killed_sync_resumes_without_loss_or_duplicates(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    control(sandbox, "PATCH", "faults", latency_ms=40)
    proc = subprocess.Popen(
        [script("holded"), "sync", "--db", str(db), "--no-progress"],
        env={**os.environ, **env_for(sandbox)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until some streams are committed, then kill without warning
        if line.startswith(("genericContact: complete", "crmOpportunity: complete")):
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    control(sandbox, "PATCH", "faults", latency_ms=0)
    states = dict(query(db, "SELECT stream, 1 FROM _holded_state"))
    assert states, "nothing was committed before the kill"
    sync(sandbox, db)
    contacts = api(sandbox, "GET", "/invoicing/v1/contacts")
    assert count(db, "genericCompany") == sum(1 for c in contacts if not c.get("isperson"))
    assert count(db, "crmOpportunity") == len(api(sandbox, "GET", "/crm/v1/leads"))
    for table in UNIFIED:
        assert query(db, f'SELECT count(*) - count(DISTINCT id) FROM "{table}"')[0][0] == 0, table
    assert query(db, "SELECT count(*) - count(DISTINCT id) FROM changeEvents")[0][0] == 0
    again = sync(sandbox, db)["streams"]
    assert sum(s["new"] + s["changed"] + s["deleted"] for s in again.values()) == 0


def test_sync_config_mistakes_are_one_line(sandbox, tmp_path):
    no_key = run_script("holded", "sync", "--db", str(tmp_path / "x.duckdb"), env={"HOLDED_API_KEY": ""})
    assert no_key.returncode == 2 and no_key.stderr.count("\n") == 1 and "HOLDED_API_KEY" in no_key.stderr
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("credentials: [unclosed\n")
    result = run_script("holded", "sync", "--config", str(bad_yaml), env={"HOLDED_API_KEY": ""})
    assert result.returncode == 2 and "bad.yaml" in result.stderr and "Traceback" not in result.stderr
    unknown = holded(sandbox, "sync", "--db", str(tmp_path / "x.duckdb"), "--streams", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr and unknown.stderr.count("\n") == 1
    wrong_key = holded(sandbox, "sync", "--db", str(tmp_path / "y.duckdb"), HOLDED_API_KEY="wrong-key-123456")
    assert wrong_key.returncode != 0 and "wrong-key-123456" not in wrong_key.stdout + wrong_key.stderr
    assert "Traceback" not in wrong_key.stderr


def test_config_file_then_env_then_flags(sandbox, tmp_path):
    """The file gives the credential, HOLDED_BASE_URL overrides its base_url, --base-url overrides both."""
    config = tmp_path / "holded.yaml"
    config.write_text(
        f"credentials:\n  auth_type: api_key\n  api_key: {sandbox.api_key}\nbase_url: http://127.0.0.1:9/api\n"
    )
    env = {"HOLDED_API_KEY": "", "HOLDED_BASE_URL": "http://127.0.0.1:9/api"}
    wins = run_script("holded", "proxy", "GET", "/crm/v1/funnels", "--config", str(config),
                      "--base-url", sandbox.base_url, env=env)  # fmt: skip
    assert wins.returncode == 0, wins.stderr
    env["HOLDED_BASE_URL"] = sandbox.base_url
    via_env = run_script("holded", "proxy", "GET", "/crm/v1/funnels", "--config", str(config), env=env)
    assert via_env.returncode == 0, via_env.stderr


# ---------------------------------------------------------------------------------------- push


def test_push_csv_dry_run_then_for_real_then_again(sandbox, tmp_path):
    csv = tmp_path / "companies.csv"
    csv.write_text(
        "id,name,email,taxId,phoneNumber\n"
        "crm-1,Runner Uno SL,uno@runner.es,B10000001,600000001\n"
        "crm-2,Runner Dos SL,dos@runner.es,B10000002,600000002\n"
        "crm-3,,sin-nombre@runner.es,,\n"
    )
    before = len(api(sandbox, "GET", "/invoicing/v1/contacts"))
    dry = holded(sandbox, "push", "--file", str(csv), "--stream", "genericCompany", "--dry-run", "--threshold", "0.5")
    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout and "Runner Uno SL" in dry.stdout
    assert "crm-3" in dry.stdout and "name" in dry.stdout  # the rejected row with its reason
    assert len(api(sandbox, "GET", "/invoicing/v1/contacts")) == before  # nothing written

    rejected = tmp_path / "rejected.jsonl"
    real = holded(sandbox, "push", "--file", str(csv), "--stream", "genericCompany", "--rejected", str(rejected),
                  "--json", "--threshold", "0.5")  # fmt: skip
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout.splitlines()[-1])["counts"] == {"created": 2, "rejected": 1}
    contacts = api(sandbox, "GET", "/invoicing/v1/contacts")
    assert len(contacts) == before + 2
    uno = next(c for c in contacts if c.get("name") == "Runner Uno SL")
    assert uno["phone"] == "600000001" and uno["code"] == "B10000001"  # a CSV phone number stays text
    lines = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert [(r["key"], "name" in r["reason"]) for r in lines] == [("crm-3", True)]

    again = holded(sandbox, "push", "--file", str(csv), "--stream", "genericCompany", "--json", "--threshold", "0.5")
    assert json.loads(again.stdout.splitlines()[-1])["counts"] == {"unchanged": 2, "rejected": 1}
    assert len(api(sandbox, "GET", "/invoicing/v1/contacts")) == before + 2
    too_many = holded(sandbox, "push", "--file", str(csv), "--stream", "genericCompany")
    assert too_many.returncode == 1 and "threshold" in too_many.stderr


def test_push_from_a_synced_table_and_a_query(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db)
    sql = "SELECT id, name || ' (revisado)' AS name FROM genericCompany ORDER BY id LIMIT 3"
    ids = [row[0] for row in query(db, sql)]
    dry = holded(sandbox, "push", "--db", str(db), "--sql", sql, "--stream", "genericCompany", "--dry-run", "--json")
    assert json.loads(dry.stdout.splitlines()[-1])["counts"] == {"planned": 3}
    assert "(revisado)" in dry.stderr  # the plan table (stdout carries the JSON)
    real = holded(sandbox, "push", "--db", str(db), "--sql", sql, "--stream", "genericCompany", "--json")
    assert json.loads(real.stdout.splitlines()[-1])["counts"] == {"updated": 3}
    for cid in ids:
        assert api(sandbox, "GET", f"/invoicing/v1/contacts/{cid}")["name"].endswith("(revisado)")
    # A whole synced table pushed back unchanged changes nothing (the stream comes from the table's name).
    table = holded(sandbox, "push", "--db", str(db), "--table", "genericUser", "--json")
    assert table.returncode == 0, table.stderr
    assert json.loads(table.stdout.splitlines()[-1])["counts"] == {"unchanged": count(db, "genericUser")}
    missing = holded(sandbox, "push", "--db", str(db), "--sql", "SELECT name FROM genericCompany", "--stream",
                     "genericCompany")  # fmt: skip
    assert missing.returncode == 2 and "`id`" in missing.stderr


def test_push_matches_a_key_in_another_case_as_the_same_company(sandbox, tmp_path):
    """matching_keys on the e-mail: the second row, the same address in other capitals, updates the company
    the first row created (one identity per text), and its other fields are applied."""
    config = tmp_path / "holded.json"
    config.write_text(json.dumps({"matching_keys": {"genericCompany": "email"}}))
    csv = tmp_path / "companies.csv"
    csv.write_text(
        "id,name,email,phoneNumber\n"
        "erp-ana-1,Prueba Ana SL,ana.prueba@example.com,600000001\n"
        "erp-ana-2,Prueba Ana Consultores SL,Ana.Prueba@Example.COM,600000002\n"
    )
    result = holded(sandbox, "push", "--file", str(csv), "--stream", "genericCompany", "--config", str(config),
                    "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["counts"] == {"created": 1, "updated": 1}
    contacts = api(sandbox, "GET", "/invoicing/v1/contacts")
    (ana,) = [c for c in contacts if (c.get("email") or "").casefold() == "ana.prueba@example.com"]
    assert (ana["name"], ana["phone"], ana["email"]) == ("Prueba Ana Consultores SL", "600000002",
                                                         "Ana.Prueba@Example.COM")  # fmt: skip
    assert ana["customId"] == "erp-ana-1" and ana["isperson"] == 0


def test_push_a_json_lines_file_where_some_rows_leave_out_a_list_field(sandbox, tmp_path):
    """A field one JSON line has and another leaves out is a null in that row's column: no value, so the row
    is written without it (it used to be refused: "tags: Input should be a valid list")."""
    rows = tmp_path / "companies.jsonl"
    rows.write_text(
        json.dumps({"id": "jl-1", "name": "Lineas Uno SL", "tags": ["vip"]}) + "\n"
        + json.dumps({"id": "jl-2", "name": "Lineas Dos SL"}) + "\n"
    )  # fmt: skip
    result = holded(sandbox, "push", "--file", str(rows), "--stream", "genericCompany", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["counts"] == {"created": 2}
    held = {c["customId"]: c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if c.get("customId")}
    assert held["jl-1"]["tags"] == ["vip"] and held["jl-2"]["name"] == "Lineas Dos SL"


def test_push_an_invoice_twice_while_the_numbering_series_overrides_its_number(sandbox, tmp_path):
    """The sandbox's series switch on: the create keeps Holded's number and says so; the second run matches the
    invoice by its external id and creates nothing, and the number is not pushed again."""
    from holded_core.mappings import ACCOUNTING_INVOICE, to_unified

    control(sandbox, "PATCH", "faults", series_overrides_number=True)
    company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c["isperson"])
    seeded = api(sandbox, "GET", "/invoicing/v1/documents/invoice")
    issued = next(to_unified(ACCOUNTING_INVOICE, seeded[0]))["issueDate"]  # the form the source reads dates in
    rows = tmp_path / "invoices.jsonl"
    rows.write_text(json.dumps({"id": "fac-2025-1", "company": company["id"], "issueDate": issued, "number": "F-001",
                                "draft": True, "notes": "Serie"}) + "\n")  # fmt: skip

    def ours() -> list[dict[str, Any]]:
        docs = api(sandbox, "GET", "/invoicing/v1/documents/invoice")
        return [d for d in docs if {"field": "holded-connector-id", "value": "fac-2025-1"} in d["customFields"]]

    first = holded(sandbox, "push", "--file", str(rows), "--stream", "accountingInvoice", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["counts"] == {"created": 1}
    (invoice,) = ours()
    assert invoice["docNumber"] not in ("F-001", "") and len(seeded) + 1 == len(
        api(sandbox, "GET", "/invoicing/v1/documents/invoice")
    )
    assert invoice["docNumber"] in first.stderr and "F-001" in first.stderr  # the note, in the table
    again = holded(sandbox, "push", "--file", str(rows), "--stream", "accountingInvoice", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["counts"] == {"unchanged": 1}
    assert [d["docNumber"] for d in ours()] == [invoice["docNumber"]]


# --------------------------------------------------------------------------------------- proxy


def test_proxy_calls_and_never_sends_the_key_elsewhere(sandbox):
    created = holded(sandbox, "proxy", "POST", "/invoicing/v1/contacts", "--data", '{"name": "Proxy SL"}')
    assert created.returncode == 0, created.stderr
    cid = json.loads(created.stdout)["id"]
    got = json.loads(holded(sandbox, "proxy", "GET", f"/invoicing/v1/contacts/{cid}").stdout)
    assert got["name"] == "Proxy SL"
    for target in ("http://example.com/steal", "//example.com/steal", "/../../other", "/%2e%2e/other"):
        refused = holded(sandbox, "proxy", "GET", target)
        assert refused.returncode != 0 and sandbox.api_key not in refused.stdout + refused.stderr, target
    bad_json = holded(sandbox, "proxy", "POST", "/invoicing/v1/contacts", "--data", "{nope")
    assert bad_json.returncode == 2 and "--data" in bad_json.stderr


def test_proxy_with_a_refused_credential_says_which_field_in_one_line_and_exits_2(sandbox):
    wrong_key = {**os.environ, "HOLDED_API_KEY": "0" * 32}
    refused = run_script("holded", "proxy", "GET", "/invoicing/v1/contacts", "--base-url", sandbox.base_url,
                         env=wrong_key)  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1 and "`credentials.api_key`" in refused.stderr
    revoked = {**os.environ, "HOLDED_API_TOKEN": "pat_revoked-token-000"}
    revoked.pop("HOLDED_API_KEY", None)
    refused = run_script("holded", "proxy", "GET", "/v2/contacts", "--base-url", sandbox.base_url, env=revoked)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1 and "credentials" in refused.stderr
    assert "pat_revoked-token-000" not in refused.stderr


# -------------------------------------------------------------------------------------- events


class Receiver:
    """A webhook receiver on 127.0.0.1: verifies each signature, fails the first `fail` requests."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.fail = 0
        self.accepted: list[dict[str, Any]] = []
        self.attempts = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if not verify(receiver.secret, body, self.headers.get("X-Holded-Signature")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(503)
                else:
                    event = json.loads(body)
                    assert self.headers["Idempotency-Key"] == event["id"]
                    assert self.headers["X-Holded-Event"] == event["event"]
                    receiver.accepted.append(event)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/holded"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver("whsec-test-0123456789")
    yield r
    r.close()


def test_webhook_events_wait_while_the_receiver_fails_then_arrive_once(sandbox, tmp_path, receiver):
    db = tmp_path / "events.duckdb"
    hook = ("events", "--db", str(db), "--webhook", receiver.url, "--attempts", "2", "--backoff", "0.05")
    secret = {"HOLDED_EVENTS_SECRET": receiver.secret}
    baseline = holded(sandbox, *hook, **secret)
    assert baseline.returncode == 0, baseline.stderr
    assert receiver.attempts == 0  # the first run records the baseline, it does not replay the account

    persons = [c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if c.get("isperson")]
    api(sandbox, "PUT", f"/invoicing/v1/contacts/{persons[0]['id']}", json={"mobile": "+34 699 000 000"})
    lead = api(sandbox, "GET", "/crm/v1/leads")[0]
    api(sandbox, "DELETE", f"/crm/v1/leads/{lead['id']}")

    receiver.fail = 10**6  # down
    down = holded(sandbox, *hook, **secret)
    assert down.returncode == 1 and "2 queued" in down.stderr, down.stderr
    assert receiver.attempts == 2 and not receiver.accepted  # order kept: stopped at the first refusal
    assert receiver.secret not in down.stdout + down.stderr

    receiver.fail = 1  # back, after one more failure
    up = holded(sandbox, *hook, **secret)
    assert up.returncode == 0, up.stderr
    assert sorted(e["event"] for e in receiver.accepted) == ["crmOpportunity::deleted", "genericContact::updated"]
    updated = next(e for e in receiver.accepted if e["type"] == "updated")
    assert updated["recordId"] == persons[0]["id"] and "mobile" in updated["changedFields"]
    assert receiver.bad_signatures == 0

    quiet = holded(sandbox, *hook, **secret)
    assert quiet.returncode == 0 and len(receiver.accepted) == 2  # each event arrived once
    assert len({e["id"] for e in receiver.accepted}) == 2

    wrong = Receiver("another-secret-value")  # a receiver with another secret refuses every delivery
    try:
        refused = holded(sandbox, "events", "--db", str(db), "--webhook", wrong.url, "--attempts", "1",
                         "--include-existing", **secret)  # fmt: skip
        assert refused.returncode == 1 and wrong.bad_signatures == 1 and not wrong.accepted
    finally:
        wrong.close()


def test_events_on_a_schedule_until_stopped(sandbox, tmp_path, receiver):
    db = tmp_path / "events.duckdb"
    env = {**os.environ, **env_for(sandbox), "HOLDED_EVENTS_SECRET": receiver.secret}
    cmd = [script("holded"), "events", "--db", str(db), "--webhook", receiver.url, "--every", "1s"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        assert "events:" in proc.stderr.readline()  # the baseline run
        company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c.get("isperson"))
        api(sandbox, "PUT", f"/invoicing/v1/contacts/{company['id']}", json={"name": "Programada SL"})
        deadline = time.monotonic() + 30
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [(e["event"], e["recordId"]) for e in receiver.accepted] == [("genericCompany::updated", company["id"])]


def test_events_without_webhook_print_json_lines(sandbox, tmp_path):
    db = tmp_path / "events.duckdb"
    assert holded(sandbox, "events", "--db", str(db)).stdout == ""  # baseline
    user = api(sandbox, "GET", "/team/v1/employees")["employees"][0]
    api(sandbox, "PUT", f"/team/v1/employees/{user['id']}", json={"name": "Renombrada"})
    result = holded(sandbox, "events", "--db", str(db))
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["event"], e["recordId"]) for e in events] == [("genericUser::updated", user["id"])]
    assert "firstName" in events[0]["changedFields"]


# ---------------------------------------------------------------------------------------- demo


@pytest.mark.parametrize("api_version, flags", [("v2", ()), ("v1", ("--api-version", "v1"))], ids=["v2", "v1"])
def test_demo_needs_no_account_and_no_config(tmp_path, api_version, flags):
    """`holded demo` is v2 unless told v1: each syncs, edits three records through its own API's routes, and
    the incremental sync finds exactly those three changes (an edit that changed only the phone: v2's
    full-replace PUT kept every other field)."""
    db = tmp_path / "demo.duckdb"
    no_credentials = {"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_CONFIG": ""}
    result = run_script("holded", "demo", "--db", str(db), "--scale", "0.05", *flags, env=no_credentials)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # rich wraps long lines
    other = "v1" if api_version == "v2" else "v2"
    assert out.count(f"requests to Holded API {api_version}") == 2 and f"to Holded API {other}" not in out
    # Each total says what was spent outside the streams (the basics check), as `holded sync`'s summary does.
    totals = re.findall(rf"(\d+) requests to Holded API {api_version} \((\d+) outside the streams\)", out)
    assert len(totals) == 2 and all(int(outside) >= 1 and int(n) > int(outside) for n, outside in totals), out
    assert re.search(r"\d+ requests in all\. \d+ outside the streams \(basics check, quota\)", out), out
    assert "Second sync (incremental)" in out and "Top customers" in out
    assert "pat_demo-api-token" not in result.stdout + result.stderr  # the sandbox's token is never printed
    if api_version == "v2":  # every request went through v2: the account's usage shows none through v1
        assert re.search(r"Monthly quota .*: [1-9]\d* of [\d,]+ used in \d{4}-\d\d, 0 through API v1\.", out), out

    # The first sync: a `created` event per row it loaded (rows now, less the new company, plus the deleted
    # lead); the second: the three edits, nothing else.
    kinds = dict(query(db, "SELECT type, count(*) FROM changeEvents GROUP BY type"))
    assert kinds == {"created": sum(count(db, stream) for stream in UNIFIED) + 1, "updated": 1, "deleted": 1}
    events = query(db, "SELECT event, recordId, changedFields, record FROM changeEvents ORDER BY seq DESC LIMIT 3")
    (deleted, lead_id, _, _), (created, company_id, _, company), (updated, person_id, fields, _) = events
    assert [updated, created, deleted] == [
        "genericContact::updated",
        "genericCompany::created",
        "crmOpportunity::deleted",
    ]
    assert sorted(json.loads(fields)) == ["phoneNumber", "updatedAt"]
    assert query(db, f"SELECT phoneNumber FROM genericContact WHERE id = '{person_id}'") == [("+34 600 000 001",)]
    assert json.loads(company)["record"]["name"] == "Demo Nueva SL"  # the column holds the whole event
    assert query(db, f"SELECT name, email FROM genericCompany WHERE id = '{company_id}'") == [
        ("Demo Nueva SL", "hola@demo-nueva.es")
    ]
    assert query(db, f"SELECT count(*) FROM crmOpportunity WHERE id = '{lead_id}'") == [(0,)]
    assert count(db, "accountingInvoice") > 0 and count(db, "crmOpportunity") > 0


def test_moving_start_date_forward_deletes_nothing(sandbox, tmp_path):
    """Documents that only left the `start_date` range are not deletions: their rows stay."""
    db = tmp_path / "holded.duckdb"
    config = tmp_path / "holded.json"
    config.write_text(json.dumps({"start_date": "2000-01-01"}))
    sync(sandbox, db, "--config", str(config))
    invoices = sorted(api(sandbox, "GET", "/invoicing/v1/documents/invoice"), key=lambda d: d["date"])
    assert count(db, "accountingInvoice") == len(invoices)
    middle = datetime.fromtimestamp(invoices[len(invoices) // 2]["date"], MADRID).date().isoformat()
    config.write_text(json.dumps({"start_date": middle}))
    moved = sync(sandbox, db, "--config", str(config))["streams"]
    assert moved["accountingInvoice"]["deleted"] == moved["changeEvents"]["deleted"] == 0
    assert count(db, "accountingInvoice") == len(invoices)
    api(sandbox, "DELETE", f"/invoicing/v1/documents/invoice/{invoices[-1]['id']}")  # the newest: in range
    after = sync(sandbox, db, "--config", str(config))["streams"]  # the new range tracks deletions again
    assert after["accountingInvoice"]["deleted"] == 1


# ---------------------------------------------------------------------------------- calendar days


def test_an_invoice_dated_new_year_in_madrid_is_that_day_in_duckdb_whatever_the_machine_zone(sandbox, tmp_path):
    """shared/holded-api/README.md: Calendar dates are midnight in Madrid."""
    company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c.get("isperson"))
    items = [{"name": "Soporte", "units": 1, "subtotal": 100, "tax": 21}]
    new_year = api(
        sandbox,
        "POST",
        "/invoicing/v1/documents/invoice",
        json={"date": NEW_YEAR_MADRID, "dueDate": 1_706_655_600, "contactId": company["id"], "items": items},
    )
    old_year = api(sandbox, "POST", "/invoicing/v1/documents/invoice",
                   json={"date": NEW_YEAR_MADRID - 1, "contactId": company["id"], "items": items})  # fmt: skip
    config = tmp_path / "holded.json"
    config.write_text(json.dumps({"start_date": "2024-01-01"}))
    db = tmp_path / "madrid.duckdb"
    done = holded(sandbox, "sync", "--db", str(db), "--config", str(config), "--streams", "accountingInvoice",
                  "--json", TZ="America/Los_Angeles")  # fmt: skip
    assert done.returncode == 0, done.stderr
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'accountingInvoice'"))  # fmt: skip
    assert types["issueDate"] == types["dueDate"] == "DATE" and types["createdAt"] == "TIMESTAMP WITH TIME ZONE"
    sql = f"SELECT issueDate, dueDate, year(issueDate) FROM accountingInvoice WHERE id = '{new_year['id']}'"
    assert query(db, sql) == [(date(2024, 1, 1), date(2024, 1, 31), 2024)]
    # start_date 2024-01-01 starts at midnight in Madrid: one second earlier is 2023, not listed.
    assert query(db, f"SELECT count(*) FROM accountingInvoice WHERE id = '{old_year['id']}'") == [(0,)]
    invoices = api(sandbox, "GET", "/invoicing/v1/documents/invoice")
    assert count(db, "accountingInvoice") == sum(1 for d in invoices if d["date"] >= NEW_YEAR_MADRID)
    assert query(db, "SELECT min(issueDate) FROM accountingInvoice") == [(date(2024, 1, 1),)]

    config.write_text(json.dumps({"timezone": "Atlantic/Canary"}))  # Madrid's midnight is 23:00 there
    canary = tmp_path / "canary.duckdb"
    done = holded(sandbox, "sync", "--db", str(canary), "--config", str(config), "--streams", "accountingInvoice",
                  TZ="Pacific/Kiritimati")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert query(canary, sql) == [(date(2023, 12, 31), date(2024, 1, 30), 2023)]

    config.write_text(json.dumps({"timezone": "Europe/Madird"}))
    wrong = holded(sandbox, "sync", "--db", str(tmp_path / "x.duckdb"), "--config", str(config))
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert "`timezone`" in wrong.stderr and "Europe/Madrid" in wrong.stderr


def test_push_sends_a_day_as_midnight_in_madrid_whatever_the_machine_zone(sandbox, tmp_path):
    company = next(c for c in api(sandbox, "GET", "/invoicing/v1/contacts") if not c.get("isperson"))
    csv = tmp_path / "invoices.csv"
    csv.write_text(f"id,company,issueDate,dueDate\npush-day-1,{company['id']},2024-01-01,2024-01-31\n")
    pushed = holded(sandbox, "push", "--file", str(csv), "--stream", "accountingInvoice", "--json",
                    TZ="Pacific/Kiritimati")  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout.splitlines()[-1])["counts"] == {"created": 1}
    (doc,) = [
        d
        for d in api(sandbox, "GET", "/invoicing/v1/documents/invoice")
        if {"field": "holded-connector-id", "value": "push-day-1"} in d["customFields"]
    ]
    assert (doc["date"], doc["dueDate"]) == (NEW_YEAR_MADRID, 1_706_655_600)
    again = holded(sandbox, "push", "--file", str(csv), "--stream", "accountingInvoice", "--json",
                   TZ="America/Los_Angeles")  # fmt: skip
    assert json.loads(again.stdout.splitlines()[-1])["counts"] == {"unchanged": 1}
    # Synced into DuckDB (DATE columns) and pushed back as it is: the same days, nothing to write.
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db, "--streams", "accountingInvoice")
    sql = f"SELECT id, issueDate, dueDate FROM accountingInvoice WHERE id = '{doc['id']}'"
    assert query(db, sql) == [(doc["id"], date(2024, 1, 1), date(2024, 1, 31))]
    back = holded(sandbox, "push", "--db", str(db), "--sql", sql, "--stream", "accountingInvoice", "--json")
    assert json.loads(back.stdout.splitlines()[-1])["counts"] == {"unchanged": 1}, back.stderr


def test_events_to_a_webhook_never_sign_with_holded_secret(sandbox, tmp_path, receiver):
    # Only Holded's whsec_ secret set (as the docs have users export it for `holded webhooks serve`): refused,
    # nothing sent, since the downstream receiver would then hold the key to forge deliveries into `serve`.
    db = tmp_path / "events.duckdb"
    result = holded(sandbox, "events", "--db", str(db), "--webhook", receiver.url,
                    HOLDED_WEBHOOK_SECRET=receiver.secret, HOLDED_EVENTS_SECRET="")  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == "holded events: --webhook needs a secret to sign the events: set HOLDED_EVENTS_SECRET (or --secret)"
    assert receiver.attempts == 0 and receiver.secret not in result.stdout + result.stderr


# ------------------------------------------------------------------ unchanged records are not mapped again


def test_given_an_unchanged_invoice_whose_contact_becomes_a_company_then_the_resync_moves_it_to_company_once(
    sandbox, tmp_path
):
    """A re-sync skips records whose Holded form did not change (raw fingerprints), but an invoice's
    customer/company also depends on its contact's kind: that is part of its raw fingerprint."""
    db = tmp_path / "h.duckdb"
    sync(sandbox, db)
    persons = {c["id"] for c in sandbox.store.all("contacts") if c.get("isperson")}
    invoice = next(d for d in sandbox.store.all("invoice") if d.get("contact") in persons)
    contact = invoice["contact"]
    assert query(db, f"SELECT customer, company FROM accountingInvoice WHERE id = '{invoice['id']}'") == [
        (contact, None)
    ]
    record = sandbox.store.get("contacts", contact)
    record["isperson"] = 0  # the invoice itself is untouched
    sandbox.store.save("contacts", record)

    again = sync(sandbox, db)
    assert again["streams"]["accountingInvoice"]["changed"] >= 1
    assert query(db, f"SELECT customer, company FROM accountingInvoice WHERE id = '{invoice['id']}'") == [
        (None, contact)
    ]
    events = query(
        db,
        "SELECT changedFields FROM changeEvents WHERE model = 'accountingInvoice' "
        f"AND recordId = '{invoice['id']}' AND type = 'updated'",
    )
    assert len(events) == 1 and set(json.loads(events[0][0])) >= {"customer", "company"}
    third = sync(sandbox, db)  # nothing changed since: nothing emitted
    assert all(s["new"] == s["changed"] == s["deleted"] == 0 for s in third["streams"].values())


def test_given_a_setting_the_mapping_reads_changes_then_unchanged_records_are_mapped_again_not_left_stale(
    sandbox, tmp_path
):
    """Raw fingerprints are kept under the settings the mapping reads: a new default currency re-maps every
    lead (an update each), and the next sync with the same settings emits nothing."""
    db = tmp_path / "h.duckdb"
    sync(sandbox, db, "--streams", "crmOpportunity,changeEvents")
    config = tmp_path / "usd.json"
    config.write_text(json.dumps({"credentials": {"api_key": sandbox.api_key}, "default_currency": "USD"}))
    leads = count(db, "crmOpportunity")
    again = sync(sandbox, db, "--streams", "crmOpportunity,changeEvents", "--config", str(config))
    assert again["streams"]["crmOpportunity"]["changed"] == leads
    assert query(db, "SELECT DISTINCT currency FROM crmOpportunity") == [("USD",)]
    third = sync(sandbox, db, "--streams", "crmOpportunity,changeEvents", "--config", str(config))
    assert third["streams"]["crmOpportunity"]["changed"] == 0 and third["streams"]["changeEvents"]["changed"] == 0
