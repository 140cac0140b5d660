"""Fixtures for the sandbox's own tests: every server started here is stopped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from holded_sandbox import SandboxServer
from holded_sandbox.testing import running_sandbox


class Api:
    """requests.Session bound to one sandbox: `api.get("/invoicing/v1/contacts")`."""

    def __init__(self, sb: SandboxServer) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["key"] = sb.api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.sb.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def control(self, method: str, route: str, **body: Any) -> Any:
        resp = requests.request(method, f"{self.sb.control_url}/{route}", json=body or None, timeout=30)
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="module")
def ro() -> Iterator[Api]:
    """A shared small sandbox for tests that only read."""
    with running_sandbox(scale=0.05, seed=3) as sb:
        api = Api(sb)
        yield api
        api.session.close()


@pytest.fixture
def api() -> Iterator[Api]:
    """A fresh small sandbox per test (the test may write or change faults)."""
    with running_sandbox(scale=0.05, seed=5) as sb:
        client = Api(sb)
        yield client
        client.session.close()
