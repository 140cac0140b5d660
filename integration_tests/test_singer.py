"""`tap-holded` and `target-holded` as a Singer runner (Meltano) runs them: real subprocesses against
sandboxes on 127.0.0.1, every expected figure read from the sandbox's own Holded routes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from holded_core.settings import parse_settings
from holded_sandbox import OAuthSettings
from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import run_script, script
from integration_tests.source_helpers import UNIFIED, sandbox_counts
from unit_tests.conftest import control

EVENTS = "changeEvents"
CONTACTS = "/invoicing/v1/contacts"


class Singer:
    """One run's stdout, message by message."""

    def __init__(self, result: subprocess.CompletedProcess) -> None:
        self.result = result
        self.messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of("RECORD") if m["stream"] == stream]

    def counts(self) -> dict[str, int]:
        return dict(Counter(m["stream"] for m in self.of("RECORD")))

    def last_state(self) -> dict[str, Any]:
        return self.of("STATE")[-1]["value"]


def tap(tmp_path: Path, config: dict[str, Any], *args: str, state: dict | None = None) -> Singer:
    config_path = tmp_path / "tap-config.json"
    config_path.write_text(json.dumps(config))
    extra = list(args)
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        extra += ["--state", str(state_path)]
    return Singer(run_script("tap-holded", "--config", str(config_path), *extra))


def target(tmp_path: Path, config: dict[str, Any], messages: list[dict[str, Any]] | str) -> subprocess.CompletedProcess:
    config_path = tmp_path / "target-config.json"
    config_path.write_text(json.dumps(config))
    stdin = messages if isinstance(messages, str) else "".join(json.dumps(m) + "\n" for m in messages)
    args = [script("target-holded"), "--config", str(config_path)]
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300)


def config_for(sb: Any, **extra: Any) -> dict[str, Any]:
    return connector_config(sb, **extra)


def contacts(sb: Any) -> list[dict[str, Any]]:
    resp = requests.get(sb.base_url + CONTACTS, headers={"key": sb.api_key}, timeout=30)
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def own_sandbox():
    """A sandbox this test may change."""
    with running_sandbox(scale=0.05, seed=12) as server:
        yield server


@pytest.fixture
def empty_sandbox():
    """A sandbox with no contacts: what a target test writes is all there is."""
    with running_sandbox(scale=0.01, seed=13) as server:
        control(server, "POST", "fill", collection="contacts", count=0)
        yield server


# ------------------------------------------------------------------------------------------- tap


def test_discover_prints_a_singer_catalog(sandbox, config_file):
    result = run_script("tap-holded", "--config", config_file(), "--discover")
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    offered = [s.name for s in parse_settings(json.loads(Path(config_file()).read_text())).streams()]
    entries = {e["tap_stream_id"]: e for e in catalog["streams"]}
    assert list(entries) == offered
    for name, entry in entries.items():
        root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        assert root["forced-replication-method"] == "INCREMENTAL"
        assert root["table-key-properties"] == entry["key_properties"]
        assert root["selected-by-default"] == (name in [*UNIFIED, EVENTS]), name
        assert "_sdc_deleted_at" in entry["schema"]["properties"]
        key_crumbs = [m for m in entry["metadata"] if m["breadcrumb"][1:] == [entry["key_properties"][0]]]
        assert key_crumbs[0]["metadata"]["inclusion"] == "automatic"
    assert entries["daily_ledger"]["key_properties"] == ["entryNumber", "line"]


def test_about_describes_the_tap_and_its_settings():
    result = run_script("tap-holded", "--about")
    about = json.loads(result.stdout)
    assert about["name"] == "tap-holded" and {"catalog", "discover", "state"} <= set(about["capabilities"])
    assert "credentials" in about["settings"]["properties"]


