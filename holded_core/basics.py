"""The basics check (preflight): one cheap call, before a run's work starts, proving that the host of
`base_url` answers, that it is Holded's API and that Holded accepts the credential.

Every entry point that talks to Holded (`holded sync` / `events` / `push`, the Singer tap and target,
the Airbyte source's `read` and destination's `write`, and `check` through `probe_modules`) calls
`check_basics` first, with the client the run then uses. When the basics are wrong the run stops at once
with one `HoldedBasicsError`, whose one-line message names the config field and the fix, instead of one
failure per stream:

- credential refused (HTTP 401, API v2's 403 "Access denied.", or Holded's `{"status": 0, "info":
  "Invalid key"}` refusal): the credential's field (`credentials.api_key`, `credentials.token`,
  `credentials.refresh_token`);
- `base_url` answering an HTML page (Holded's answer to an unknown route, e.g. a base URL without
  `/api`) or a 404: `base_url`;
- host unreachable (connection refused, unknown host name, connect timeout): `base_url`. The client
  gives up on these within about a second while the host has never answered (see
  `HoldedClient.request`), so a wrong host no longer costs minutes of backoff.

Anything else (5xx or 429 after the client's retries, a module the credential may not use) is not a
basics failure and is left to the run. `credential_refused` is the credential part of the
classification alone, for a credential refused mid-run (revoked while a sync runs).

Messages never contain a secret: they are built from the config's field names and Holded's own
message, which `HoldedError` redacts; a base URL is shown without user info or query.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from holded_core.client import HoldedClient
from holded_core.config import (
    DEFAULT_BASE_URL,
    ApiKeyCredentials,
    ApiTokenCredentials,
    BearerCredentials,
    ClientConfig,
    OAuth2Credentials,
)
from holded_core.errors import (
    API_KEY_V1_WHERE,
    TOKEN_WHERE,
    HoldedApiError,
    HoldedAuthError,
    HoldedBasicsError,
    HoldedConnectionError,
    HoldedError,
    HoldedHtmlError,
    HoldedNotFoundError,
    HoldedPermissionError,
    HoldedRequestError,
    HoldedUnreachableError,
)

BASICS_MODULE = "invoicing"
BASICS_PATH = "/invoicing/v1/taxes"  # a short list (a few dozen taxes), first page only
# Holded's refusals of a credential that come as a `status: 0` answer rather than a 401: a v2 `pat_`
# token on a v1 route answers `400 {"status":0,"info":"Invalid key"}`.
_REFUSAL = re.compile(r"(?i)\binvalid\s+(?:api\s+)?key\b|\bunauthori[sz]ed\b|\binvalid\s+(?:access\s+)?token\b")


def basics_call(dialect: str) -> tuple[str, dict[str, int]]:
    """The basics call in the credential's dialect: the first page of the taxes (v1 `?page=1`, v2 one
    record: `?limit=1`; a v2 token on a v1 route is refused, shared/holded-api/v2/README.md)."""
    from holded_core.dialects import dialect_named

    taxes = dialect_named(dialect).resource("taxes")
    return taxes.path, ({"limit": 1} if taxes.pagination == "cursor" else {"page": 1})


def check_basics(client: HoldedClient) -> HoldedPermissionError | None:
    """Make the one call that proves the basics (page 1 of the invoicing taxes) with `client`.

    Args:
        client: the client the run will use (so an OAuth token obtained here serves the run too).

    Returns:
        None when the call answered; the `HoldedPermissionError` when Holded accepted the credential
        but this credential may not use the invoicing module (the basics are right: it is a plan or
        permission matter that `probe_modules` reports with the other modules).

    Raises:
        HoldedBasicsError: the credential was refused, `base_url` does not answer like Holded's API, or
            its host cannot be reached; one line naming the field and the fix.
        HoldedError: any other failure of the call (e.g. 5xx after the client's retries), unchanged.
    """
    path, params = basics_call(client.config.dialect)
    try:
        client.get(path, params)
    except HoldedPermissionError as exc:
        return exc
    except HoldedError as exc:
        classified = basics_error(exc, client.config)
        if classified is None:
            raise
        raise classified from exc
    return None


def basics_error(error: HoldedError, config: ClientConfig) -> HoldedBasicsError | None:
    """Classify the failure of the basics call.

    Args:
        error: what the client raised for the basics call (`BASICS_PATH`, or the first call of a run).
        config: the client config, to name the credential's field and show the base URL.

    Returns:
        The `HoldedBasicsError` to raise instead, or None when `error` says nothing about the basics
        (a 5xx, a 429, a read timeout...). A 404 or an unreachable host only mean a wrong `base_url` on
        the first call: later in a run, use `credential_refused` alone.
    """
    if isinstance(error, HoldedBasicsError):
        return error
    refused = credential_refused(error, config)
    if refused is not None:
        return refused
    if isinstance(error, HoldedConnectionError) and _token_endpoint(error, config):
        return HoldedBasicsError(
            f"`credentials.token_url`: cannot reach the OAuth2 token endpoint ({error.message}); "
            "check the URL and that the server is up",
            field="credentials.token_url",
        )
    base = shown_url(config.base_url)
    if isinstance(error, HoldedUnreachableError):
        host = urlsplit(base).netloc
        theirs = "" if base == shown_url(DEFAULT_BASE_URL) else f"; Holded's is {DEFAULT_BASE_URL}"
        return HoldedBasicsError(
            f"`base_url`: cannot reach {host} ({error.message}); check the URL ({base}{theirs}) and that the "
            "host is up and reachable from here",
            field="base_url",
        )
    if isinstance(error, (HoldedHtmlError, HoldedNotFoundError)):
        what = "an HTML page" if isinstance(error, HoldedHtmlError) else "not found"
        return HoldedBasicsError(
            f"`base_url` {base} is not Holded's API: GET {error.path} answered {what} "
            f"(HTTP {error.status_code}); {_base_url_fix(base)}",
            field="base_url",
            status_code=error.status_code,
        )
    return None


def credential_refused(error: BaseException, config: ClientConfig) -> HoldedBasicsError | None:
    """The `HoldedBasicsError` naming the credential's field when `error` is Holded refusing the credential
    (HTTP 401 or a `status: 0` "invalid key" answer; for OAuth2, the token endpoint refusing the refresh
    token), else None. Safe to use at any point of a run.

    Args:
        error: any exception a client call raised.
        config: the client config, to name the credential's field.

    Returns:
        The error to report instead, or None.
    """
    if not isinstance(error, HoldedError):
        return None
    text = error.holded_message or ""
    if not isinstance(error, HoldedAuthError) and not (
        isinstance(error, (HoldedApiError, HoldedRequestError)) and _REFUSAL.search(text)
    ):
        return None
    answer = f"HTTP {error.status_code}" if error.status_code else "refused"
    if text:
        answer += f": {text}"
    credentials = config.credentials
    if isinstance(credentials, OAuth2Credentials):
        if _token_endpoint(error, config):
            return HoldedBasicsError(
                f"`credentials.refresh_token`: the OAuth2 token endpoint refused it ({answer}); re-authorize and "
                "update `credentials.refresh_token` (and check `credentials.client_id` / `client_secret`)",
                field="credentials.refresh_token",
                status_code=error.status_code,
            )
        return HoldedBasicsError(
            f"`credentials`: Holded refused the OAuth2 access token ({answer}); check that "
            "`credentials.token_url` issues tokens for this Holded account",
            field="credentials",
            status_code=error.status_code,
        )
    if isinstance(credentials, ApiTokenCredentials):
        fix = (
            "v1 routes refuse API v2 tokens: use the route's /v2/ form, or an API v1 key"
            if error.path and not error.path.startswith("/v2/")
            else f"check that the token was not revoked, or make one in Holded ({TOKEN_WHERE})"
        )
        return HoldedBasicsError(
            f"`credentials.token`: Holded refused the API v2 token ({answer}); {fix}",
            field="credentials.token",
            status_code=error.status_code,
        )
    if isinstance(credentials, BearerCredentials):
        return HoldedBasicsError(
            f"`credentials.token`: Holded refused the bearer token ({answer}); set a valid token",
            field="credentials.token",
            status_code=error.status_code,
        )
    fix = f"paste a valid API key from Holded ({API_KEY_V1_WHERE})"
    if isinstance(credentials, ApiKeyCredentials) and credentials.api_key.get_secret_value().startswith("pat_"):
        fix = f"this is an API v2 token (`pat_...`), which v1 routes refuse: use an API v1 key ({API_KEY_V1_WHERE})"
    return HoldedBasicsError(
        f"`credentials.api_key`: Holded refused the API key ({answer}); {fix}",
        field="credentials.api_key",
        status_code=error.status_code,
    )


def _token_endpoint(error: HoldedError, config: ClientConfig) -> bool:
    credentials = config.credentials
    return isinstance(credentials, OAuth2Credentials) and error.path == credentials.token_url


def shown_url(url: str) -> str:
    """A URL as it may be printed: scheme, host, port and path (no user info, no query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


def _base_url_fix(base: str) -> str:
    """How to fix a base URL that does not answer like Holded's API: most often its path is wrong."""
    path = urlsplit(base).path
    root = base[: len(base) - len(path)]
    if path.endswith("/api"):
        return f"use Holded's API root, {DEFAULT_BASE_URL}"
    if "/api/" in path:
        return f"end it at /api: {root}{path[: path.index('/api/') + len('/api')]}"
    return f"did you mean {base}/api? (Holded's is {DEFAULT_BASE_URL})"
