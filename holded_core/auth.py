"""Credentials turned into request headers: Holded's API key, an OAuth2 refresh-token flow, a static bearer.

Every secret is registered for redaction when its auth object is built. `fingerprint` identifies the
credential (for the shared rate budget) without containing it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import requests

from holded_core.config import (
    ApiKeyCredentials,
    ApiTokenCredentials,
    BearerCredentials,
    Credentials,
    OAuth2Credentials,
)
from holded_core.errors import HoldedAuthError, HoldedConnectionError
from holded_core.secrets import get_logger, register_secret

logger = get_logger(__name__)

# Refresh this long before the access token's announced expiry.
EXPIRY_SKEW_SECONDS = 60.0


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


class Auth:
    """Adds the credential to a request; may refresh itself once on a 401."""

    kind: str = "none"

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def refresh_after_unauthorized(self) -> bool:
        """Called on a 401. True when a fresh credential was obtained and the request is worth one retry."""
        return False

    @property
    def fingerprint(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"


class ApiKeyAuth(Auth):
    kind = "api_key"

    def __init__(self, api_key: str) -> None:
        register_secret(api_key)
        self._key = api_key

    def headers(self) -> dict[str, str]:
        return {"key": self._key}

    @property
    def fingerprint(self) -> str:
        return _fingerprint("key", self._key)


class BearerAuth(Auth):
    """A static token sent as `Authorization: Bearer`: Holded API v2 tokens (`pat_...`) and any bearer."""

    kind = "bearer"

    def __init__(self, token: str, kind: str = "bearer") -> None:
        register_secret(token)
        self._token = token
        self.kind = kind

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    @property
    def fingerprint(self) -> str:
        return _fingerprint("bearer", self._token)


class OAuth2RefreshAuth(Auth):
    """Refresh-token grant. The access token is renewed before expiry and once after a 401.

    When the token endpoint rotates the refresh token, the new one replaces the old in memory and
    `on_refresh_token` is called with it so the caller can persist it (Airbyte: a CONTROL message).
    """

    kind = "oauth2"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        token_url: str,
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        for secret in (client_secret, refresh_token):
            register_secret(secret)
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.token_url = token_url
        self.on_refresh_token = on_refresh_token
        self._timeout = timeout
        self._access_token: str | None = None
        self._refresh_at = 0.0  # monotonic time after which the access token is renewed
        self._lock = threading.Lock()
        self._session = requests.Session()

    @property
    def refresh_token(self) -> str:
        """The refresh token in force (rotated ones included), for the caller to persist."""
        return self._refresh_token

    @property
    def fingerprint(self) -> str:
        return _fingerprint("oauth2", self.token_url, self.client_id)

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._access_token is None or time.monotonic() >= self._refresh_at:
                self._refresh_locked()
            return {"Authorization": f"Bearer {self._access_token}"}

    def refresh_after_unauthorized(self) -> bool:
        with self._lock:
            self._refresh_locked()
        return True

    def _refresh_locked(self) -> None:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        try:
            resp = self._session.post(self.token_url, data=data, timeout=self._timeout)
        except requests.RequestException as exc:
            raise HoldedConnectionError(
                f"could not reach the OAuth2 token endpoint ({type(exc).__name__})",
                method="POST",
                path=self.token_url,
            ) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise HoldedAuthError(
                f"the OAuth2 token endpoint refused the refresh token (HTTP {resp.status_code}"
                f"{', ' + str(reason) if reason else ''}); re-authorize and update credentials.refresh_token",
                method="POST",
                path=self.token_url,
                status_code=resp.status_code,
            )
        register_secret(body["access_token"])
        self._access_token = body["access_token"]
        ttl = float(body.get("expires_in") or 3600)
        # Renew a margin before expiry; short-lived tokens get half their life, not a refresh per call.
        self._refresh_at = time.monotonic() + max(ttl - EXPIRY_SKEW_SECONDS, ttl / 2)
        rotated = body.get("refresh_token")
        if rotated and rotated != self._refresh_token:
            register_secret(rotated)
            self._refresh_token = rotated
            logger.info("OAuth2 refresh token rotated by the token endpoint; handing the new one to the caller")
            if self.on_refresh_token:
                self.on_refresh_token(rotated)


def build_auth(credentials: Credentials, *, on_refresh_token: Callable[[str], None] | None = None) -> Auth:
    if isinstance(credentials, ApiKeyCredentials):
        return ApiKeyAuth(credentials.api_key.get_secret_value())
    if isinstance(credentials, ApiTokenCredentials):
        return BearerAuth(credentials.token.get_secret_value(), kind="api_token")
    if isinstance(credentials, BearerCredentials):
        return BearerAuth(credentials.token.get_secret_value())
    if isinstance(credentials, OAuth2Credentials):
        return OAuth2RefreshAuth(
            credentials.client_id,
            credentials.client_secret.get_secret_value(),
            credentials.refresh_token.get_secret_value(),
            credentials.token_url,
            on_refresh_token=on_refresh_token,
        )
    raise TypeError(f"unknown credentials type {type(credentials).__name__}")
