"""The connection config contract shared by the source, the destination and the local runner.

`credentials` is a tagged object (`auth_type`: api_token | api_key | oauth2 | bearer). Validation errors
are turned into a `HoldedConfigError` naming each bad field and its fix, built from the field paths only,
so the rejected values (which may be secrets) are never echoed.

Which Holded API a config speaks (`ClientConfig.dialect`): `api_version` when it says `v1` or `v2`; on
`auto` (the default), v2 for an API token (`pat_...`, what Holded issues today) and v1 for an API key
(32 hex characters, Holded's deprecated v1 keys). Holded refuses each credential on the other API
(shared/holded-api/v2/README.md: a `pat_` token on a v1 route answers 400 "Invalid key"; a v1 key on v2
403 "Access denied."), so a mismatch is a config error here, before any request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from holded_core.errors import API_KEY_V1_WHERE, TOKEN_WHERE, HoldedConfigError

DEFAULT_BASE_URL = "https://api.holded.com/api"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ApiKeyCredentials(_Strict):
    auth_type: Literal["api_key"] = "api_key"
    api_key: SecretStr = Field(min_length=1, description=f"Holded API v1 key ({API_KEY_V1_WHERE})")


class ApiTokenCredentials(_Strict):
    auth_type: Literal["api_token"]
    token: SecretStr = Field(min_length=1, description=f"Holded API v2 token, pat_... ({TOKEN_WHERE})")


class OAuth2Credentials(_Strict):
    auth_type: Literal["oauth2"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(min_length=1)
    refresh_token: SecretStr = Field(min_length=1)
    token_url: str = Field(min_length=1, description="OAuth2 token endpoint (refresh-token grant)")

    @field_validator("token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value


class BearerCredentials(_Strict):
    auth_type: Literal["bearer"]
    token: SecretStr = Field(min_length=1)


Credentials = Annotated[
    ApiTokenCredentials | ApiKeyCredentials | OAuth2Credentials | BearerCredentials, Field(discriminator="auth_type")
]
API_VERSIONS = ("auto", "v1", "v2")
V2_TOKEN_PREFIX = "pat_"


class ClientConfig(_Strict):
    credentials: Credentials
    base_url: str = DEFAULT_BASE_URL
    api_version: Literal["auto", "v1", "v2"] = "auto"
    requests_per_second: float = Field(default=10.0, gt=0, le=1000)
    read_ahead: int = Field(default=2, ge=0, le=32, description="pages fetched in parallel ahead of the reader")
    max_retries: int = Field(default=6, ge=0, le=50)
    max_retry_seconds: float = Field(default=300.0, gt=0, description="total time spent waiting on retries")
    timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def dialect(self) -> str:
        """`v1` or `v2`: the Holded API this config speaks (see the module docstring)."""
        if self.api_version != "auto":
            return self.api_version
        return (
            "v2"
            if _token_of(self.credentials).startswith(V2_TOKEN_PREFIX)
            or isinstance(self.credentials, ApiTokenCredentials)
            else "v1"
        )


def _token_of(credentials: Any) -> str:
    for name in ("token", "api_key"):
        value = getattr(credentials, name, None)
        if value is not None:
            return value.get_secret_value()
    return ""


_FIXES = {
    "credentials": "set `credentials` to {auth_type: api_token, token} with Holded's pat_ token (or api_key / oauth2 / "
    "bearer)",
    "credentials.auth_type": "use one of api_token (Holded API v2), api_key (v1), oauth2, bearer",
    "token": f"paste the API token from Holded ({TOKEN_WHERE}), pat_...",
    "api_version": "use auto (the credential decides), v1 or v2",
    "api_key": f"paste the API key from Holded ({API_KEY_V1_WHERE})",
    "base_url": "use a full URL such as https://api.holded.com/api",
    "token_url": "use the full https URL of the OAuth2 token endpoint",
}


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    # The tagged union puts the tag in the location (credentials.api_key.api_key): drop it.
    if len(loc) >= 3 and loc[0] == "credentials" and loc[1] in ("api_token", "api_key", "oauth2", "bearer"):
        del loc[1]
    field = ".".join(loc) or "config"
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        field = f"{field}.auth_type"
    msg = "is required" if error.get("type") == "missing" else str(error.get("msg", "is invalid"))
    fix = _FIXES.get(field) or _FIXES.get(loc[-1] if loc else "", "")
    return f"`{field}` {msg}" + (f": {fix}" if fix else "")


def expand_shorthand(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a config with its shorthands written out in full:

    - a top-level `api_token` ("pat_...") or `api_key` becomes the `credentials` object it stands for. Only
      when there is no `credentials`: a config that has one keeps it (the shorthand is then dropped, so it
      cannot be mistaken for the credential in use);
    - `credentials` without `auth_type` gets the one it implies: `api_token` for a `token` (or an `api_token`,
      renamed `token`, as the top-level shorthand is spelt), else `api_key`.

    Every entry point that reads a config file applies it (`parse_config`, the `holded` runner's
    `load_config`, the Airbyte source's and destination's config), before the config is checked against the
    spec, so the shorthand works wherever the full form does.
    """
    data = dict(raw)
    token, key = data.pop("api_token", None), data.pop("api_key", None)
    if "credentials" not in data and token:
        data["credentials"] = {"auth_type": "api_token", "token": token}
    elif "credentials" not in data and key:
        data["credentials"] = {"auth_type": "api_key", "api_key": key}
    creds = data.get("credentials")
    if isinstance(creds, Mapping) and "auth_type" not in creds:
        creds = dict(creds)
        if "api_token" in creds and "token" not in creds:
            creds["token"] = creds.pop("api_token")
        creds["auth_type"] = "api_token" if "token" in creds else "api_key"
        data["credentials"] = creds
    return data


