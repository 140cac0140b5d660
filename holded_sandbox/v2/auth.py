"""API v2 personal access tokens (`pat_...`) and their permissions.

Invariants:
- A token is `pat_` + text; the sandbox's default token (`SandboxServer(api_token=...)`, CLI
  `--api-token`) holds every permission; `mint(permissions)` (control route `POST /__sandbox__/tokens`)
  makes one holding exactly those.
- A permission is `area:resource.read|write` (e.g. `crm:deals.read`); reading needs `.read`, any other
  method `.write` (write does not imply read: Holded has the user tick each one).
- Only `Authorization: Bearer <token>` authenticates on v2. An unknown token, or a v1 credential (the
  API key, as Bearer or as a `key` header), answers 403 `Access denied.` (the live answer for a bad
  token); no credential at all answers 401. A missing permission answers 403 naming it.
- A `pat_` token never works on v1 routes (`is_v2_token`, used by the v1 auth step).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

from .problems import Problem

DEFAULT_TOKEN = "pat_sandbox-api-token"
ALL = "*"  # the default token's permission set: every permission
PERMISSION = re.compile(r"^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*\.(read|write)$")


def is_v2_token(value: str | None) -> bool:
    """True for a v2 personal access token (`pat_...`)."""
    return bool(value) and str(value).strip().startswith("pat_")


@dataclass(frozen=True)
class Token:
    """One v2 token: its text and the permissions it holds (`frozenset({"*"})` for all)."""

    value: str
    permissions: frozenset[str]

    def allows(self, permission: str) -> bool:
        """True when this token holds `permission` (e.g. `contacts:contacts.read`)."""
        return ALL in self.permissions or permission in self.permissions


class TokenBook:
    """The account's v2 tokens (thread-safe)."""

    def __init__(self, default_token: str | None = DEFAULT_TOKEN) -> None:
        if default_token is not None and not is_v2_token(default_token):
            raise ValueError("a v2 API token must start with 'pat_'")
        self._lock = threading.Lock()
        self.default_token = default_token
        self._tokens: dict[str, Token] = {}
        if default_token:
            self._tokens[default_token] = Token(default_token, frozenset({ALL}))

    def mint(self, permissions: list[str]) -> Token:
        """A new token with exactly these permissions.

        Raises:
            ValueError: a permission is not `area:resource.read|write`.
        """
        wrong = [p for p in permissions if not isinstance(p, str) or not PERMISSION.match(p)]
        if wrong:
            raise ValueError(f"permissions must look like 'contacts:contacts.read': {wrong!r}")
        token = Token("pat_" + secrets.token_hex(20), frozenset(permissions))
        with self._lock:
            self._tokens[token.value] = token
        return token

    def authenticate(self, headers: dict[str, str]) -> Token:
        """The token a request carries.

        Raises:
            Problem: 401 without any credential, 403 `Access denied.` for an unknown token or a v1 key.
        """
        auth = headers.get("authorization", "")
        if not auth.strip() and "key" not in headers:
            raise Problem(401, "Authentication required: send Authorization: Bearer <token>.")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            raise Problem(403, "Access denied.")
        return token


def require_permission(token: Token, permission: str) -> None:
    """403 naming the permission, as Holded does: `Insufficient permissions: crm:deals.read required.`"""
    if not token.allows(permission):
        raise Problem(403, f"Insufficient permissions: {permission} required.")
