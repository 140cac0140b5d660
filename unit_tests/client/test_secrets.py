"""Secrets never appear in a log line, an exception text, a traceback or a repr, even in failing runs."""

from __future__ import annotations

import logging
import traceback

import pytest

from holded_core import HoldedClient, parse_config
from holded_core.errors import HoldedError
from holded_sandbox import OAuthSettings
from holded_sandbox.testing import running_sandbox
from unit_tests.conftest import control

API_KEY = "sk-live-API-KEY-0123456789abcdef"
CLIENT_SECRET = "oauth-CLIENT-SECRET-9876543210"
REFRESH = "oauth-REFRESH-TOKEN-5555555555"
BEARER = "static-BEARER-TOKEN-4444444444"
SECRETS = [API_KEY, CLIENT_SECRET, REFRESH, BEARER]


def _failing_runs(sb) -> list[BaseException]:
    """Drive the client through every failure we can provoke; collect the exceptions."""
    errors: list[BaseException] = []
    base = {"base_url": sb.base_url, "max_retries": 1, "max_retry_seconds": 5, "requests_per_second": 100}
    runs = [
        ({"credentials": {"auth_type": "api_key", "api_key": API_KEY}}, "/invoicing/v1/contacts"),
        ({"credentials": {"auth_type": "bearer", "token": BEARER}}, "/invoicing/v1/contacts"),
        (
            {
                "credentials": {
                    "auth_type": "oauth2",
                    "client_id": sb.oauth.client_id,
                    "client_secret": CLIENT_SECRET,
                    "refresh_token": REFRESH,
                    "token_url": sb.token_url,
                }
            },
            "/invoicing/v1/contacts",
        ),
        ({"credentials": {"auth_type": "api_key", "api_key": API_KEY}}, "/invoicing/v1/nope"),
        ({"credentials": {"auth_type": "api_key", "api_key": API_KEY}}, "https://evil.example/x"),
    ]
    for overrides, path in runs:
        try:
            HoldedClient({**base, **overrides}).get(path)
        except HoldedError as exc:
            errors.append(exc)
    # Server errors and resets with a real key, the answers echoing nothing secret but logged retries.
    control(sb, "PATCH", "faults", script=[{"status": 503}, {"kind": "reset"}, {"status": 500}])
    try:
        HoldedClient({**base, "credentials": {"auth_type": "api_key", "api_key": sb.api_key}}).get(
            "/invoicing/v1/contacts"
        )
    except HoldedError as exc:
        errors.append(exc)
    # Invalid configs that carry secrets in the wrong places.
    for bad in [
        {"credentials": {"auth_type": "oauth2", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH}},
        {"credentials": {"auth_type": "api_key", "api_key": API_KEY}, "base_url": API_KEY},
        {"credentials": {"auth_type": "nope", "api_key": API_KEY}},
    ]:
        try:
            parse_config(bad)
        except HoldedError as exc:
            errors.append(exc)
    return errors


def test_no_secret_in_logs_errors_tracebacks_or_reprs(caplog):
    sandbox = running_sandbox(scale=0.02, oauth=OAuthSettings(rotate_refresh_tokens=True))
    with sandbox as sb, caplog.at_level(logging.DEBUG):
        errors = _failing_runs(sb)
        ok = HoldedClient({"credentials": {"auth_type": "api_key", "api_key": API_KEY}, "base_url": sb.base_url})
        config = ok.config
    assert len(errors) >= 8
    texts = [caplog.text, repr(ok), repr(config), str(config), repr(ok.auth), config.model_dump_json()]
    for exc in errors:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    blob = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in blob
    assert "HTTP 503" in caplog.text  # the logs did record the failing run


@pytest.mark.parametrize("secret", SECRETS)
def test_redaction_filter_masks_registered_secrets(secret, caplog):
    from holded_core.secrets import get_logger, register_secret

    register_secret(secret)
    log = get_logger("holded_core.test")
    with caplog.at_level(logging.INFO, logger="holded_core"):
        log.info("about to send %s", secret)
        try:
            raise RuntimeError(f"boom {secret}")
        except RuntimeError:
            log.exception("failed")
    assert secret not in caplog.text
    assert "****" in caplog.text
