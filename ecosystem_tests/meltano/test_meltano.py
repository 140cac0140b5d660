"""The example Meltano project (examples/meltano) run for real: `meltano install`, then `meltano run`
in both directions against `holded sandbox` processes, every expected figure read from the sandbox's
own Holded routes.

Runs under .venv-meltano (`make test-meltano`): that interpreter has Meltano, pytest and requests, not
our package. The sandbox, tap-holded and target-holded are the main venv's executables
(`<root>/.venv/bin`, or `$HOLDED_VENV/bin`), put first on the PATH Meltano runs its plugins with (the
example declares them with `executable:` and no `pip_url`). target-jsonl and tap-jsonl come from PyPI
through `meltano install`. Nothing is looked up on Meltano Hub and usage stats are off.

Each test runs once with each Holded API (the `dialect` fixture) in the one installed project: with the
sandbox's API v1 key (`TAP_HOLDED_CREDENTIALS_API_KEY`) and with its API v2 token (the `api_token` setting,
`TAP_HOLDED_API_TOKEN`), each with its own state ids (`MELTANO_RUN_STATE_ID_SUFFIX`), output folder and
target account. The v2 run of tap-holded reads `V2_STREAMS` (`TAP_HOLDED__SELECT`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecosystem_tests.support import (
    CONTACTS,
    DIALECTS,
    ROOT,
    VENV,
    Sandbox,
    start_sandbox,
    stop_sandbox,
    streams_for,
)

MELTANO = Path(sys.executable).parent / "meltano"
API_KEY = "meltano-test-key"
EVENTS = "changeEvents"
STATE_ID = "dev:tap-holded-to-target-jsonl"  # + `:<dialect>`, the run's state id suffix


# ------------------------------------------------------------------------------------- meltano


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    output: Path  # where target-jsonl writes and target-holded appends refused records

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
        path = self.output / f"{stream}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The account tap-holded reads: seed 3, scale 0.05 (about 50 contacts, 100 invoices)."""
    sb = start_sandbox(
        tmp_path_factory.mktemp("logs") / "source-sandbox.log", API_KEY, "--scale", "0.05", "--seed", "3"
    )
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="module", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The Holded API tap-holded and target-holded speak: `v1` (an API key), then `v2` (an API token)."""
    return request.param


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, dialect: str) -> Iterator[Sandbox]:
    """The account target-holded writes into (one per API): another seed, no contacts to start with."""
    sb = start_sandbox(
        tmp_path_factory.mktemp("logs") / f"target-sandbox-{dialect}.log", API_KEY, "--scale", "0.01", "--seed", "4"
    )
    sb.control("POST", "fill", {"collection": "contacts", "count": 0})
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The example project copied into a temporary folder, installed once (for both APIs)."""
    root = tmp_path_factory.mktemp("meltano") / "project"
    shutil.copytree(ROOT / "examples" / "meltano", root, ignore=shutil.ignore_patterns(".meltano", "output", "input"))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH") and "HOLDED" not in k}
    env |= {
        "PATH": os.pathsep.join([str(VENV / "bin"), env.get("PATH", "")]),  # tap-holded, target-holded
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
    }
    proj = Project(root, env, root / "output")
    installed = proj.ok("install")
    assert "Skipped installing extractor 'tap-holded'" in installed.stderr  # nothing installed for ours
    return proj


@pytest.fixture(scope="module")
def project(installed: Project, source: Sandbox, target: Sandbox, dialect: str) -> Project:
    """The installed project set up for one API: its credentials (a v1 key as `credentials.api_key`, a v2
    token as `api_token`), the sandboxes' URLs, its own state ids and output folder."""
    if dialect == "v2":
        credentials = {"TAP_HOLDED_API_TOKEN": source.api_token, "TARGET_HOLDED_API_TOKEN": target.api_token}
        credentials["TAP_HOLDED__SELECT"] = json.dumps([f"{s}.*" for s in (*streams_for(dialect), EVENTS)])
    else:
        credentials = {"TAP_HOLDED_CREDENTIALS_API_KEY": API_KEY, "TARGET_HOLDED_CREDENTIALS_API_KEY": API_KEY}
    output = installed.root / f"output-{dialect}"
    env = (
        installed.env
        | credentials
        | {
            "TAP_HOLDED_BASE_URL": source.base_url,
            "TAP_HOLDED_REQUESTS_PER_SECOND": "200",
            "TARGET_HOLDED_BASE_URL": target.base_url,
            "TARGET_HOLDED_REQUESTS_PER_SECOND": "200",
            "TARGET_HOLDED_REJECTED_RECORDS_PATH": str(output / "rejected.jsonl"),
            "TARGET_JSONL_DESTINATION_PATH": str(output),
            "MELTANO_RUN_STATE_ID_SUFFIX": dialect,
        }
    )
    output.mkdir()
    return Project(installed.root, env, output)


