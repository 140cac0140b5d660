"""Running `source-holded` as a user's orchestrator would, and what the sandbox holds, for comparison."""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holded_core import HoldedClient
from holded_core.mappings import MAPPINGS
from holded_sandbox.testing import connector_config
from integration_tests.conftest import script

UNIFIED = list(MAPPINGS)  # the ten unified streams


@dataclass
class ReadResult:
    returncode: int
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # last state per stream
    errors: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    stderr: str = ""

    def state_messages(self) -> list[dict[str, Any]]:
        return list(self.states.values())

    def ids(self, stream: str) -> set[str]:
        return {r["id"] for r in self.records.get(stream, [])}


def parse_output(lines: list[str]) -> ReadResult:
    result = ReadResult(returncode=0)
    for line in lines:
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        kind = msg["type"]
        if kind == "RECORD":
            result.records[msg["record"]["stream"]].append(msg["record"]["data"])
        elif kind == "STATE":
            result.states[msg["state"]["stream"]["stream_descriptor"]["name"]] = msg["state"]
        elif kind == "TRACE" and msg["trace"]["type"] == "ERROR":
            result.errors.append(msg["trace"]["error"])
        elif kind == "TRACE" and msg["trace"]["type"] == "STREAM_STATUS":
            status = msg["trace"]["stream_status"]
            result.statuses[status["stream_descriptor"]["name"]] = status["status"]
        elif kind == "LOG":
            result.logs.append(msg["log"]["message"])
        elif kind == "CONTROL":
            result.controls.append(msg["control"])
    return result


class SourceRunner:
    """Writes config, catalog and state files and runs the real console script."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config_path = workdir / "config.json"
        self.config_path.write_text(json.dumps(config))
        self._catalog: dict[str, Any] | None = None

    def discover(self) -> dict[str, dict[str, Any]]:
        if self._catalog is None:
            out = subprocess.run(
                [script("source-holded"), "discover", "--config", str(self.config_path)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            catalog = next(json.loads(line)["catalog"] for line in out.stdout.splitlines() if '"CATALOG"' in line)
            self._catalog = {stream["name"]: stream for stream in catalog["streams"]}
        return self._catalog

    def catalog_file(self, streams: list[str], mode: str = "incremental") -> Path:
        discovered = self.discover()
        configured = {
            "streams": [
                {
                    "stream": discovered[name],
                    "sync_mode": mode,
                    "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
                    "primary_key": [["id"]],
                }
                for name in streams
            ]
        }
        path = self.workdir / f"catalog-{mode}-{len(streams)}.json"
        path.write_text(json.dumps(configured))
        return path

    def command(self, streams: list[str], state: list[dict] | None = None, mode: str = "incremental") -> list[str]:
        args = [script("source-holded"), "read", "--config", str(self.config_path)]
        args += ["--catalog", str(self.catalog_file(streams, mode))]
        if state is not None:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(state))
            args += ["--state", str(state_path)]
        return args

    def read(self, streams: list[str], state: list[dict] | None = None, mode: str = "incremental") -> ReadResult:
        out = subprocess.run(
            self.command(streams, state, mode),
            capture_output=True,
            text=True,
            timeout=300,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
        )
        result = parse_output(out.stdout.splitlines())
        result.returncode = out.returncode
        result.stderr = out.stderr
        return result


def sandbox_counts(sandbox: Any) -> dict[str, int]:
    """What the sandbox holds, per unified stream, read straight from its Holded routes."""
    with HoldedClient(connector_config(sandbox)) as client:
        contacts = list(client.iter_records("/invoicing/v1/contacts"))
        funnels = list(client.iter_records("/crm/v1/funnels"))
        invoices = list(client.iter_records("/invoicing/v1/documents/invoice"))
        persons = [c for c in contacts if c["isperson"] == 1]
        companies = [c for c in contacts if c["isperson"] == 0]
        return {
            "genericContact": len(persons) + sum(len(c.get("contactPersons") or []) for c in companies),
            "genericCompany": len(companies),
            "genericUser": len(list(client.iter_records("/team/v1/employees"))),
            "genericWorkspace": len(list(client.iter_records("/projects/v1/projects"))),
            "crmPipeline": len(funnels),
            "crmStage": sum(len(f["stages"]) for f in funnels),
            "crmOpportunity": len(list(client.iter_records("/crm/v1/leads"))),
            "crmEngagement": len(list(client.iter_records("/crm/v1/events"))),
            "accountingInvoice": len(invoices),
            "accountingInvoiceItem": sum(len(i["products"]) for i in invoices),
        }
