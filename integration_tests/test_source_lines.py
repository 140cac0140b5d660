"""`source-holded read` writes its records as pre-rendered lines (`source_holded.run.LineEntrypoint`): the
lines must be the ones the CDK's own `launch` prints for the same read, stream by stream, message by message
(records, states with their record counts, statuses, logs), and each must load as an Airbyte message."""

from __future__ import annotations

import json
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
