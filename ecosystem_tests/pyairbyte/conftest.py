"""PyAirbyte against the real connectors and the sandbox, run under .venv-pyairbyte (`make test-pyairbyte`).

This interpreter has PyAirbyte but not our package: the sandbox and both connectors run as the main
venv's executables (see ecosystem_tests/support.py), each in its own process.
PyAirbyte is kept offline (no registry, no telemetry) and writes its logs, temporary files and
caches under one temporary directory, kept (and named at the end) only when a test failed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecosystem_tests.support import DIALECTS, Sandbox, executable, start_sandbox, stop_sandbox

WORK = Path(tempfile.mkdtemp(prefix="pyairbyte-tests-"))

# Read by PyAirbyte when it is imported (the test module imports it after this file has run).
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no connector registry, no telemetry
os.environ.setdefault("DO_NOT_TRACK", "1")  # telemetry off, also for tools that only know this one
os.environ.setdefault("NO_LIVE_PROGRESS", "1")  # plain progress lines, no live terminal view
os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(WORK / "project"))  # else `.cache/` appears in the cwd
os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(WORK / "logs"))  # else /tmp/airbyte/logs

API_KEY = "pyairbyte-test-key"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The account PyAirbyte reads: seed 1, scale 0.05 (50 contacts, 100 invoices, 15 leads...)."""
    sb = start_sandbox(WORK / "sandbox-source.log", API_KEY, "--scale", "0.05", "--seed", "1")
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="module", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The Holded API the connectors speak: `v1` (the sandbox's API key), then `v2` (its API token)."""
    return request.param


@pytest.fixture(scope="module")
def target_sandbox(dialect: str) -> Iterator[Sandbox]:
    """The account the destination writes into (one per API): another seed, its contacts emptied first."""
    sb = start_sandbox(WORK / f"sandbox-target-{dialect}.log", API_KEY, "--scale", "0.01", "--seed", "2")
    sb.control("POST", "fill", {"collection": "contacts", "count": 0})
    yield sb
    stop_sandbox(sb)


@pytest.fixture(scope="session")
def source_exe() -> str:
    return str(executable("source-holded"))


@pytest.fixture(scope="session")
def destination_exe() -> str:
    return str(executable("destination-holded"))


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
