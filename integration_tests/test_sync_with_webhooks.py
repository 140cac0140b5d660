"""`holded sync` with Holded's webhooks on: the models Holded sends no events for are listed every run, the
others (contacts, invoices) only when their last complete listing is older than `reconcile_every`; a model
left to the webhooks keeps its rows and state and gets no change event, no deletion above all, until it is
listed again. Real `holded` console script against a sandbox on 127.0.0.1 (API v2 token)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import run_script

LISTED_EVERY_RUN = {"/v2/employees", "/v2/projects", "/v2/funnels", "/v2/leads", "/v2/events"}
KEPT_BY_WEBHOOKS = ["genericContact", "genericCompany", "accountingInvoice", "accountingInvoiceItem"]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.05, seed=31) as sb:
        yield sb


def sync(sandbox: Any, config: Path, db: Path, *args: str) -> dict[str, Any]:
    before = sandbox.stats()["requests"]["total"]
    env = {"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_CONFIG": "", "COLUMNS": "250"}
    result = run_script("holded", "sync", "--config", str(config), "--db", str(db), "--json", "--no-progress", *args,
                        env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout[result.stdout.index("\n{") + 1 :] if "\n{" in result.stdout else result.stdout)
    assert summary["requests"] == sandbox.stats()["requests"]["total"] - before  # what Holded counted
    summary["_table"] = result.stderr  # (the summary table goes to stderr when stdout carries the JSON)
    return summary


def v1(sandbox: Any, method: str, path: str) -> Any:
    resp = requests.request(method, sandbox.base_url + path, headers={"key": sandbox.api_key}, timeout=30)
    resp.raise_for_status()
    answer = resp.json()
    assert not (isinstance(answer, dict) and answer.get("status") == 0), answer  # Holded's refusal under a 200
    return answer


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def states(db: Path) -> dict[str, Any]:
    """The saved states as the engine reads them (`changeEvents`: `{"v": 1, "models": {...}}`)."""
    saved = {stream: json.loads(state) for stream, state in query(db, "SELECT stream, state FROM _holded_state")}
    models = {model: json.loads(state) for model, state in query(db, "SELECT model, state FROM _holded_event_state")}
    return saved | ({"changeEvents": {"v": 1, "models": models}} if models else {})


def test_given_webhooks_on_then_only_the_models_without_events_are_listed_until_reconcile_every_has_passed(
    sandbox, tmp_path
):
    config = tmp_path / "holded.json"
    # A webhook made in Holded's UI for contacts and invoices: its events named in the config.
    webhooks = {"enabled": True, "events": ["contact", "invoice"]}
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", webhooks=webhooks)))
    db = tmp_path / "holded.duckdb"

    first = sync(sandbox, config, db)  # nothing listed before: everything is due
    assert {entry["path"] for entry in first["listings"]} == LISTED_EVERY_RUN | {"/v2/contacts", "/v2/invoices"}
    assert first["webhooks"]["reconciled"] == KEPT_BY_WEBHOOKS
    saved = states(db)
    contact = query(db, "SELECT id FROM genericContact WHERE id NOT LIKE '%:%' ORDER BY id LIMIT 1")[0][0]
    invoice = query(db, "SELECT id FROM accountingInvoice WHERE draft ORDER BY id LIMIT 1")[0][0]  # (deletable)
    lead = query(db, "SELECT id FROM crmOpportunity ORDER BY id LIMIT 1")[0][0]
    rows = {name: query(db, f'SELECT count(*) FROM "{name}"')[0][0] for name in KEPT_BY_WEBHOOKS}

    # Deleted in Holded: a contact and an invoice (Holded sends events for them), and a lead (it does not).
    v1(sandbox, "DELETE", f"/invoicing/v1/contacts/{contact}")
    v1(sandbox, "DELETE", f"/invoicing/v1/documents/invoice/{invoice}")
    v1(sandbox, "DELETE", f"/crm/v1/leads/{lead}")

    second = sync(sandbox, config, db)
    # Requests only for the models Holded sends no events for (plus the basics check and the quota read).
    assert {entry["path"] for entry in second["listings"]} == LISTED_EVERY_RUN
    assert second["requests"] == second["requests_outside_streams"] + sum(e["requests"] for e in second["listings"])
    assert second["requests_outside_streams"] == 2
    for name in KEPT_BY_WEBHOOKS:
        stream = second["streams"][name]
        assert (stream["source"], stream["status"], stream["requests"], stream["rows"]) == (
            "webhooks", "from webhooks", 0, rows[name]
        )  # fmt: skip
        listed = time.mktime(time.strptime(stream["last_listed"], "%Y-%m-%dT%H:%M:%SZ"))
        due = time.mktime(time.strptime(stream["next_listing"], "%Y-%m-%dT%H:%M:%SZ"))
        assert due - listed == pytest.approx(0.9 * 86400, abs=1)  # the default: a day, less a tenth
    assert second["streams"]["crmOpportunity"]["source"] == "listing"
    assert second["streams"]["crmOpportunity"]["deleted"] == 1
    table = " ".join(second["_table"].split())  # the caption wraps
    assert "webhooks on: streams Holded sends events for are listed every 1d" in table
    assert (
        f"from webhooks this run, listed again from {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(due))}: "
        "genericContact, genericCompany, accountingInvoice, accountingInvoiceItem" in table
    )
    assert table.count("from webhooks") == 4 + 1  # a row each, and the caption
    # Nothing is said deleted for the models not listed: their rows and states are as they were.
    deleted = query(db, "SELECT model, recordId FROM changeEvents WHERE type = 'deleted' ORDER BY model")
    assert deleted == [("crmOpportunity", lead)]
    assert query(db, f"SELECT count(*) FROM genericContact WHERE id = '{contact}'") == [(1,)]
    after = states(db)
    for name in KEPT_BY_WEBHOOKS:
        assert after[name] == saved[name], name
    for name in KEPT_BY_WEBHOOKS:
        assert after["changeEvents"]["models"][name] == saved["changeEvents"]["models"][name], name

    # Once reconcile_every has passed, everything is listed again, and the missed deletions come out.
    time.sleep(1.1)
    third = sync(sandbox, config, db, "--reconcile-every", "1s")
    assert {entry["path"] for entry in third["listings"]} == LISTED_EVERY_RUN | {"/v2/contacts", "/v2/invoices"}
    assert third["webhooks"]["reconciled"] == KEPT_BY_WEBHOOKS and third["webhooks"]["from_webhooks"] == {}
    assert {name: third["streams"][name]["source"] for name in KEPT_BY_WEBHOOKS} == dict.fromkeys(
        KEPT_BY_WEBHOOKS, "listing"
    )
    deleted = query(db, "SELECT model, recordId FROM changeEvents WHERE type = 'deleted' AND model IN "
                        "('genericContact', 'accountingInvoice') ORDER BY model")  # fmt: skip
    assert deleted == [("accountingInvoice", invoice), ("genericContact", contact)]
    assert query(db, f"SELECT count(*) FROM genericContact WHERE id = '{contact}'") == [(0,)]


def test_given_webhooks_off_by_flag_then_every_model_is_listed_and_the_summary_says_webhooks_are_off(sandbox, tmp_path):
    config = tmp_path / "holded.json"
    webhooks = {"enabled": True, "events": ["contact", "invoice"]}
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", webhooks=webhooks)))
    db = tmp_path / "holded.duckdb"
    sync(sandbox, config, db)
    again = sync(sandbox, config, db, "--no-webhooks")
    assert {entry["path"] for entry in again["listings"]} == LISTED_EVERY_RUN | {"/v2/contacts", "/v2/invoices"}
    assert again["webhooks"] == {"enabled": False}
    forced = sync(sandbox, config, db, "--reconcile")
    assert forced["webhooks"]["reconciled"] == KEPT_BY_WEBHOOKS


def test_given_only_change_events_of_a_model_kept_by_webhooks_then_its_listing_waits_for_its_reconciliation(
    sandbox, tmp_path
):
    config = tmp_path / "holded.json"
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", webhooks={"events": ["contact", "invoice"]})))
    db = tmp_path / "holded.duckdb"
    sync(sandbox, config, db, "--streams", "crmOpportunity,changeEvents")  # every model listed for the events
    second = sync(sandbox, config, db, "--streams", "crmOpportunity,changeEvents", "--webhooks")
    assert {entry["path"] for entry in second["listings"]} == LISTED_EVERY_RUN
    assert set(second["webhooks"]["from_webhooks"]) == {f"changeEvents:{name}" for name in KEPT_BY_WEBHOOKS}
    assert second["streams"]["changeEvents"]["status"] == "complete"


def test_given_webhooks_on_but_no_events_registered_then_they_are_listed_as_usual_until_registered(sandbox, tmp_path):
    config = tmp_path / "holded.json"
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", webhooks={"enabled": True})))
    db = tmp_path / "holded.duckdb"
    sync(sandbox, config, db)
    second = sync(sandbox, config, db)  # nothing registered: the webhooks keep nothing, all is listed
    assert {entry["path"] for entry in second["listings"]} == LISTED_EVERY_RUN | {"/v2/contacts", "/v2/invoices"}
    assert second["webhooks"]["from_webhooks"] == {} and second["webhooks"]["unregistered"] == KEPT_BY_WEBHOOKS
    table = " ".join(second["_table"].split())
    assert ("listed as usual, their Holded events not registered (`holded webhooks register`, or `webhooks.events` "
            "for a webhook made in Holded's UI): " + ", ".join(KEPT_BY_WEBHOOKS)) in table  # fmt: skip

    # Registered for invoices only: invoices are left to the webhooks, contacts still listed.
    registered = run_script("holded", "webhooks", "register", "--config", str(config), "--db", str(db), "--url",
                            "http://127.0.0.1:9/hook", "--events", "invoice",
                            env={"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_CONFIG": ""})  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    third = sync(sandbox, config, db)
    assert {entry["path"] for entry in third["listings"]} == LISTED_EVERY_RUN | {"/v2/contacts"}
    assert set(third["webhooks"]["from_webhooks"]) == {"accountingInvoice", "accountingInvoiceItem"}
    assert third["webhooks"]["unregistered"] == ["genericContact", "genericCompany"]


@pytest.mark.parametrize(
    ("webhooks", "message"),
    [
        ({"enabled": True, "reconcile_every": "soon"}, "`webhooks.reconcile_every` 'soon' is not a duration"),
        ({"enabled": "yes"}, "`webhooks.enabled` 'yes' must be true or false"),
        ({"enabled": True, "every": "1h"}, "`webhooks.every` is not a setting"),
        ({"enabled": True, "events": ["lead.update"]}, "`webhooks.events`: 'lead.update' is not a Holded webhook"),
    ],
)
def test_given_a_wrong_webhooks_setting_then_one_line_names_the_field(sandbox, tmp_path, webhooks, message):
    config = tmp_path / "holded.json"
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", webhooks=webhooks)))
    result = run_script("holded", "sync", "--config", str(config), "--db", str(tmp_path / "x.duckdb"),
                        env={"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_CONFIG": ""})  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("holded sync: ") and message in line
    assert not (tmp_path / "x.duckdb").exists()
