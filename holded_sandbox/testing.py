"""Test helpers: a sandbox on a free port that is always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .server import SandboxServer


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
