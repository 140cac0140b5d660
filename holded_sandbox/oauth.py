"""A minimal OAuth2 token endpoint (refresh_token grant) in front of the sandbox.

Holded v1 has no OAuth of its own; this exists so clients that sit behind an OAuth gateway
(or target v2 later) can be tested: grants, expiry, and refresh-token rotation.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from .routing import Response, json_response


@dataclass
class OAuthSettings:
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    refresh_token: str = "sandbox-refresh-token"
    access_token_ttl: float = 3600
    rotate_refresh_tokens: bool = False


@dataclass
class TokenIssuer:
    settings: OAuthSettings
    grants: int = 0
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)  # access token -> (expiry, owner)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def owner_of(self, token: str) -> tuple[str | None, bool]:
        """(owner, expired) for a bearer token; owner None when the token was never issued."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return None, False
        expiry, owner = found
        return owner, time.time() >= expiry

    def token_endpoint(self, headers: dict[str, str], body: bytes) -> Response:
        form = _parse_form(headers, body)
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        settings = self.settings
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if client_id != settings.client_id or client_secret != settings.client_secret:
            return json_response({"error": "invalid_client"}, 401)
        with self._lock:
            if not form.get("refresh_token") or form["refresh_token"] != settings.refresh_token:
                return json_response({"error": "invalid_grant"}, 400)
            access = "sbx_at_" + secrets.token_hex(16)
            ttl = float(settings.access_token_ttl)
            self._tokens[access] = (time.time() + ttl, f"oauth:{settings.client_id}")
            self.grants += 1
            answer: dict[str, object] = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": max(1, round(ttl)),
            }
            if settings.rotate_refresh_tokens:
                settings.refresh_token = "sbx_rt_" + secrets.token_hex(16)  # the old one stops working
                answer["refresh_token"] = settings.refresh_token
        return json_response(answer)


def _parse_form(headers: dict[str, str], body: bytes) -> dict[str, str]:
    text = body.decode("utf-8", "replace").strip()
    if "json" in headers.get("content-type", "") or text.startswith("{"):
        try:
            data = json.loads(text or "{}")
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        except ValueError:
            return {}
    return {k: v[0] for k, v in parse_qs(text).items()}
