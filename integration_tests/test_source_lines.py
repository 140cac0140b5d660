"""`source-holded read` runs without the CDK (`source_holded.launcher`, its records pre-rendered as lines): its
lines must be the ones the CDK's own `launch` prints for the same read, stream by stream, message by message
(records, states with their record counts, statuses, logs, error traces), each loading as an Airbyte message;
and so must its errors, masked secrets, debug logs and cloud-mode refusals, on the same inputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer

from holded_core.mappings import MAPPINGS
from holded_sandbox.testing import connector_config
from integration_tests.conftest import script

CDK_LAUNCH = (
    "import sys; from airbyte_cdk.entrypoint import launch; from source_holded.source import SourceHolded; "
    "launch(SourceHolded(), sys.argv[1:])"
)
STAMP = re.compile(r'"(emitted_at|detectedAt)":("[^"]*"|[0-9.]+)')  # when it ran


def _catalog(config: str) -> dict[str, Any]:
    out = subprocess.run([script("source-holded"), "discover", "--config", config], capture_output=True, check=True)
    streams = {
        s["name"]: s
        for line in out.stdout.splitlines()
        if line.startswith(b'{"type":"CATALOG"')
        for s in json.loads(line)["catalog"]["streams"]
    }
    names = [*MAPPINGS, "changeEvents"]
    return {
        "streams": [
            {"stream": streams[n], "sync_mode": "incremental", "destination_sync_mode": "append"} for n in names
        ]
    }


def _stream_of(message: dict[str, Any]) -> str:
    if message["type"] == "RECORD":
        return message["record"]["stream"]
    if message["type"] == "STATE":
        return message["state"]["stream"]["stream_descriptor"]["name"]
    if message["type"] == "TRACE" and "stream_status" in message["trace"]:
        return message["trace"]["stream_status"]["stream_descriptor"]["name"]
    return ""


def _by_stream(stdout: bytes) -> dict[str, list[str]]:
    """Each stream's lines in order (timestamps zeroed), the run's summary log left out (it says its time).

    `changeEvents` is fed by every listing at once, so its events interleave differently from run to run, and
    so do the trackers its checkpoints carry: its records are compared as a set, with its last state."""
    lines: dict[str, list[str]] = defaultdict(list)
    for raw in stdout.decode().splitlines():
        message = json.loads(raw)
        AirbyteMessageSerializer.load(message)  # a valid Airbyte message, or this raises
        if message["type"] == "LOG" and message["log"]["message"].startswith("sync finished in"):
            continue
        lines[_stream_of(message)].append(STAMP.sub(r'"\1":0', raw))
    events = lines.pop("changeEvents", [])
    lines["changeEvents (records)"] = sorted(line for line in events if line.startswith('{"type":"RECORD"'))
    lines["changeEvents (last state)"] = [line for line in events if line.startswith('{"type":"STATE"')][-1:]
    return lines


@pytest.mark.parametrize("dialect", ["v1", "v2"])
def test_given_a_read_when_the_console_script_writes_records_itself_then_its_lines_are_the_cdk_launchers(
    sandbox: Any, tmp_path: Path, dialect: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(connector_config(sandbox, dialect=dialect)))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(_catalog(str(config))))
    args = ["read", "--config", str(config), "--catalog", str(catalog)]

    script_run = subprocess.run([script("source-holded"), *args], capture_output=True, timeout=120)
    cdk_run = subprocess.run([sys.executable, "-c", CDK_LAUNCH, *args], capture_output=True, timeout=120)

    assert script_run.returncode == cdk_run.returncode == 0, script_run.stderr[-2000:]
    ours, theirs = _by_stream(script_run.stdout), _by_stream(cdk_run.stdout)
    assert sum(len(v) for v in ours.values()) > 100
    assert ours == theirs


# ------------------------------------------------------------------------------------------------------------
# The console script's `read` runs without the CDK (`source_holded.launcher`): every protocol behaviour of the
# CDK launcher's `read` is compared with `launch` itself, on the same inputs, through real subprocesses.

CDK_LAUNCH_AS_SCRIPT = "import sys; sys.argv[0] = sys.argv.pop(1); " + CDK_LAUNCH  # argparse's usage names it
SECRET = "0123456789abcdef0123456789abcdef"  # an API key (v1) the sandbox does not know


def _both(args: list[str], env: dict[str, str] | None = None) -> tuple[Any, Any]:
    """The console script and the CDK's `launch` on the same arguments (and environment)."""
    environ = {**os.environ, **(env or {})}
    ours = subprocess.run([script("source-holded"), *args], capture_output=True, timeout=180, env=environ)
    cdk = subprocess.run(
        [sys.executable, "-c", CDK_LAUNCH_AS_SCRIPT, script("source-holded"), *args],
        capture_output=True,
        timeout=180,
        env=environ,
    )
    return ours, cdk


