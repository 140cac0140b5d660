"""OAuth2 refresh-token flow against the sandbox's token endpoint."""

from __future__ import annotations

import time

import pytest

from holded_core import HoldedClient
from holded_core.errors import HoldedAuthError
from holded_sandbox import OAuthSettings
from holded_sandbox.testing import running_sandbox
from unit_tests.conftest import control

CONTACTS = "/invoicing/v1/contacts"


def _oauth_config(sb, refresh_token=None):
    return {
        "credentials": {
            "auth_type": "oauth2",
            "client_id": sb.oauth.client_id,
            "client_secret": sb.oauth.client_secret,
            "refresh_token": refresh_token or sb.oauth.refresh_token,
            "token_url": sb.token_url,
        },
        "base_url": sb.base_url,
        "requests_per_second": 100,
    }


def test_access_token_obtained_once_and_reused():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(access_token_ttl=3600)) as sb:
        client = HoldedClient(_oauth_config(sb))
        for _ in range(3):
            assert isinstance(client.get(CONTACTS), list)
        assert control(sb, "GET", "stats")["token_grants"] == 1


def test_refreshed_before_expiry_without_a_401():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(access_token_ttl=3)) as sb:
        client = HoldedClient(_oauth_config(sb))
        client.get(CONTACTS)
        time.sleep(1.7)  # past half the life of a 3 s token, before it expires
        client.get(CONTACTS)
        stats = control(sb, "GET", "stats")
        assert stats["token_grants"] == 2
        assert "401" not in stats["requests"]["by_status"]


def test_refreshed_once_on_401():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(access_token_ttl=2)) as sb:
        client = HoldedClient(_oauth_config(sb))
        client.get(CONTACTS)
        time.sleep(2.5)  # the server expired the token; make the client believe it is still fresh
        client.auth._refresh_at = time.monotonic() + 3600
        assert isinstance(client.get(CONTACTS), list)
        stats = control(sb, "GET", "stats")
        assert stats["token_grants"] == 2  # one refresh for the 401, none per call
        assert stats["requests"]["by_status"].get("401") == 1


def test_rotated_refresh_token_is_handed_to_the_caller():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(rotate_refresh_tokens=True)) as sb:
        original = sb.oauth.refresh_token
        seen: list[str] = []
        client = HoldedClient(_oauth_config(sb), on_refresh_token=seen.append)
        client.get(CONTACTS)
        assert len(seen) == 1 and seen[0] != original
        assert client.auth.refresh_token == seen[0]
        # The old refresh token is dead: a client still holding it gets a clear error.
        stale = HoldedClient(_oauth_config(sb, refresh_token=original))
        with pytest.raises(HoldedAuthError, match="re-authorize"):
            stale.get(CONTACTS)
        # The rotated one works.
        fresh = HoldedClient(_oauth_config(sb, refresh_token=seen[0]))
        assert isinstance(fresh.get(CONTACTS), list)


def test_static_bearer_token(sandbox, make_client):
    client = make_client(credentials={"auth_type": "bearer", "token": sandbox.bearer_token})
    assert isinstance(client.get(CONTACTS), list)
