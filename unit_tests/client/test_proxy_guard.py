"""`request()` is the proxy: the credential only ever goes to the configured base URL's host."""

from __future__ import annotations

import pytest

from holded_core.errors import HoldedUnsafeRequestError
from unit_tests.conftest import control

UNSAFE = [
    "https://evil.example/api/invoicing/v1/contacts",
    "//evil.example/api/invoicing/v1/contacts",
    "/../../etc/passwd",
    "/invoicing/v1/../../../outside",
    "/invoicing/v1/%2e%2e/%2e%2e/%2e%2e/outside",
    "/invoicing/v1/%252e%252e/%252e%252e/x",
    "/invoicing\\..\\..\\x",
    "/%2F%2Fevil.example/x",
    "/@evil.example/x",
    "",
]


@pytest.mark.parametrize("path", UNSAFE)
def test_unsafe_paths_are_refused_before_any_request(sandbox, make_client, path):
    client = make_client()
    before = control(sandbox, "GET", "stats")["requests"]["total"]
    with pytest.raises(HoldedUnsafeRequestError, match="refused to send the credential"):
        client.request("GET", path)
    assert client.stats.requests == 0
    assert control(sandbox, "GET", "stats")["requests"]["total"] == before


@pytest.mark.parametrize("path", ["/invoicing/v1/contacts", "invoicing/v1/contacts", "/invoicing/v1/contacts?page=2"])
def test_paths_under_the_base_url_work(sandbox, make_client, path):
    assert isinstance(make_client().request("GET", path), list)