STACK = re.compile(r'"stack_trace":"(?:[^"\\]|\\.)+"')
SUMMARY = re.compile(r'"message":"sync finished in [^"]*"')


def _normalized(stdout: bytes) -> dict[str, list[str]]:
    """Each stream's lines in order, byte for byte (streams are read concurrently: their lines interleave
    differently from run to run), with what differs between two runs of the same read zeroed: the time, the
    stack trace (ours has the launcher's frames, the CDK's its own; each must be there), the run's summary.
    A FATAL log is left out: the CDK's launcher prints it through a buffer that its exit may leave unflushed
    (its error TRACE always comes); the tests check ours."""
    lines: dict[str, list[str]] = defaultdict(list)
    for raw in stdout.decode().splitlines():
        if '"level":"FATAL"' in raw:
            continue
        message = json.loads(raw)
        lines[_stream_of(message) if "type" in message and message["type"] != "DEBUG" else ""].append(
            SUMMARY.sub('"message":"sync finished in ..."', STACK.sub('"stack_trace":"..."', STAMP.sub(r'"\1":0', raw)))
        )
    return lines


def _errors(lines: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [json.loads(line)["trace"]["error"] for s in lines.values() for line in s if '"type":"ERROR"' in line]


def _files(tmp_path: Path, config: dict[str, Any], catalog: Any, state: Any = None) -> list[str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    return args


def _small_catalog(sandbox: Any, tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "discover.json"
    config.write_text(json.dumps(connector_config(sandbox)))
    catalog = _catalog(str(config))
    catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] in ("genericCompany", "genericUser")]
    return catalog


@pytest.mark.parametrize(
    "args",
    [["read", "--config", "c.json"], ["read", "--catalog", "c.json"], ["read"], ["read", "--config", "c", "--bogus"]],
    ids=["no catalog", "no config", "nothing", "unknown option"],
)
def test_given_missing_arguments_when_read_then_the_usage_error_and_exit_code_are_the_cdk_launchers(
    args: list[str],
) -> None:
    ours, cdk = _both(args)
    assert ours.returncode == cdk.returncode == 2
    assert ours.stderr == cdk.stderr and b"error:" in ours.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"requests_per_second": "fast"},
        {"credentials": {"auth_type": "api_token", "token": "not-a-pat"}},
        {"credentials": None, "api_version": "v3"},
        {"read_ahead": 99, "_limit": 5},
    ],
    ids=["wrong type", "pattern", "no credentials", "maximum, with an internal key"],
)
def test_given_a_config_the_spec_refuses_when_read_then_the_config_error_is_the_cdk_launchers(
    sandbox: Any, tmp_path: Path, overrides: dict[str, Any]
) -> None:
    config = {k: v for k, v in {**connector_config(sandbox), **overrides}.items() if v is not None}
    ours, cdk = _both(_files(tmp_path, config, _small_catalog(sandbox, tmp_path)))

    assert ours.returncode == cdk.returncode == 1
    assert _normalized(ours.stdout) == _normalized(cdk.stdout)
    (error,) = _errors(_normalized(ours.stdout))
    assert error["failure_type"] == "config_error" and error["message"].startswith("Config validation error: ")


def test_given_a_secret_in_an_error_when_read_then_it_is_masked_in_every_line_as_the_cdk_launcher_masks_it(
    sandbox: Any, tmp_path: Path
) -> None:
    # The key is also in the (unreachable) base URL, which the error names: it must not reach any output.
    config = {
        "credentials": {"auth_type": "api_key", "api_key": SECRET},
        "base_url": f"http://127.0.0.1:1/{SECRET}/api",
        "requests_per_second": 500,
    }
    ours, cdk = _both(_files(tmp_path, config, _small_catalog(sandbox, tmp_path)))

    assert ours.returncode == cdk.returncode == 1
    assert SECRET.encode() not in ours.stdout + ours.stderr
    assert _normalized(ours.stdout) == _normalized(cdk.stdout)
    (error,) = _errors(_normalized(ours.stdout))
    assert "****" in error["message"] and error["failure_type"] == "config_error"
    fatal = [line for line in ours.stdout.splitlines() if b'"level":"FATAL"' in line]
    assert len(fatal) == 1 and b"Traceback" in fatal[0] and b"****" in fatal[0]


