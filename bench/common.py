"""Helpers shared by the benchmarks: a sandbox in its own process, machine description, timing."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests

from holded_sandbox.testing import sandbox_process as running_sandbox_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class SandboxProcess:
    base_url: str
    api_key: str
    root: str
    api_token: str = ""  # the API v2 token (every permission)

    def control(self, method: str, route: str, **body: object) -> dict:
        resp = requests.request(method, f"{self.root}/__sandbox__/{route}", json=body or None, timeout=60)
        resp.raise_for_status()
        return resp.json()


@contextmanager
def sandbox_process(scale: float = 1.0, seed: int = 1, api_key: str = "bench-key") -> Iterator[SandboxProcess]:
    """The sandbox in a separate process, so it does not share the benchmark's interpreter lock."""
    with running_sandbox_process("--scale", str(scale), "--seed", str(seed), api_key=api_key) as sb:
        yield SandboxProcess(base_url=sb.base_url, api_key=api_key, root=sb.root, api_token=sb.api_token)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"
