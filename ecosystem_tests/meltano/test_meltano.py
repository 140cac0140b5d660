"""The example Meltano project (examples/meltano) run for real: `meltano install`, then `meltano run`
in both directions against `holded sandbox` processes, every expected figure read from the sandbox's
own Holded routes.

Runs under .venv-meltano (`make test-meltano`): that interpreter has Meltano, pytest and requests, not
our package. The sandbox, tap-holded and target-holded are the main venv's executables
(`<root>/.venv/bin`, or `$HOLDED_VENV/bin`), put first on the PATH Meltano runs its plugins with (the
example declares them with `executable:` and no `pip_url`). target-jsonl and tap-jsonl come from PyPI
through `meltano install`. Nothing is looked up on Meltano Hub and usage stats are off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("HOLDED_VENV") or ROOT / ".venv")
MELTANO = Path(sys.executable).parent / "meltano"
API_KEY = "meltano-test-key"
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
EVENTS = "changeEvents"
CONTACTS = "/invoicing/v1/contacts"
STATE_ID = "dev:tap-holded-to-target-jsonl"


def executable(name: str) -> Path:
    path = VENV / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} not found: run `make setup` (or point HOLDED_VENV at a venv with our package)")
    return path


# ------------------------------------------------------------------------------------- sandbox


@dataclass
class Sandbox:
    base_url: str  # http://127.0.0.1:PORT/api
    process: subprocess.Popen

    def get(self, path: str, **params: Any) -> Any:
        resp = requests.get(f"{self.base_url}{path}", headers={"key": API_KEY}, params=params, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def listing(self, path: str) -> list[dict[str, Any]]:
        """Every record of a Holded listing (500 a page; the first short page is the last)."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.get(path, page=page)
            batch = answer["employees"] if isinstance(answer, dict) and "employees" in answer else answer
            records.extend(batch)
            if len(batch) < 500:
                return records
            page += 1

    def counts(self) -> dict[str, int]:
        """Each unified stream's record count (contact persons of companies included, as the tap's default)."""
        contacts = self.listing(CONTACTS)
        funnels = self.listing("/crm/v1/funnels")
        invoices = self.listing("/invoicing/v1/documents/invoice")
        companies = [c for c in contacts if c["isperson"] == 0]
        return {
            "genericContact": sum(1 for c in contacts if c["isperson"] == 1)
            + sum(len(c.get("contactPersons") or []) for c in companies),
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


def start_sandbox(log: Path, *args: str) -> Sandbox:
    """`holded sandbox --port 0`: its first stdout line names the URL it listens on."""
    cmd = [str(executable("holded")), "sandbox", "--port", "0", "--api-key", API_KEY, *args]
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
    if base_url is None:
        stop_sandbox(process)
        pytest.fail(f"the sandbox did not start ({' '.join(cmd)}): {log.read_text(errors='replace')}")
    return Sandbox(base_url, process)


def stop_sandbox(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


# ------------------------------------------------------------------------------------- meltano


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def meltano(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(MELTANO), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess:
        result = self.meltano(*args)
        output = f"{result.stdout[-3000:]}{result.stderr[-6000:]}"
        assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{output}"
        return result

    def lines(self, stream: str) -> list[dict[str, Any]]:
        path = self.root / "output" / f"{stream}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The account tap-holded reads: seed 3, scale 0.05 (about 50 contacts, 100 invoices)."""
    sb = start_sandbox(tmp_path_factory.mktemp("logs") / "source-sandbox.log", "--scale", "0.05", "--seed", "3")
    yield sb
    stop_sandbox(sb.process)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The account target-holded writes into: another seed, no contacts to start with."""
    sb = start_sandbox(tmp_path_factory.mktemp("logs") / "target-sandbox.log", "--scale", "0.01", "--seed", "4")
    root = sb.base_url.rsplit("/api", 1)[0]
    emptied = requests.post(f"{root}/__sandbox__/fill", json={"collection": "contacts", "count": 0}, timeout=30)
    emptied.raise_for_status()
    yield sb
    stop_sandbox(sb.process)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, source: Sandbox, target: Sandbox) -> Project:
    """The example project copied into a temporary folder, installed once."""
    root = tmp_path_factory.mktemp("meltano") / "project"
    shutil.copytree(ROOT / "examples" / "meltano", root, ignore=shutil.ignore_patterns(".meltano", "output", "input"))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env |= {
        "PATH": os.pathsep.join([str(VENV / "bin"), env.get("PATH", "")]),  # tap-holded, target-holded
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
        "TAP_HOLDED_CREDENTIALS_API_KEY": API_KEY,
        "TAP_HOLDED_BASE_URL": source.base_url,
        "TAP_HOLDED_REQUESTS_PER_SECOND": "200",
        "TARGET_HOLDED_CREDENTIALS_API_KEY": API_KEY,
        "TARGET_HOLDED_BASE_URL": target.base_url,
        "TARGET_HOLDED_REQUESTS_PER_SECOND": "200",
    }
    proj = Project(root, env)
    installed = proj.ok("install")
    assert "Skipped installing extractor 'tap-holded'" in installed.stderr  # nothing installed for ours
    return proj


# --------------------------------------------------------------------------------------- tests


def test_tap_holded_to_target_jsonl_then_incremental(project: Project, source: Sandbox):
    expected = source.counts()
    project.ok("run", "tap-holded", "target-jsonl")
    loaded = {stream: len(project.lines(stream)) for stream in [*UNIFIED, EVENTS]}
    assert loaded == {**expected, EVENTS: sum(expected.values())}
    companies = {r["id"]: r for r in project.lines("genericCompany")}
    assert {c["id"] for c in source.listing(CONTACTS) if c["isperson"] == 0} == set(companies)

    state = json.loads(project.ok("state", "get", STATE_ID).stdout)
    assert set(state["singer_state"]["bookmarks"]) == {*UNIFIED, EVENTS}

    # Nothing changed in Holded: the second run, from the saved state, loads nothing.
    second = project.ok("run", "tap-holded", "target-jsonl")
    assert "No state was found" not in second.stderr
    assert {stream: len(project.lines(stream)) for stream in loaded} == loaded

    # A deletion in Holded arrives as one tombstone, with Singer's `_sdc_deleted_at`.
    person = next(c for c in source.listing(CONTACTS) if c["isperson"] == 1)
    resp = requests.delete(f"{source.base_url}{CONTACTS}/{person['id']}", headers={"key": API_KEY}, timeout=30)
    assert resp.json()["status"] == 1
    project.ok("run", "tap-holded", "target-jsonl")
    new_contacts = project.lines("genericContact")[loaded["genericContact"] :]
    assert [r["id"] for r in new_contacts] == [person["id"]]
    assert new_contacts[0]["_sdc_deleted_at"] == new_contacts[0]["_ab_cdc_deleted_at"] is not None
    assert [e["event"] for e in project.lines(EVENTS)[loaded[EVENTS] :]] == ["genericContact::deleted"]
    others = {s: len(project.lines(s)) for s in UNIFIED if s != "genericContact"}
    assert others == {s: loaded[s] for s in others}


def write_input(project: Project, records: list[dict[str, Any]]) -> None:
    folder = project.root / "input"
    folder.mkdir(exist_ok=True)
    (folder / "companies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def company_names(target: Sandbox) -> list[str]:
    return sorted(c["name"] for c in target.listing(CONTACTS) if c["isperson"] == 0)


def test_tap_jsonl_to_target_holded_exactly_once(project: Project, target: Sandbox):
    companies = [
        {"id": "meltano-co-1", "name": "Meltano Uno SL", "email": "uno@example.com"},
        {"id": "meltano-co-2", "name": "Meltano Dos SL", "email": "dos@example.com"},
        {"id": "meltano-co-3", "name": "Meltano Tres SL", "email": "tres@example.com"},
    ]
    write_input(project, companies)
    first = project.ok("run", "tap-jsonl", "target-holded")
    assert "genericCompany: created 3" in first.stderr
    assert company_names(target) == sorted(c["name"] for c in companies)
    held = {c.get("customId"): c for c in target.listing(CONTACTS)}
    assert held["meltano-co-1"]["email"] == "uno@example.com"

    # The whole file again (--full-refresh: tap-jsonl would skip an unchanged file): nothing is created twice.
    again = project.ok("run", "tap-jsonl", "target-holded", "--full-refresh")
    assert "genericCompany: unchanged 3" in again.stderr
    assert company_names(target) == sorted(c["name"] for c in companies)

    # A row marked deleted the Singer way removes the company; the others stay as they are.
    write_input(project, [*companies[:2], {**companies[2], "_sdc_deleted_at": "2026-01-01T00:00:00Z"}])
    deleted = project.ok("run", "tap-jsonl", "target-holded", "--full-refresh")
    assert "deleted 1" in deleted.stderr and "unchanged 2" in deleted.stderr
    assert company_names(target) == ["Meltano Dos SL", "Meltano Uno SL"]
    assert not (project.root / "output" / "rejected.jsonl").exists()