def test_given_a_config_error_quoting_a_secret_field_when_read_then_the_spec_secret_is_masked_as_in_the_cdk(
    sandbox: Any, tmp_path: Path
) -> None:
    # No client is built (the config fails the spec), so only the spec's `airbyte_secret` fields say what to mask:
    # the refused `credentials` object is quoted whole, its client_id (an airbyte_secret) with it.
    client_id = "my-client-id-7261"
    credentials = {
        "auth_type": "oauth2",
        "client_id": client_id,
        "client_secret": "s" * 12,
        "refresh_token": "r" * 12,
        "token_url": 5,  # not a string: the object fails the spec
    }
    config = {**connector_config(sandbox), "credentials": credentials}
    ours, cdk = _both(_files(tmp_path, config, _small_catalog(sandbox, tmp_path)))

    assert ours.returncode == cdk.returncode == 1
    assert client_id.encode() not in ours.stdout + ours.stderr
    assert _normalized(ours.stdout) == _normalized(cdk.stdout)
    (error,) = _errors(_normalized(ours.stdout))
    assert error["message"].startswith("Config validation error: ") and "****" in error["message"]


def test_given_an_uncaught_error_when_read_then_a_system_error_trace_with_its_stack_ends_it_as_in_the_cdk(
    sandbox: Any, tmp_path: Path
) -> None:
    catalog = _small_catalog(sandbox, tmp_path)
    catalog["streams"][0]["sync_mode"] = "sideways"  # the catalog cannot be read: an error nothing catches
    ours, cdk = _both(_files(tmp_path, connector_config(sandbox), catalog))

    assert ours.returncode == cdk.returncode == 1
    ((error,), (cdk_error,)) = _errors(_normalized(ours.stdout)), _errors(_normalized(cdk.stdout))
    assert error["failure_type"] == cdk_error["failure_type"] == "system_error"
    assert error["message"] == cdk_error["message"]  # the generic sentence; the detail is internal
    assert "sync_mode" in error["internal_message"] and "sideways" in error["internal_message"]
    raw_trace = next(line for line in ours.stdout.splitlines() if b'"type":"ERROR"' in line)
    assert b"Traceback (most recent call last)" in raw_trace and b"ValueError" in raw_trace


def _saved_states(sandbox: Any, tmp_path: Path, catalog: dict[str, Any]) -> list[dict[str, Any]]:
    out = subprocess.run(
        [script("source-holded"), *_files(tmp_path, connector_config(sandbox), catalog)], capture_output=True
    )
    assert out.returncode == 0, out.stdout[-2000:]
    states = [json.loads(line)["state"] for line in out.stdout.splitlines() if line.startswith(b'{"type":"STATE"')]
    return [{"type": s["type"], "stream": s["stream"]} for s in states]


def _state_shapes(states: list[dict[str, Any]]) -> dict[str, Any]:
    streams = [s["stream"] for s in states]
    return {
        "per stream": states,
        "global": [{"type": "GLOBAL", "global": {"stream_states": streams}}],
        "global with a shared state": [
            {"type": "GLOBAL", "global": {"shared_state": {"a": 1}, "stream_states": streams}}
        ],
        "legacy": [{"type": "LEGACY", "data": {s["stream_descriptor"]["name"]: s["stream_state"] for s in streams}}],
        "namespaced": [
            {**s, "stream": {**s["stream"], "stream_descriptor": {"name": "genericUser", "namespace": "x"}}}
            for s in states
        ],
        "empty list": [],
        "empty object": {},
        "null": None,
        "empty file": "",
        "not a list": {"genericUser": {}},
        "no stream, global or data": [{"type": "STREAM"}],
        "stream without a name": [{"type": "STREAM", "stream": {"stream_descriptor": {}}}],
    }


