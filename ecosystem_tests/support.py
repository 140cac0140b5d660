"""What the PyAirbyte and Meltano suites share. They run in venvs of their own that do not have our
package (only pytest and requests here), so the sandbox and the connectors are the main venv's
executables (`<root>/.venv/bin`, or `$HOLDED_VENV/bin`), each in its own process, and every expected
figure is read from the sandbox through its Holded routes.

Each suite runs once with each Holded API (`DIALECTS`): with the sandbox's API v1 key and with its API
v2 token (`credentials(sandbox, dialect)`). The v2 runs read `V2_STREAMS`, a subset that still covers
cursor pages, both kinds of contact, documents and leads, to keep the suites' time reasonable.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("HOLDED_VENV") or ROOT / ".venv")
CONTACTS = "/invoicing/v1/contacts"
DIALECTS = ("v1", "v2")
# What the v2 runs read: contacts (people and companies: two cursor pages at scale 0.05), leads, invoices.
V2_STREAMS = ("genericContact", "genericCompany", "crmOpportunity", "accountingInvoice")
UNIFIED = (
    "genericContact",
    "genericCompany",
    "genericUser",
    "genericWorkspace",
    "crmPipeline",
    "crmStage",
    "crmOpportunity",
    "crmEngagement",
    "accountingInvoice",
    "accountingInvoiceItem",
)


def streams_for(dialect: str) -> tuple[str, ...]:
    """The unified streams a suite reads with this API: all ten with v1, `V2_STREAMS` with v2."""
    return UNIFIED if dialect == "v1" else V2_STREAMS


def executable(name: str) -> Path:
    path = VENV / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} not found: run `make setup` (or point HOLDED_VENV at a venv with our package)")
    return path


@dataclass
class Sandbox:
    """A `holded sandbox` process: its Holded API (`base_url`, `api_key`, `api_token`) and control routes (`root`)."""

    base_url: str  # http://127.0.0.1:PORT/api
    root: str  # http://127.0.0.1:PORT
    api_key: str  # API v1
    api_token: str  # API v2 (pat_..., every permission)
    process: subprocess.Popen

    def credentials(self, dialect: str) -> dict[str, str]:
        """The connector `credentials` for this sandbox through API `v1` (its key) or `v2` (its token)."""
        if dialect == "v2":
            return {"auth_type": "api_token", "token": self.api_token}
        return {"auth_type": "api_key", "api_key": self.api_key}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = requests.request(method, f"{self.base_url}{path}", headers={"key": self.api_key}, timeout=30, **kwargs)
        resp.raise_for_status()
        return resp.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.request("PUT", path, json=body)
        assert answer.get("status") == 1, answer
        return answer

    def listing(self, path: str) -> list[dict[str, Any]]:
        """Every record of a Holded listing, page by page (500 a page, the first short page is the last)."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.get(path, page=page)
            batch = answer["employees"] if isinstance(answer, dict) and "employees" in answer else answer
            assert isinstance(batch, list), f"{path} page {page}: {str(answer)[:200]}"
            records.extend(batch)
            if len(batch) < 500:
                return records
            page += 1

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = requests.request(method, f"{self.root}/__sandbox__/{route}", json=body, timeout=60)
        resp.raise_for_status()
        return resp.json()

    def unified_counts(self, contact_persons: bool) -> dict[str, int]:
        """Each unified stream's record count; `contact_persons`: companies' contact persons counted in
        genericContact (the connectors' default, `include_contact_persons`)."""
        contacts = self.listing(CONTACTS)
        funnels = self.listing("/crm/v1/funnels")
        invoices = self.listing("/invoicing/v1/documents/invoice")
        companies = [c for c in contacts if c["isperson"] == 0]
        persons = sum(1 for c in contacts if c["isperson"] == 1)
        if contact_persons:
            persons += sum(len(c.get("contactPersons") or []) for c in companies)
        return {
            "genericContact": persons,
            "genericCompany": len(companies),
            "genericUser": len(self.listing("/team/v1/employees")),
            "genericWorkspace": len(self.listing("/projects/v1/projects")),
            "crmPipeline": len(funnels),
            "crmStage": sum(len(f["stages"]) for f in funnels),
            "crmOpportunity": len(self.listing("/crm/v1/leads")),
            "crmEngagement": len(self.listing("/crm/v1/events")),
            "accountingInvoice": len(invoices),
            "accountingInvoiceItem": sum(len(i["products"]) for i in invoices),
        }


def start_sandbox(log: Path, api_key: str, *args: str, api_token: str | None = None) -> Sandbox:
    """`holded sandbox --port 0 ARGS`: its first stdout line names the URL it listens on; stderr goes to `log`.

    `api_key` is its API v1 key; `api_token` its API v2 token (default: `pat_` + the key)."""
    api_token = api_token or f"pat_{api_key}"
    cmd = [str(executable("holded")), "sandbox", "--port", "0", "--api-key", api_key, "--api-token", api_token, *args]
    with log.open("wb") as errors:
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    base_url = None
    deadline = time.monotonic() + 60
    for line in process.stdout:  # the banner; nothing is printed after "Press Ctrl-C"
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/api)", line)
        base_url = base_url or (match.group(1) if match else None)
        if line.startswith("Press Ctrl-C") or time.monotonic() > deadline:
            break
    sandbox = Sandbox(base_url or "", (base_url or "").rsplit("/api", 1)[0], api_key, api_token, process)
    if base_url is None:
        stop_sandbox(sandbox)
        pytest.fail(f"the sandbox did not start ({' '.join(cmd)}): {log.read_text(errors='replace')}")
    return sandbox


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.process.terminate()
    try:
        sandbox.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()
        sandbox.process.wait()
    if sandbox.process.stdout is not None:
        sandbox.process.stdout.close()
