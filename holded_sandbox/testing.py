"""Helpers for tests, benchmarks and the demo: a sandbox on a free port that is always stopped."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .server import SandboxServer
from .v2 import DEFAULT_TOKEN


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[SandboxServer]:
    """`with running_sandbox(scale=0.05) as sb:` -> a started SandboxServer on 127.0.0.1 and a free port."""
    kwargs.setdefault("port", 0)
    server = SandboxServer(**kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class SandboxProcess:
    base_url: str  # e.g. http://127.0.0.1:PORT/api
    root: str  # e.g. http://127.0.0.1:PORT (control routes under /__sandbox__/)
    api_key: str  # the API v1 key (`key` header)
    process: subprocess.Popen
    api_token: str = DEFAULT_TOKEN  # the API v2 token (pat_...) holding every permission


@contextmanager
def sandbox_process(
    *args: str, api_key: str = "sandbox-api-key", api_token: str = DEFAULT_TOKEN, timeout: float = 120
) -> Iterator[SandboxProcess]:
    """The sandbox in its own process on a free port (so it does not share the caller's interpreter
    lock); `args` are `holded sandbox` options such as "--scale", "10". Always stopped on exit.

    `api_key` is the v1 key it accepts, `api_token` the v2 token (`pat_...`, every permission)."""
    cmd = [sys.executable, "-m", "holded_sandbox", "--port", "0", "--api-key", api_key, "--api-token", api_token, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        base_url = None
        for line in proc.stdout:  # the banner; the sandbox prints nothing after "Press Ctrl-C"
            if base_url is None and "listening on " in line:
                base_url = line.split("listening on ", 1)[1].strip()
            if line.startswith("Press Ctrl-C") or time.monotonic() > deadline:
                break
        if base_url is None:
            raise RuntimeError(f"the sandbox did not start (exit code {proc.poll()})")
        yield SandboxProcess(base_url, base_url.rsplit("/api", 1)[0], api_key, proc, api_token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def connector_config(sandbox: Any, *, dialect: str = "v1", **overrides: Any) -> dict[str, Any]:
    """The connector config that points at a sandbox: the one builder tests share.

    Args:
        sandbox: anything with `base_url` and `api_key` (a `SandboxServer`, a `SandboxProcess`), and
            `api_token` for `dialect="v2"`.
        dialect: `v1` (its API key) or `v2` (its API token, every permission).
        overrides: settings to add or replace, e.g. `start_date="2024-01-01"`.

    Returns:
        `{"credentials", "base_url", "requests_per_second": 500, **overrides}`: 500 requests/s is more
        than the sandbox serves unthrottled, so the rate budget never paces a test.
    """
    if dialect == "v2":
        credentials = {"auth_type": "api_token", "token": sandbox.api_token}
    else:
        credentials = {"auth_type": "api_key", "api_key": sandbox.api_key}
    return {"credentials": credentials, "base_url": sandbox.base_url, "requests_per_second": 500, **overrides}