def parse_config(raw: Mapping[str, Any]) -> ClientConfig:
    """Validate a connector config.

    Args:
        raw: the config object, shorthands allowed (`expand_shorthand`).

    Returns:
        The validated config (`dialect` tells v1 or v2).

    Raises:
        HoldedConfigError: one line naming each bad field and its fix, never the secret; a v2 token
            given as a v1 `api_key` (or `api_version` contradicting the credential) says which to use.
    """
    if not isinstance(raw, Mapping):
        raise HoldedConfigError("the config must be a JSON object")
    data = expand_shorthand(raw)
    try:
        config = ClientConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_input=False, include_url=False))
        raise HoldedConfigError(f"invalid config: {problems}") from None
    _check_dialect(config)
    return config


def _check_dialect(config: ClientConfig) -> None:
    """A credential Holded's chosen API would refuse is a config error now, not a 400 on every call."""
    creds = config.credentials
    token = _token_of(creds)
    if isinstance(creds, ApiKeyCredentials) and token.startswith(V2_TOKEN_PREFIX):
        raise HoldedConfigError(
            "`credentials.api_key` holds a Holded API v2 token (pat_...), which v1 refuses: set `credentials` "
            "to {auth_type: api_token, token} with that token (for the holded command: HOLDED_API_TOKEN, not "
            "HOLDED_API_KEY)"
        )
    if config.dialect == "v1" and isinstance(creds, ApiTokenCredentials):
        raise HoldedConfigError(
            "`api_version` is v1 but `credentials` is an API v2 token (api_token), which v1 refuses: "
            "set `api_version` to auto or v2, or use a v1 `api_key`"
        )
    if config.dialect == "v2" and isinstance(creds, ApiKeyCredentials):
        raise HoldedConfigError(
            "`api_version` is v2 but `credentials` is a v1 API key, which v2 refuses: create an API token "
            f"(pat_...) in Holded ({TOKEN_WHERE}) and set credentials {{auth_type: api_token, token}}"
        )
