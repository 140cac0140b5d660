"""Shared fixtures: a sandbox on 127.0.0.1 that is always stopped, and clients pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from holded_core import HoldedClient
from holded_sandbox.testing import connector_config, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A small, fresh sandbox per test (tests here mutate data and faults)."""
    # A key of its own per test: rate budgets are per credential and process-wide.
    with running_sandbox(scale=0.05, seed=7, api_key=f"test-key-{uuid.uuid4().hex[:12]}") as sb:
        yield sb


@pytest.fixture
def make_client(sandbox: Any) -> Iterator[Callable[..., HoldedClient]]:
    clients: list[HoldedClient] = []

    def factory(**overrides: Any) -> HoldedClient:
        config = connector_config(sandbox, **{"requests_per_second": 200, "max_retry_seconds": 30, **overrides})
        client = HoldedClient(config)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def control(sandbox: Any, method: str, route: str, **body: Any) -> Any:
    """Call a sandbox control route (test-only, outside the Holded API)."""
    root = sandbox.base_url.rsplit("/api", 1)[0]
    resp = requests.request(method, f"{root}/__sandbox__/{route}", json=body or None, timeout=10)
    resp.raise_for_status()
    return resp.json()
