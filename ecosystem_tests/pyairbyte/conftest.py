"""PyAirbyte against the real connectors and the sandbox, run under .venv-pyairbyte (`make test-pyairbyte`).

This interpreter has PyAirbyte but not our package: the sandbox and both connectors run as the main
venv's executables (`<root>/.venv/bin/...`, or `$HOLDED_VENV/bin/...`), each in its own process.
PyAirbyte is kept offline (no registry, no telemetry) and writes its logs, temporary files and
caches under one temporary directory, kept (and named at the end) only when a test failed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("HOLDED_VENV") or ROOT / ".venv")
WORK = Path(tempfile.mkdtemp(prefix="pyairbyte-tests-"))

# Read by PyAirbyte when it is imported (the test module imports it after this file has run).
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no connector registry, no telemetry
os.environ.setdefault("DO_NOT_TRACK", "1")  # telemetry off, also for tools that only know this one
os.environ.setdefault("NO_LIVE_PROGRESS", "1")  # plain progress lines, no live terminal view
os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(WORK / "project"))  # else `.cache/` appears in the cwd
os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(WORK / "logs"))  # else /tmp/airbyte/logs

API_KEY = "pyairbyte-test-key"


def executable(name: str) -> str:
    path = VENV / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} not found: run `make setup` (or point HOLDED_VENV at a venv with our package)")
    return str(path)


@dataclass
class Sandbox:
    """A `holded sandbox` process: its Holded API (`base_url`, `api_key`) and control routes."""

    base_url: str  # http://127.0.0.1:PORT/api
    root: str  # http://127.0.0.1:PORT
    api_key: str
    process: subprocess.Popen

    def get(self, path: str, **params: Any) -> Any:
        resp = requests.get(f"{self.base_url}{path}", headers={"key": self.api_key}, params=params, timeout=30)
        resp.raise_for_status()
        return resp.json()

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

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.put(f"{self.base_url}{path}", headers={"key": self.api_key}, json=body, timeout=30)
        resp.raise_for_status()
        answer = resp.json()
        assert answer.get("status") == 1, answer
        return answer

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = requests.request(method, f"{self.root}/__sandbox__/{route}", json=body, timeout=60)
        resp.raise_for_status()
        return resp.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox(name: str, *, scale: float, seed: int) -> Sandbox:
    log = (WORK / f"sandbox-{name}.log").open("wb")
    port = _free_port()
    cmd = [executable("holded"), "sandbox", "--port", str(port), "--api-key", API_KEY]
    cmd += ["--scale", str(scale), "--seed", str(seed)]
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    root = f"http://127.0.0.1:{port}"
    sandbox = Sandbox(f"{root}/api", root, API_KEY, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            sandbox.control("GET", "stats")
            return sandbox
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_sandbox(sandbox)
                output = (WORK / f"sandbox-{name}.log").read_text(errors="replace")
                pytest.fail(f"the sandbox did not start ({' '.join(cmd)}):\n{output}")
            time.sleep(0.1)


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.process.terminate()
    try:
        sandbox.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()
        sandbox.process.wait()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The account PyAirbyte reads: seed 1, scale 0.05 (50 contacts, 100 invoices, 15 leads...)."""
    sb = start_sandbox("source", scale=0.05, seed=1)
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="session")
def target_sandbox() -> Iterator[Sandbox]:
    """The account the destination writes into: another seed, its contacts emptied first."""
    sb = start_sandbox("target", scale=0.01, seed=2)
    sb.control("POST", "fill", {"collection": "contacts", "count": 0})
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="session")
def source_exe() -> str:
    return executable("source-holded")


@pytest.fixture(scope="session")
def destination_exe() -> str:
    return executable("destination-holded")


@pytest.fixture(scope="session")
def work_dir() -> Path:
    return WORK


def pytest_configure(config: pytest.Config) -> None:
    # Noise from PyAirbyte's own dependencies, not from our connectors: google-cloud packages warn about
    # Python 3.11's end of support at import, PyAirbyte marks classes experimental, its secrets module
    # uses a deprecated pydantic-core argument, duckdb-engine cannot reflect indexes.
    for line in (
        "ignore:You are using a Python version:FutureWarning",
        "ignore:This class is experimental",
        "ignore:The `field_name` argument on `with_info_after_validator_function`:DeprecationWarning",
        "ignore:duckdb-engine doesn't yet support reflection on indices",
    ):
        config.addinivalue_line("filterwarnings", line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0:
        shutil.rmtree(WORK, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    if exitstatus != 0:
        terminalreporter.write_line(f"PyAirbyte logs, caches and sandbox output kept in {WORK}")
