"""Helpers shared by the benchmarks: a sandbox in its own process, machine description, timing."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class SandboxProcess:
    base_url: str
    api_key: str
    root: str

    def control(self, method: str, route: str, **body: object) -> dict:
        resp = requests.request(method, f"{self.root}/__sandbox__/{route}", json=body or None, timeout=60)
        resp.raise_for_status()
        return resp.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def sandbox_process(scale: float = 1.0, seed: int = 1, api_key: str = "bench-key") -> Iterator[SandboxProcess]:
    """The sandbox in a separate process, so it does not share the benchmark's interpreter lock."""
    port = _free_port()
    cmd = [sys.executable, "-m", "holded_sandbox", "--port", str(port), "--seed", str(seed)]
    cmd += ["--scale", str(scale), "--api-key", api_key]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{root}/__sandbox__/stats", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        yield SandboxProcess(base_url=f"{root}/api", api_key=api_key, root=root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