@pytest.mark.parametrize("shape", list(_state_shapes([])))
def test_given_a_state_file_of_any_shape_when_read_then_the_output_is_the_cdk_launchers(
    sandbox: Any, tmp_path: Path, shape: str
) -> None:
    catalog = _small_catalog(sandbox, tmp_path)
    state = _state_shapes(_saved_states(sandbox, tmp_path, catalog))[shape]
    state_text = "null" if state is None else state
    ours, cdk = _both(_files(tmp_path, connector_config(sandbox), catalog, state_text))

    assert ours.returncode == cdk.returncode, ours.stdout[-2000:]
    if ours.returncode == 0:
        assert _normalized(ours.stdout) == _normalized(cdk.stdout)
    else:  # a malformed file: both end with a system error; ours says which field (the CDK's serializer may not)
        ((error,), (cdk_error,)) = _errors(_normalized(ours.stdout)), _errors(_normalized(cdk.stdout))
        assert error["failure_type"] == cdk_error["failure_type"] == "system_error"
        assert error["internal_message"]


@pytest.mark.parametrize(
    "flags, env",
    [(["--debug"], {}), ([], {"LOG_LEVEL": "debug"}), ([], {"DEPLOYMENT_MODE": "cloud"})],
    ids=["--debug", "LOG_LEVEL=debug", "cloud"],
)
def test_given_debug_or_cloud_mode_when_read_then_the_output_is_the_cdk_launchers(
    sandbox: Any, tmp_path: Path, flags: list[str], env: dict[str, str]
) -> None:
    args = _files(tmp_path, connector_config(sandbox), _small_catalog(sandbox, tmp_path)) + flags
    ours, cdk = _both(args, env)

    assert ours.returncode == cdk.returncode, ours.stdout[-2000:]
    assert _normalized(ours.stdout) == _normalized(cdk.stdout)
    if "DEPLOYMENT_MODE" in env:  # http to 127.0.0.1: refused before any request
        assert ours.returncode == 1 and b"Invalid Protocol Scheme" in ours.stdout
    else:
        assert b"Debug logs enabled" in ours.stdout


@pytest.mark.parametrize("failing", [False, True], ids=["a read", "a failing read"])
def test_given_a_read_then_the_console_script_never_imports_airbyte_cdk(
    sandbox: Any, tmp_path: Path, failing: bool
) -> None:
    # The CDK's import alone costs over a second: a later import that brings it back into `read` must fail here.
    config = connector_config(sandbox, requests_per_second="fast" if failing else 500)
    args = _files(tmp_path, config, _small_catalog(sandbox, tmp_path))
    out = subprocess.run(
        [sys.executable, "-X", "importtime", script("source-holded"), *args], capture_output=True, timeout=120
    )

    assert out.returncode == (1 if failing else 0)
    imported = [line.split(b"|")[-1].strip() for line in out.stderr.splitlines() if line.startswith(b"import time:")]
    assert b"source_holded.launcher" in imported
    assert not [name for name in imported if name.split(b".")[0] == b"airbyte_cdk"]


def test_given_a_misspelt_credential_field_then_no_command_prints_its_value(sandbox: Any, tmp_path: Path) -> None:
    # The spec check quotes the refused `credentials` object whole; the spec's `airbyte_secret` paths do not
    # name a misspelt field, so every value under `credentials` is masked (a `pat_` token was printed by check).
    secret = "s3cr3t-under-a-wrong-name-4821"
    config = {**connector_config(sandbox), "credentials": {"auth_type": "api_key", "apikey": secret}}
    args = _files(tmp_path, config, _small_catalog(sandbox, tmp_path))
    config_only = args[:3]
    for command in (["check", *config_only[1:]], ["discover", *config_only[1:]], args):
        done = subprocess.run([script("source-holded"), *command], capture_output=True, timeout=180)
        assert secret.encode() not in done.stdout + done.stderr, command[0]
        assert b"Config validation error" in done.stdout, command[0]


def test_given_credentials_with_an_api_token_field_then_they_read_as_the_token(sandbox: Any, tmp_path: Path) -> None:
    # `credentials: {"api_token": "pat_..."}`, as the top-level shorthand is spelt, is the token (not a refusal).
    config = {**connector_config(sandbox, dialect="v2"), "credentials": {"api_token": sandbox.api_token}}
    done = subprocess.run(
        [script("source-holded"), *_files(tmp_path, config, _small_catalog(sandbox, tmp_path))],
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert b'"type":"RECORD"' in done.stdout and sandbox.api_token.encode() not in done.stdout + done.stderr