def test_sync_counts_then_incremental_then_a_deletion(own_sandbox, tmp_path):
    config = config_for(own_sandbox)
    first = tap(tmp_path, config)
    assert first.result.returncode == 0, first.result.stderr[-2000:]
    expected = sandbox_counts(own_sandbox)
    assert first.counts() == {**expected, EVENTS: sum(expected.values())}
    schemas = {m["stream"]: m for m in first.of("SCHEMA")}
    assert set(schemas) == {*UNIFIED, EVENTS}
    assert all(m["key_properties"] == ["id"] for m in schemas.values())
    assert "_sdc_deleted_at" in schemas["genericCompany"]["schema"]["properties"]
    seen_schema: set[str] = set()
    for message in first.messages:  # a stream's SCHEMA comes before its first RECORD
        if message["type"] == "SCHEMA":
            seen_schema.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in seen_schema and message["time_extracted"].endswith("Z")
    assert first.messages[-1]["type"] == "STATE"
    assert set(first.last_state()["bookmarks"]) == {*UNIFIED, EVENTS}

    second = tap(tmp_path, config, state=first.last_state())
    assert second.result.returncode == 0, second.result.stderr[-2000:]
    assert second.counts() == {}
    assert set(second.last_state()["bookmarks"]) == {*UNIFIED, EVENTS}

    person = next(c for c in contacts(own_sandbox) if c["isperson"] == 1)
    deleted = requests.delete(f"{own_sandbox.base_url}{CONTACTS}/{person['id']}", headers={"key": own_sandbox.api_key})
    assert deleted.json()["status"] == 1
    third = tap(tmp_path, config, state=second.last_state())
    assert third.result.returncode == 0, third.result.stderr[-2000:]
    assert third.counts() == {"genericContact": 1, EVENTS: 1}
    tombstone = third.records("genericContact")[0]
    assert tombstone["id"] == person["id"]
    assert tombstone["_sdc_deleted_at"] and tombstone["_sdc_deleted_at"] == tombstone["_ab_cdc_deleted_at"]
    assert third.records(EVENTS)[0]["event"] == "genericContact::deleted"


