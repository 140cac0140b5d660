"""When the basics are wrong (a refused key, a base URL answering HTML, an unreachable host), every entry
point stops at once with one error naming the field to fix: `holded sync` / `events` / `push` with one
line on stderr and exit 2, the Singer tap and target likewise, the Airbyte source and destination with
one config_error trace. Real console scripts against the sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from holded_core.client import FIRST_CONTACT_RETRIES
from holded_sandbox.testing import connector_config
from integration_tests.conftest import airbyte_messages, run_script, script
from integration_tests.source_helpers import SourceRunner
from unit_tests.conftest import control

SECRET = "wrong-key-that-must-not-leak-5150"
ATTEMPTS = FIRST_CONTACT_RETRIES + 1  # 3: not the retry policy's 7 attempts over 70 s
REFUSED_401 = {"status": 401, "body": {"status": 0, "info": "Unauthorized: invalid API key"}}


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rows_file(tmp_path: Path) -> str:
    path = tmp_path / "companies.jsonl"
    path.write_text('{"id": "basics-1", "name": "Basics SL"}\n')
    return str(path)


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "sync": lambda tmp: ["sync", "--db", str(tmp / "holded.duckdb"), "--no-progress"],
    "events": lambda tmp: ["events", "--db", str(tmp / "holded.duckdb")],
    "push": lambda tmp: ["push", "--file", rows_file(tmp), "--stream", "genericCompany"],
}


def holded(command: str, tmp_path: Path, api_key: str, base_url: str) -> subprocess.CompletedProcess:
    env = {"HOLDED_API_KEY": api_key, "HOLDED_BASE_URL": base_url, "HOLDED_CONFIG": ""}
    return run_script("holded", *COMMANDS[command](tmp_path), env=env)


def one_line(result: subprocess.CompletedProcess, prefix: str) -> str:
    """The single stderr line of a run that stopped on a config mistake (exit 2), nothing on stdout."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert result.stdout == ""
    return lines[0]


def requests_by_status(sandbox: Any) -> dict[str, int]:
    return control(sandbox, "GET", "stats")["requests"]["by_status"]


@pytest.fixture
def script_401s(sandbox: Any) -> Iterator[Callable[..., None]]:
    """Make the sandbox refuse the credential on some listings (a key revoked mid-run); always cleared."""

    def install(*prefixes: str) -> None:
        control(sandbox, "PATCH", "faults", script=[{**REFUSED_401, "match": p} for p in prefixes])

    yield install
    control(sandbox, "PATCH", "faults", script=[])


# ----------------------------------------------------------------------------------- holded runner


@pytest.mark.parametrize("command", list(COMMANDS))
def test_given_a_wrong_key_then_one_call_and_one_line_naming_the_api_key(command, sandbox, tmp_path):
    refused_before = requests_by_status(sandbox).get("401", 0)
    result = holded(command, tmp_path, SECRET, sandbox.base_url)
    line = one_line(result, f"holded {command}: `credentials.api_key`: Holded refused the API key (HTTP 401")
    assert "paste a valid API key" in line
    assert SECRET not in result.stdout + result.stderr
    assert requests_by_status(sandbox).get("401", 0) == refused_before + 1  # one call, not one per stream
    assert not (tmp_path / "holded.duckdb").exists()  # no empty database left that looks synced


def test_given_a_wrong_key_then_an_existing_database_is_kept_as_it_was(sandbox, tmp_path):
    synced = holded("sync", tmp_path, sandbox.api_key, sandbox.base_url)
    assert synced.returncode == 0, synced.stderr
    db = tmp_path / "holded.duckdb"
    size = db.stat().st_size
    one_line(holded("sync", tmp_path, SECRET, sandbox.base_url), "holded sync: `credentials.api_key`")
    assert db.exists() and db.stat().st_size == size


@pytest.mark.parametrize("command", list(COMMANDS))
def test_given_a_revoked_v2_token_then_one_line_naming_the_token_not_a_v1_key(command, sandbox, tmp_path):
    token = "pat_revoked-0123456789"
    env = {"HOLDED_API_TOKEN": token, "HOLDED_API_KEY": "", "HOLDED_BASE_URL": sandbox.base_url, "HOLDED_CONFIG": ""}
    result = run_script("holded", *COMMANDS[command](tmp_path), env=env)
    line = one_line(result, f"holded {command}: `credentials.token`: Holded refused the API v2 token (HTTP 403")
    assert "Access denied." in line and "not revoked" in line
    assert token not in result.stdout + result.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_given_a_base_url_without_api_then_one_line_naming_base_url(command, sandbox, tmp_path):
    root = sandbox.base_url.removesuffix("/api")  # the sandbox answers Holded's HTML 404 page there
    result = holded(command, tmp_path, sandbox.api_key, root)
    line = one_line(result, f"holded {command}: `base_url` {root} is not Holded's API")
    assert "an HTML page" in line and f"did you mean {root}/api?" in line


@pytest.mark.parametrize("command", list(COMMANDS))
def test_given_an_unreachable_host_then_a_few_quick_attempts_and_one_line_naming_base_url(command, sandbox, tmp_path):
    port = closed_port()
    result = holded(command, tmp_path, sandbox.api_key, f"http://127.0.0.1:{port}/api")
    line = one_line(result, f"holded {command}: `base_url`: cannot reach 127.0.0.1:{port} ")
    assert f"(connection refused; gave up after {ATTEMPTS} attempts)" in line


