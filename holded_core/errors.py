"""Typed errors. Each names what failed (method, path) and carries Holded's own message.

Messages pass through :func:`holded_core.secrets.redact` so no credential can leak through them.
"""

from __future__ import annotations

from holded_core.secrets import redact

# Where a Holded user makes a credential (shared/holded-api/v2/README.md): every message that says it uses these.
TOKEN_WHERE = "Settings > Developers > Credentials > Add API Token"
API_KEY_V1_WHERE = 'Settings > Developers > "Go to Api Keys v1"'


class HoldedError(Exception):
    """Base of every error the client raises."""

    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        holded_message: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.holded_message = redact(holded_message) if holded_message else holded_message
        self.message = redact(message)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        text = f"{where}{self.message}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class HoldedConfigError(HoldedError):
    """The configuration is invalid; the message names the field and the fix."""


class HoldedBasicsError(HoldedConfigError):
    """The basics are wrong: Holded refused the credential, `base_url` is not Holded's API, or its host
    cannot be reached (see `holded_core.basics`). The message is one line naming the field and the fix.

    Attributes:
        field: the config field to fix, e.g. `credentials.api_key` or `base_url`.
    """

    def __init__(self, message: str, *, field: str, status_code: int | None = None) -> None:
        self.field = field
        super().__init__(message, status_code=status_code)


class HoldedUnsafeRequestError(HoldedError):
    """A proxied path would send the credential somewhere other than the configured host."""


class HoldedAuthError(HoldedError):
    hint = "check the API key or token in `credentials`"


class HoldedPermissionError(HoldedError):
    hint = "the credential works but this Holded module is not available to it (plan or permissions)"


class HoldedMissingPermissionError(HoldedPermissionError):
    """Holded API v2 refused the call for a permission the token lacks; `permission` names it exactly
    (`crm:deals.read`), from Holded's own `detail` ("Insufficient permissions: crm:deals.read required.")."""

    def __init__(self, message: str, *, permission: str, **kwargs: object) -> None:
        self.permission = permission
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    @property
    def hint(self) -> str:  # type: ignore[override]
        return f"tick `{self.permission}` on the API token in Holded ({TOKEN_WHERE}), or make a new token with it"


class HoldedNotFoundError(HoldedError):
    pass


class HoldedApiError(HoldedError):
    """Holded answered `{"status": 0, "info": ...}`: a logical failure, whatever the HTTP code."""


class HoldedRequestError(HoldedError):
    """Another 4xx answer."""


class HoldedHtmlError(HoldedError):
    """An HTML page instead of JSON: Holded answers unknown routes with its 404 page and HTTP 200."""

    hint = "the route is probably wrong; Holded serves its HTML 404 page with HTTP 200 for unknown routes"


class HoldedPaginationError(HoldedError):
    """A list route answered a page of records it had already given: it does not advance with `page`."""

    hint = "the records listed before it were read; report the route so its pagination can be declared"


class HoldedInvalidResponseError(HoldedError):
    """A body that is not JSON, or was cut short in transfer."""


class HoldedQuotaError(HoldedError):
    """Holded API v2's monthly request quota is spent (429 with `X-RateLimit-Window: month`): not retried,
    since nothing will change before `reset` (unix seconds, when Holded says)."""

    hint = "the account's monthly API quota is used up; wait for the next month or raise the plan's quota"

    def __init__(self, message: str, *, reset: float | None = None, **kwargs: object) -> None:
        self.reset = reset
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class TransientError(HoldedError):
    """Base of failures that a retry may cure (raised once retries are exhausted)."""


class HoldedRateLimitError(TransientError):
    hint = "lower `requests_per_second` or retry later"


class HoldedServerError(TransientError):
    pass


class HoldedConnectionError(TransientError):
    """Reset, refused or timed-out connections."""


class HoldedUnreachableError(HoldedConnectionError):
    """No connection could be made (refused, host name not found, connect timeout): nothing was sent.

    Before the host has answered anything, the client gives up on these after a couple of quick tries
    (see `HoldedClient.request`); `holded_core.basics` then names `base_url` as the thing to check.
    """


class HoldedAmbiguousWriteError(HoldedConnectionError):
    """A non-idempotent request (POST) failed after it was sent: Holded may or may not have applied it.

    Never retried by the client: the caller must look the object up before trying again.
    """

    hint = "the write may have been applied; look it up before retrying"