def test_a_killed_sync_resumes_from_the_last_state_it_wrote(own_sandbox, tmp_path):
    """SIGKILL once a first STATE is out; the next run from that state completes everything, with no
    tombstone (a listing that did not finish never yields deletions) and nothing again of a stream
    that had completed."""
    expected = sandbox_counts(own_sandbox)
    control(own_sandbox, "PATCH", "faults", latency_ms=300)  # slow listings: the kill lands mid-sync
    config_path = tmp_path / "tap-config.json"
    config_path.write_text(json.dumps(config_for(own_sandbox, stream_concurrency=1)))
    proc = subprocess.Popen(
        [script("tap-holded"), "--config", str(config_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    lines: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append(json.loads(raw))
            if lines[-1]["type"] == "STATE":
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait()
        control(own_sandbox, "PATCH", "faults", latency_ms=0)
    state = lines[-1]["value"]
    done = set(state["bookmarks"])
    assert done and done != {*UNIFIED, EVENTS}, "the kill should land before the sync ends"

    resumed = tap(tmp_path, config_for(own_sandbox), state=state)
    assert resumed.result.returncode == 0, resumed.result.stderr[-2000:]
    assert not any("_sdc_deleted_at" in r for m in resumed.of("RECORD") for r in [m["record"]])
    first = Counter(m["stream"] for m in lines if m["type"] == "RECORD")
    for stream in UNIFIED:
        assert first.get(stream, 0) + resumed.counts().get(stream, 0) >= expected[stream], stream
        if stream in done and state["bookmarks"][stream]["pending"] is None:  # complete before the kill
            assert resumed.counts().get(stream, 0) == 0, stream


def test_catalog_selects_streams_and_fields(sandbox, config_file, tmp_path):
    catalog = json.loads(run_script("tap-holded", "--config", config_file(), "--discover").stdout)
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] in ("genericCompany", "products")
        for crumb in entry["metadata"]:
            if crumb["breadcrumb"] == ["properties", "email"] and entry["tap_stream_id"] == "genericCompany":
                crumb["metadata"]["selected"] = False
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    run = Singer(run_script("tap-holded", "--config", config_file(), "--properties", str(path)))  # the older flag
    assert run.result.returncode == 0, run.result.stderr[-2000:]
    products = requests.get(f"{sandbox.base_url}/invoicing/v1/products", headers={"key": sandbox.api_key}).json()
    assert run.counts() == {"genericCompany": sandbox_counts(sandbox)["genericCompany"], "products": len(products)}
    assert not any("email" in record for record in run.records("genericCompany"))
    schema = next(m["schema"] for m in run.of("SCHEMA") if m["stream"] == "genericCompany")
    assert "email" not in schema["properties"] and "name" in schema["properties"]
    assert set(run.last_state()["bookmarks"]) == {"genericCompany", "products"}


def test_tap_config_and_state_mistakes_are_one_line(sandbox, config_file, tmp_path):
    secret = "tap-secret-that-must-not-leak-42"
    cases = [  # config_file rewrites one file: each is written just before its run
        (lambda: config_file(credentials={}), "`credentials"),
        (lambda: config_file(base_url="ftp://nowhere"), "`base_url`"),
        (lambda: config_file(stream_concurrency=99), "`stream_concurrency`"),
        (lambda: str(tmp_path / "missing.json"), "missing.json"),
    ]
    for write, named in cases:
        path = write()
        result = run_script("tap-holded", "--config", path)
        assert result.returncode == 2, (path, result.stderr)
        assert result.stderr.count("\n") == 1 and named in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""

    state = tmp_path / "bad-state.json"
    state.write_text(json.dumps({"bookmarks": {"genericCompany": {"v": 1, "snapshot": {"fmt": "hex+parts"}}}}))
    result = run_script("tap-holded", "--config", config_file(), "--state", str(state))
    assert result.returncode == 2 and "genericCompany" in result.stderr and result.stdout == ""

    # A refused key is a config mistake too, found by the basics check before any message is written.
    result = run_script("tap-holded", "--config", config_file(credentials={"api_key": secret}))
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert "401" in result.stderr and "`credentials.api_key`" in result.stderr
    assert secret not in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_no_airbyte_cdk_in_the_singer_executables():
    code = "import sys, singer_holded.tap, singer_holded.target; print('airbyte_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


# ---------------------------------------------------------------------------------------- target


def company_messages(names: dict[str, str], state: int) -> list[dict[str, Any]]:
    schema = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "genericCompany", "schema": schema, "key_properties": ["id"]}
    ]
    for key, name in names.items():
        record = {"id": key, "name": name, "_sdc_extracted_at": "2026-01-01T00:00:00Z", "_sdc_batched_at": "x"}
        messages.append({"type": "RECORD", "stream": "genericCompany", "record": record})
    messages.append({"type": "STATE", "value": {"bookmarks": {"genericCompany": {"n": state}}}})
    return messages


def test_target_creates_exactly_once_and_deletes(empty_sandbox, tmp_path):
    config = config_for(empty_sandbox, rejected_records_path=str(tmp_path / "rejected.jsonl"))
    names = {"singer-co-1": "Singer Uno SL", "singer-co-2": "Singer Dos SL", "singer-co-3": "Singer Tres SL"}
    first_batch = dict(list(names.items())[:2])
    messages = company_messages(first_batch, 1) + company_messages({"singer-co-3": names["singer-co-3"]}, 2)[1:]
    for run in range(2):
        result = target(tmp_path, config, messages)
        assert result.returncode == 0, result.stderr
        states = [json.loads(line) for line in result.stdout.splitlines()]
        assert states == [{"bookmarks": {"genericCompany": {"n": 1}}}, {"bookmarks": {"genericCompany": {"n": 2}}}]
        assert ("created 3" if run == 0 else "unchanged 3") in result.stderr
        held = Counter(c["name"] for c in contacts(empty_sandbox))
        assert held == Counter(names.values()), run
    assert not (tmp_path / "rejected.jsonl").exists()

    tombstone = {"id": "singer-co-2", "_sdc_deleted_at": "2026-01-02T00:00:00Z"}
    result = target(tmp_path, config, [{"type": "RECORD", "stream": "genericCompany", "record": tombstone}])
    assert result.returncode == 0, result.stderr
    assert sorted(c["name"] for c in contacts(empty_sandbox)) == ["Singer Tres SL", "Singer Uno SL"]


