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
    yield from _serving(Api, seed=3)


@pytest.fixture
def api() -> Iterator[Api]:
    """A fresh small sandbox per test (the test may write or change faults)."""
    yield from _serving(Api, seed=5)


class V2:
    """requests.Session speaking API v2 to one sandbox: `v2.get("/contacts")` hits `<base>/v2/contacts`.

    `v2.v1` is the v1 client of the same sandbox (same records, same ids).
    """

    def __init__(self, sb: SandboxServer, token: str | None = None) -> None:
        self.sb = sb
        self.token = token or sb.api_token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.v1 = Api(sb)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.sb.base_url}/v2{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def with_permissions(self, *permissions: str) -> V2:
        """A client of the same sandbox whose token holds just these permissions."""
        token = self.v1.control("POST", "tokens", permissions=list(permissions))["token"]
        return V2(self.sb, token)

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following the cursor."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
            items += page["items"]
            if not page["has_more"]:
                return items
            cursor = page["cursor"]


@pytest.fixture(scope="module")
def v2ro() -> Iterator[V2]:
    """A shared small sandbox spoken to in v2, for tests that only read."""
    yield from _serving(V2, seed=3)


@pytest.fixture
def v2() -> Iterator[V2]:
    """A fresh small sandbox per test, spoken to in v2 (`v2.v1` speaks v1 to the same one)."""
    yield from _serving(V2, seed=5)


def _serving(kind: Any, seed: int) -> Iterator[Any]:
    """A small sandbox (scale 0.05) spoken to through `kind` (Api or V2), always stopped."""
    with running_sandbox(scale=0.05, seed=seed) as sb:
        client = kind(sb)
        yield client
        client.session.close()
