"""End-to-end fixtures: console scripts run as real subprocesses against a sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holded_sandbox.testing import connector_config, running_sandbox

BIN = Path(sys.executable).parent


def script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"console script {name} is not installed in {BIN}: run `make setup`")
    return str(path)


def run_script(
    name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [script(name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def airbyte_messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.05, seed=11) as sb:
        yield sb


@pytest.fixture
def config_file(tmp_path: Path, sandbox: Any):
    def write(**overrides: Any) -> str:
        config = connector_config(sandbox, **overrides)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        return str(path)

    return write