def test_target_echoes_a_state_only_after_its_records_are_in_holded(empty_sandbox, tmp_path):
    control(empty_sandbox, "PATCH", "faults", latency_ms=150)  # slow writes: an early state would show
    config_path = tmp_path / "target-config.json"
    config_path.write_text(json.dumps(config_for(empty_sandbox, concurrency=2)))
    names = {f"slow-{i}": f"Slow Company {i}" for i in range(6)}
    proc = subprocess.Popen(
        [script("target-holded"), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in company_messages(names, 7)))
        proc.stdin.flush()
        started = time.monotonic()
        line = proc.stdout.readline()  # stdin stays open: the state is echoed mid-stream
        assert json.loads(line) == {"bookmarks": {"genericCompany": {"n": 7}}}
        control(empty_sandbox, "PATCH", "faults", latency_ms=0)
        assert {c["name"] for c in contacts(empty_sandbox)} == set(names.values())
        assert time.monotonic() - started > 0.15
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        control(empty_sandbox, "PATCH", "faults", latency_ms=0)


def test_target_fails_past_the_rejection_threshold(empty_sandbox, tmp_path):
    records = [{"type": "RECORD", "stream": "genericCompany", "record": {"id": f"x-{i}"}} for i in range(3)]
    unknown = {"type": "RECORD", "stream": "widgets", "record": {"id": "w-1", "name": "A widget"}}
    result = target(tmp_path, config_for(empty_sandbox), [*records, unknown])
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("target-holded: too many records refused") and "genericCompany 3/3" in last
    assert "widgets 1/1" in last and "Traceback" not in result.stderr
    assert contacts(empty_sandbox) == []

    bad = target(tmp_path, {**config_for(empty_sandbox), "default_operation": "merge"}, [])
    assert bad.returncode == 2 and "`default_operation`" in bad.stderr and bad.stderr.count("\n") == 1


def test_tap_into_target_round_trip(sandbox, config_file, empty_sandbox, tmp_path):
    """Companies read from one account by tap-holded, written into another by target-holded."""
    catalog = json.loads(run_script("tap-holded", "--config", config_file(), "--discover").stdout)
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] == "genericCompany"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    read = run_script("tap-holded", "--config", config_file(), "--catalog", str(tmp_path / "catalog.json"))
    assert read.returncode == 0, read.stderr[-2000:]
    written = target(tmp_path, config_for(empty_sandbox), read.stdout)
    assert written.returncode == 0, written.stderr[-2000:]
    source_names = Counter(c["name"] for c in contacts(sandbox) if c["isperson"] == 0)
    assert Counter(c["name"] for c in contacts(empty_sandbox)) == source_names
    assert json.loads(written.stdout.splitlines()[-1])["bookmarks"]["genericCompany"]["v"] == 1


def test_a_rotated_refresh_token_is_written_back_to_the_config_file(tmp_path):
    with running_sandbox(scale=0.02, oauth=OAuthSettings(rotate_refresh_tokens=True)) as sb:
        old = sb.oauth.refresh_token
        credentials = {
            "auth_type": "oauth2",
            "client_id": sb.oauth.client_id,
            "client_secret": sb.oauth.client_secret,
            "refresh_token": old,
            "token_url": sb.token_url,
        }
        config = {"credentials": credentials, "base_url": sb.base_url}
        read = tap(tmp_path, config)
        assert read.result.returncode == 0, read.result.stderr[-2000:]
        rotated = json.loads((tmp_path / "tap-config.json").read_text())["credentials"]["refresh_token"]
        assert rotated not in (old, "") and "update `credentials.refresh_token`" in read.result.stderr
        assert old not in read.result.stdout + read.result.stderr

        messages = company_messages({"oauth-co-1": "OAuth Company SL"}, 1)
        written = target(tmp_path, {**config, "credentials": {**credentials, "refresh_token": rotated}}, messages)
        assert written.returncode == 0, written.stderr[-2000:]
        again = json.loads((tmp_path / "target-config.json").read_text())["credentials"]["refresh_token"]
        assert again not in (rotated, "")
