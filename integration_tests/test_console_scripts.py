"""The console scripts as a user runs them: real subprocesses against the sandbox."""

from __future__ import annotations

import json
import re
import subprocess
import time

import requests

from integration_tests.conftest import airbyte_messages, run_script, script
from unit_tests.conftest import control


def _status(stdout: str) -> dict:
    statuses = [m["connectionStatus"] for m in airbyte_messages(stdout) if m["type"] == "CONNECTION_STATUS"]
    assert len(statuses) == 1, stdout
    return statuses[0]


def test_source_spec_marks_secrets():
    result = run_script("source-holded", "spec")
    assert result.returncode == 0, result.stderr
    spec = next(m["spec"] for m in airbyte_messages(result.stdout) if m["type"] == "SPEC")
    options = spec["connectionSpecification"]["properties"]["credentials"]["oneOf"]
    secrets = {name for option in options for name, prop in option["properties"].items() if prop.get("airbyte_secret")}
    assert {"api_key", "client_secret", "refresh_token", "token"} <= secrets


def test_source_check_succeeds_against_the_sandbox(config_file):
    result = run_script("source-holded", "check", "--config", config_file())
    assert _status(result.stdout)["status"] == "SUCCEEDED", result.stdout


def test_source_check_bad_key_says_what_to_fix(config_file, sandbox):
    secret = "bad-key-that-must-not-leak-123"
    result = run_script("source-holded", "check", "--config", config_file(credentials={"api_key": secret}))
    status = _status(result.stdout)
    assert status["status"] == "FAILED"
    assert "401" in status["message"] and "credentials" in status["message"]
    assert secret not in result.stdout + result.stderr


def test_source_check_unreachable_host(config_file):
    result = run_script("source-holded", "check", "--config", config_file(base_url="http://127.0.0.1:9/api"))
    status = _status(result.stdout)
    assert status["status"] == "FAILED" and "base_url" in status["message"]


def test_source_check_names_modules_the_key_cannot_use(config_file, sandbox):
    control(sandbox, "PATCH", "faults", denied_modules=["accounting", "team"])  # plan or permission limits
    try:
        result = run_script("source-holded", "check", "--config", config_file())
    finally:
        control(sandbox, "PATCH", "faults", denied_modules=[])
    status = _status(result.stdout)
    assert status["status"] == "SUCCEEDED"
    assert "accounting" in status["message"] and "team" in status["message"]
    assert "genericUser" in status["message"] and "daily_ledger" in status["message"]  # the streams that will fail


def test_destination_spec_and_check(config_file):
    spec_run = run_script("destination-holded", "spec")
    assert spec_run.returncode == 0, spec_run.stderr
    spec = next(m["spec"] for m in airbyte_messages(spec_run.stdout) if m["type"] == "SPEC")
    assert "append_dedup" in spec["supported_destination_sync_modes"]
    options = spec["connectionSpecification"]["properties"]["credentials"]["oneOf"]
    # The API v2 token is offered first (what Holded issues today), the API v1 key next; both secret.
    assert [o["properties"]["auth_type"]["const"] for o in options[:2]] == ["api_token", "api_key"]
    assert options[0]["properties"]["token"]["airbyte_secret"] and options[1]["properties"]["api_key"]["airbyte_secret"]
    check = run_script("destination-holded", "check", "--config", config_file())
    assert _status(check.stdout)["status"] == "SUCCEEDED", check.stdout


def test_holded_proxy_calls_any_endpoint(sandbox):
    env = {"HOLDED_API_KEY": sandbox.api_key}
    result = run_script("holded", "proxy", "GET", "/crm/v1/funnels", "--base-url", sandbox.base_url, env=env)
    assert result.returncode == 0, result.stderr
    funnels = json.loads(result.stdout)
    assert funnels and all("stages" in f for f in funnels)


def test_holded_proxy_refuses_other_hosts(sandbox):
    env = {"HOLDED_API_KEY": sandbox.api_key}
    result = run_script("holded", "proxy", "GET", "https://evil.example/steal", "--base-url", sandbox.base_url, env=env)
    assert result.returncode == 1
    assert "refused to send the credential" in result.stderr
    assert sandbox.api_key not in result.stderr + result.stdout


def test_holded_sandbox_command_serves_and_stops():
    proc = subprocess.Popen(
        [script("holded"), "sandbox", "--port", "0", "--scale", "0.02", "--api-key", "cli-key-123456"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base_url = None
        deadline = time.monotonic() + 60
        while base_url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+/api)", line)
            base_url = match.group(1) if match else None
        assert base_url, "the sandbox did not print its base URL"
        resp = requests.get(f"{base_url}/invoicing/v1/contacts", headers={"key": "cli-key-123456"}, timeout=10)
        assert resp.status_code == 200 and isinstance(resp.json(), list) and resp.json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_v2_token_reaches_v2_through_the_proxy_and_check_succeeds_on_v2(config_file, sandbox):
    env = {"HOLDED_API_TOKEN": sandbox.api_token, "HOLDED_API_KEY": ""}
    result = run_script("holded", "proxy", "GET", "/v2/contacts?limit=2", "--base-url", sandbox.base_url, env=env)
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    assert len(page["items"]) == 2 and page["has_more"] is True
    token = {"auth_type": "api_token", "token": sandbox.api_token}
    check = run_script("source-holded", "check", "--config", config_file(credentials=token))
    status = _status(check.stdout)
    assert status["status"] == "SUCCEEDED", status  # reads (and check's probes) speak v2 with a token
    as_key = config_file(credentials={"api_key": "pat_abc123456"})
    given_as_key = run_script("source-holded", "check", "--config", as_key)
    assert "holds a Holded API v2 token (pat_...)" in _status(given_as_key.stdout)["message"]
    assert sandbox.api_token not in check.stdout + check.stderr + result.stderr