@pytest.mark.parametrize("command", ["sync", "events"])
def test_given_a_key_refused_mid_run_then_one_line_not_one_per_stream(command, sandbox, tmp_path, script_401s):
    # The basics call passes; then the funnels, leads, events, employees and projects listings are refused.
    script_401s("/crm", "/crm", "/crm", "/team", "/projects")
    result = holded(command, tmp_path, sandbox.api_key, sandbox.base_url)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    mentions = [line for line in lines if "401" in line or "refused" in line]
    assert mentions == [lines[-1]], result.stderr
    assert lines[-1].startswith(f"holded {command}: `credentials.api_key`: Holded refused the API key (HTTP 401")
    assert not any(line.startswith("WARN") for line in lines), result.stderr


# ------------------------------------------------------------------------------------------ Singer


def singer(name: str, tmp_path: Path, config: dict[str, Any], stdin: str = "") -> subprocess.CompletedProcess:
    path = tmp_path / f"{name}-config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [script(name), "--config", str(path)], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_tap_with_a_wrong_key_stops_before_any_message(sandbox, tmp_path):
    config = {"credentials": {"auth_type": "api_key", "api_key": SECRET}, "base_url": sandbox.base_url}
    result = singer("tap-holded", tmp_path, config)
    line = one_line(result, "tap-holded: `credentials.api_key`: Holded refused the API key (HTTP 401")
    assert SECRET not in line


def test_target_with_a_base_url_answering_html_stops_before_reading_records(sandbox, tmp_path):
    root = sandbox.base_url.removesuffix("/api")
    config = connector_config(sandbox, base_url=root)
    record = {"type": "RECORD", "stream": "genericCompany", "record": {"id": "basics-2", "name": "Basics Dos SL"}}
    result = singer("target-holded", tmp_path, config, json.dumps(record) + "\n")
    one_line(result, f"target-holded: `base_url` {root} is not Holded's API")


def test_tap_with_an_unreachable_host_gives_up_after_a_few_attempts(tmp_path):
    port = closed_port()
    config = {"credentials": {"auth_type": "api_key", "api_key": "some-key-123456"},
              "base_url": f"http://127.0.0.1:{port}/api"}  # fmt: skip
    result = singer("tap-holded", tmp_path, config)
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("tap-holded:")]
    assert errors == [f"tap-holded: `base_url`: cannot reach 127.0.0.1:{port} (connection refused; gave up after "
                      f"{ATTEMPTS} attempts); check the URL (http://127.0.0.1:{port}/api; Holded's is "
                      "https://api.holded.com/api) and that the host is up and reachable from here"]  # fmt: skip


# ----------------------------------------------------------------------------------------- Airbyte

STREAMS = ["genericContact", "genericCompany", "crmPipeline", "crmOpportunity", "genericUser"]


def test_source_read_with_a_wrong_key_is_one_config_error_not_one_per_stream(sandbox, tmp_path):
    config = {"credentials": {"auth_type": "api_key", "api_key": SECRET}, "base_url": sandbox.base_url}
    result = SourceRunner(tmp_path, config).read(STREAMS)
    assert result.returncode != 0
    assert [(e["failure_type"], e["message"].split(":")[0]) for e in result.errors] == [
        ("config_error", "`credentials.api_key`")
    ]
    assert not result.records
    assert SECRET not in json.dumps(result.errors) + "".join(result.logs) + result.stderr


def test_source_read_with_an_unreachable_host_is_one_config_error_naming_base_url(tmp_path):
    port = closed_port()
    config = {"credentials": {"auth_type": "api_key", "api_key": "some-key-123456"},
              "base_url": f"http://127.0.0.1:{port}/api"}  # fmt: skip
    result = SourceRunner(tmp_path, config).read(STREAMS)
    assert [(e["failure_type"], e["message"].split(":")[0]) for e in result.errors] == [("config_error", "`base_url`")]
    assert f"gave up after {ATTEMPTS} attempts" in result.errors[0]["message"]


def test_source_read_with_a_key_refused_mid_run_is_one_config_error(sandbox, tmp_path, script_401s):
    script_401s("/crm", "/crm", "/team")
    config = connector_config(sandbox)
    result = SourceRunner(tmp_path, config).read(STREAMS)
    assert [(e["failure_type"], e["message"].split(":")[0]) for e in result.errors] == [
        ("config_error", "`credentials.api_key`")
    ]


def test_destination_write_with_a_base_url_answering_html_is_one_config_error(sandbox, tmp_path):
    root = sandbox.base_url.removesuffix("/api")
    config_path = tmp_path / "dest-config.json"
    config_path.write_text(json.dumps({"credentials": {"api_key": sandbox.api_key}, "base_url": root}))
    catalog = {"streams": [{"stream": {"name": "genericCompany", "json_schema": {},
                                       "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup"}]}  # fmt: skip
    catalog_path = tmp_path / "dest-catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    record = {
        "type": "RECORD",
        "record": {"stream": "genericCompany", "data": {"id": "b-3", "name": "B"}, "emitted_at": 1},
    }
    result = subprocess.run(
        [script("destination-holded"), "write", "--config", str(config_path), "--catalog", str(catalog_path)],
        input=json.dumps(record) + "\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    errors = [m["trace"]["error"] for m in airbyte_messages(result.stdout)
              if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]  # fmt: skip
    assert [(e["failure_type"], e["message"].split(" ")[0]) for e in errors] == [("config_error", "`base_url`")]
    assert f"did you mean {root}/api?" in errors[0]["message"]
