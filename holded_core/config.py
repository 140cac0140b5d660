"""The connection config contract shared by the source, the destination and the local runner.

`credentials` is a tagged object (`auth_type`: api_key | oauth2 | bearer). Validation errors are turned
into a `HoldedConfigError` naming each bad field and its fix, built from the field paths only, so the
rejected values (which may be secrets) are never echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from holded_core.errors import HoldedConfigError

DEFAULT_BASE_URL = "https://api.holded.com/api"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ApiKeyCredentials(_Strict):
    auth_type: Literal["api_key"] = "api_key"
    api_key: SecretStr = Field(min_length=1, description="Holded API key (Settings > Developers)")


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


Credentials = Annotated[ApiKeyCredentials | OAuth2Credentials | BearerCredentials, Field(discriminator="auth_type")]


class ClientConfig(_Strict):
    credentials: Credentials
    base_url: str = DEFAULT_BASE_URL
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


_FIXES = {
    "credentials": "set `credentials` to {auth_type: api_key, api_key: ...} (or oauth2 / bearer)",
    "credentials.auth_type": "use one of api_key, oauth2, bearer",
    "api_key": "paste the API key from Holded (Settings > Developers)",
    "base_url": "use a full URL such as https://api.holded.com/api",
    "token_url": "use the full https URL of the OAuth2 token endpoint",
}


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    # The tagged union puts the tag in the location (credentials.api_key.api_key): drop it.
    if len(loc) >= 3 and loc[0] == "credentials" and loc[1] in ("api_key", "oauth2", "bearer"):
        del loc[1]
    field = ".".join(loc) or "config"
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        field = f"{field}.auth_type"
    msg = "is required" if error.get("type") == "missing" else str(error.get("msg", "is invalid"))
    fix = _FIXES.get(field) or _FIXES.get(loc[-1] if loc else "", "")
    return f"`{field}` {msg}" + (f": {fix}" if fix else "")


def parse_config(raw: Mapping[str, Any]) -> ClientConfig:
    """Validate a connector config. A top-level `api_key` is accepted as shorthand for api_key credentials."""
    if not isinstance(raw, Mapping):
        raise HoldedConfigError("the config must be a JSON object")
    data = dict(raw)
    if "credentials" not in data and data.get("api_key"):
        data["credentials"] = {"auth_type": "api_key", "api_key": data.pop("api_key")}
    creds = data.get("credentials")
    if isinstance(creds, Mapping) and "auth_type" not in creds:
        data["credentials"] = {**creds, "auth_type": "api_key"}
    try:
        return ClientConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_input=False, include_url=False))
        raise HoldedConfigError(f"invalid config: {problems}") from None
