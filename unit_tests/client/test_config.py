"""The config contract: three credential kinds; every mistake named with its fix, never echoing a secret."""

from __future__ import annotations

import pytest

from holded_core import DEFAULT_BASE_URL, parse_config
from holded_core.config import ApiKeyCredentials, BearerCredentials, OAuth2Credentials
from holded_core.errors import HoldedConfigError


def test_api_key_is_the_default_kind():
    config = parse_config({"credentials": {"api_key": "k-123456"}})
    assert isinstance(config.credentials, ApiKeyCredentials)
    assert config.base_url == DEFAULT_BASE_URL


def test_top_level_api_key_shorthand():
    assert isinstance(parse_config({"api_key": "k-123456"}).credentials, ApiKeyCredentials)


def test_oauth2_and_bearer():
    oauth = parse_config(
        {
            "credentials": {
                "auth_type": "oauth2",
                "client_id": "c",
                "client_secret": "s-123456",
                "refresh_token": "r-123456",
                "token_url": "https://auth.example/token",
            }
        }
    )
    assert isinstance(oauth.credentials, OAuth2Credentials)
    bearer = parse_config({"credentials": {"auth_type": "bearer", "token": "t-123456"}})
    assert isinstance(bearer.credentials, BearerCredentials)


def test_base_url_trailing_slash_is_dropped():
    assert parse_config({"api_key": "k", "base_url": "http://127.0.0.1:1/api/"}).base_url == "http://127.0.0.1:1/api"


@pytest.mark.parametrize(
    ("raw", "field", "fix"),
    [
        ({}, "`credentials`", "{auth_type: api_token, token} with Holded's pat_ token"),
        ({"credentials": {"auth_type": "password"}}, "`credentials.auth_type`", "api_token (Holded API v2), api_key"),
        ({"credentials": {"token": ""}}, "`credentials.token`", "paste the API token"),
        ({"api_key": "k", "api_version": "v3"}, "`api_version`", "auto (the credential decides), v1 or v2"),
        ({"credentials": {"api_key": ""}}, "`credentials.api_key`", "paste the API key"),
        ({"api_key": "k", "base_url": "api.holded.com"}, "`base_url`", "https://api.holded.com/api"),
        ({"api_key": "k", "requests_per_second": 0}, "`requests_per_second`", "greater than 0"),
        ({"credentials": {"auth_type": "oauth2", "client_id": "c"}}, "`credentials.client_secret`", "required"),
        ({"credentials": {"auth_type": "bearer"}}, "`credentials.token`", "required"),
    ],
)
def test_mistakes_name_the_field_and_the_fix(raw, field, fix):
    with pytest.raises(HoldedConfigError) as info:
        parse_config(raw)
    assert field in str(info.value) and fix in str(info.value)


def test_rejected_values_are_not_echoed():
    secret = "my-very-secret-key-value"
    with pytest.raises(HoldedConfigError) as info:
        parse_config({"credentials": {"auth_type": "bearer", "token": 12345, "api_key": secret}, "base_url": secret})
    assert secret not in str(info.value)


def test_not_an_object():
    with pytest.raises(HoldedConfigError, match="JSON object"):
        parse_config(["api_key"])  # type: ignore[arg-type]


def test_given_a_config_file_with_a_top_level_token_then_the_runner_loads_it_as_credentials(tmp_path):
    from holded_cli.config import load_config

    path = tmp_path / "holded.yaml"
    path.write_text("api_token: pat_abc123\nbase_url: http://127.0.0.1:8420/api\n")
    loaded = load_config(str(path), env={})
    assert loaded.values["credentials"] == {"auth_type": "api_token", "token": "pat_abc123"}
    assert "api_token" not in loaded.values and parse_config(loaded.values).dialect == "v2"
    # A credential from the environment still replaces the file's.
    assert load_config(str(path), env={"HOLDED_API_KEY": "k-1"}).values["credentials"]["api_key"] == "k-1"
    path.write_text('{"api_key": "0123456789abcdef0123456789abcdef"}')
    assert parse_config(load_config(str(path), env={}).values).dialect == "v1"


@pytest.mark.parametrize(
    "credentials, path, field, route",
    [
        (
            {"api_token": "pat_abc123"},
            "/invoicing/v1/products",
            "custom_streams[0].path",
            "its API v2 route, /v2/products",
        ),
        ({"api_token": "pat_abc123"}, "invoicing/v1/documents/invoice", "custom_streams[0].path", "/v2/invoices"),
        ({"api_token": "pat_abc123"}, "/invoicing/v1/numberingseries", "custom_streams[0].path", "(/v2/...)"),
        ({"api_key": "0123456789abcdef0123456789abcdef"}, "/v2/leads", "custom_streams[0].path", "/crm/v1/leads"),
    ],
)
def test_given_a_custom_stream_on_the_other_apis_route_then_the_config_names_the_field_and_the_route(
    credentials, path, field, route
):
    from holded_core.settings import parse_settings

    with pytest.raises(HoldedConfigError) as caught:
        parse_settings({**credentials, "custom_streams": [{"name": "mine", "path": path}]})
    message = str(caught.value)
    assert message.startswith(f"`{field}` ") and route in message and "\n" not in message
    assert "pat_abc123" not in message


def test_given_a_custom_stream_on_the_credentials_api_then_it_is_accepted():
    from holded_core.settings import parse_settings

    v2 = parse_settings({"api_token": "pat_abc123", "custom_streams": [{"name": "mine", "path": "/v2/products"}]})
    assert [s.name for s in v2.streams() if s.kind == "custom"] == ["mine"]
    v1 = parse_settings({"api_key": "k-123456", "custom_streams": [{"name": "mine", "path": "/invoicing/v1/products"}]})
    assert [s.name for s in v1.streams() if s.kind == "custom"] == ["mine"]