# --------------------------------------------------------------------------------------- tests


def test_tap_holded_to_target_jsonl_then_incremental(project: Project, source: Sandbox, dialect: str):
    streams = streams_for(dialect)
    counts = source.unified_counts(contact_persons=True)
    expected = {stream: counts[stream] for stream in streams}
    first = project.ok("run", "tap-holded", "target-jsonl")
    assert source.api_token not in first.stdout + first.stderr and API_KEY not in first.stdout + first.stderr
    loaded = {stream: len(project.lines(stream)) for stream in [*streams, EVENTS]}
    # changeEvents covers the ten unified models whichever of their streams are selected.
    assert loaded == {**expected, EVENTS: sum(counts.values())}
    assert not [p.name for p in project.output.glob("*.jsonl") if p.stem not in loaded]  # nothing else selected
    companies = {r["id"]: r for r in project.lines("genericCompany")}
    assert {c["id"] for c in source.listing(CONTACTS) if c["isperson"] == 0} == set(companies)

    state = json.loads(project.ok("state", "get", f"{STATE_ID}:{dialect}").stdout)
    assert set(state["singer_state"]["bookmarks"]) == {*streams, EVENTS}

    # Nothing changed in Holded: the second run, from the saved state, loads nothing.
    second = project.ok("run", "tap-holded", "target-jsonl")
    assert "No state was found" not in second.stderr
    assert {stream: len(project.lines(stream)) for stream in loaded} == loaded

    # A deletion in Holded arrives as one tombstone, with Singer's `_sdc_deleted_at`.
    person = next(c for c in source.listing(CONTACTS) if c["isperson"] == 1)
    assert source.request("DELETE", f"{CONTACTS}/{person['id']}")["status"] == 1
    project.ok("run", "tap-holded", "target-jsonl")
    new_contacts = project.lines("genericContact")[loaded["genericContact"] :]
    assert [r["id"] for r in new_contacts] == [person["id"]]
    assert new_contacts[0]["_sdc_deleted_at"] == new_contacts[0]["_ab_cdc_deleted_at"] is not None
    assert [e["event"] for e in project.lines(EVENTS)[loaded[EVENTS] :]] == ["genericContact::deleted"]
    others = {s: len(project.lines(s)) for s in streams if s != "genericContact"}
    assert others == {s: loaded[s] for s in others}


def write_input(project: Project, records: list[dict[str, Any]]) -> None:
    folder = project.root / "input"
    folder.mkdir(exist_ok=True)
    (folder / "companies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def company_names(target: Sandbox) -> list[str]:
    return sorted(c["name"] for c in target.listing(CONTACTS) if c["isperson"] == 0)


def test_tap_jsonl_to_target_holded_exactly_once(project: Project, target: Sandbox, dialect: str):
    companies = [
        {"id": "meltano-co-1", "name": "Meltano Uno SL", "email": "uno@example.com"},
        {"id": "meltano-co-2", "name": "Meltano Dos SL", "email": "dos@example.com"},
        {"id": "meltano-co-3", "name": "Meltano Tres SL", "email": "tres@example.com"},
    ]
    write_input(project, companies)
    first = project.meltano("run", "tap-jsonl", "target-holded")
    assert first.returncode == 0, f"meltano run tap-jsonl target-holded failed:\n{first.stderr[-6000:]}"
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
    assert not (project.output / "rejected.jsonl").exists()
