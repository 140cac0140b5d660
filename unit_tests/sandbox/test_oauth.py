"""The OAuth2 token endpoint: refresh-token grant, expiry, rotation."""

from __future__ import annotations

import time

import requests

from holded_sandbox import OAuthSettings
from holded_sandbox.testing import running_sandbox

CONTACTS = "/invoicing/v1/contacts"


def _grant(sb, refresh_token=None, as_json=False, **overrides):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token or sb.oauth.refresh_token,
            "client_id": sb.oauth.client_id, "client_secret": sb.oauth.client_secret, **overrides}  # fmt: skip
    if as_json:
        return requests.post(sb.token_url, json=form, timeout=10)
    return requests.post(sb.token_url, data=form, timeout=10)


def _call(sb, token):
    return requests.get(sb.base_url + CONTACTS, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_grant_gives_a_bearer_token_that_works():
    with running_sandbox(scale=0.02) as sb:
        for as_json in (False, True):
            answer = _grant(sb, as_json=as_json).json()
            assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
            assert "refresh_token" not in answer  # only when rotating
            assert _call(sb, answer["access_token"]).status_code == 200
        assert sb.stats()["token_grants"] == 2


def test_bad_client_and_bad_refresh_token():
    with running_sandbox(scale=0.02) as sb:
        resp = _grant(sb, client_secret="nope")
        assert (resp.status_code, resp.json()) == (401, {"error": "invalid_client"})
        resp = _grant(sb, refresh_token="stale")
        assert (resp.status_code, resp.json()) == (400, {"error": "invalid_grant"})
        assert _grant(sb, grant_type="password").json() == {"error": "unsupported_grant_type"}
        assert _call(sb, "made-up").status_code == 401
        assert sb.stats()["token_grants"] == 0


def test_access_token_expires():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(access_token_ttl=0.3)) as sb:
        token = _grant(sb).json()["access_token"]
        assert _call(sb, token).status_code == 200
        time.sleep(0.4)
        resp = _call(sb, token)
        assert resp.status_code == 401 and resp.json()["status"] == 0


def test_rotation_hands_out_a_new_refresh_token_and_kills_the_old_one():
    with running_sandbox(scale=0.02, oauth=OAuthSettings(rotate_refresh_tokens=True)) as sb:
        original = sb.oauth.refresh_token
        answer = _grant(sb).json()
        assert answer["refresh_token"] != original
        assert _grant(sb, refresh_token=original).json() == {"error": "invalid_grant"}
        assert _grant(sb, refresh_token=answer["refresh_token"]).status_code == 200
