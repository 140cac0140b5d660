"""The basics check: a refused credential, a base URL that is not Holded's API and an unreachable host are
each one `HoldedBasicsError` naming the field to fix; an unreachable host fails after a few quick tries."""

from __future__ import annotations

import socket

import pytest
import requests
from urllib3.connection import HTTPConnection
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from holded_core import HoldedClient, parse_config
from holded_core.basics import BASICS_PATH, basics_error, check_basics, credential_refused
from holded_core.client import FIRST_CONTACT_DELAY, FIRST_CONTACT_RETRIES
from holded_core.errors import (
    HoldedAmbiguousWriteError,
    HoldedApiError,
    HoldedAuthError,
    HoldedBasicsError,
    HoldedNotFoundError,
    HoldedPermissionError,
    HoldedRequestError,
    HoldedServerError,
    HoldedUnreachableError,
)
from holded_core.modules import probe_modules
from holded_core.retry import RetryPolicy
from holded_sandbox import OAuthSettings
from holded_sandbox.testing import running_sandbox
from unit_tests.conftest import control

SECRET = "wrong-key-that-must-not-leak-9731"


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(**overrides):
    return parse_config({"credentials": {"api_key": "a-key-of-some-length"}, "base_url": "https://example.test/api",
                         **overrides})  # fmt: skip


def _basics_failure(client: HoldedClient) -> HoldedBasicsError:
    with pytest.raises(HoldedBasicsError) as info:
        check_basics(client)
    assert "\n" not in str(info.value)  # one line
    return info.value


# ------------------------------------------------------------------------------ against the sandbox


def test_given_a_wrong_key_when_checking_basics_then_one_call_names_the_api_key(sandbox, make_client):
    client = make_client(credentials={"auth_type": "api_key", "api_key": SECRET})
    error = _basics_failure(client)
    assert error.field == "credentials.api_key" and error.status_code == 401
    assert str(error).startswith("`credentials.api_key`: Holded refused the API key (HTTP 401")
    assert "Settings > Developers" in str(error)
    assert SECRET not in str(error)
    assert client.stats.requests == 1


def test_given_a_v2_token_as_a_v1_key_then_the_config_says_to_use_api_token_before_any_request(sandbox, make_client):
    from holded_core.errors import HoldedConfigError

    before = control(sandbox, "GET", "stats")["requests"]["total"]
    with pytest.raises(HoldedConfigError, match=r"API v2 token \(pat_\.\.\.\).*auth_type: api_token") as caught:
        make_client(credentials={"auth_type": "api_key", "api_key": "pat_0123456789abcdef"})
    assert "pat_0123456789abcdef" not in str(caught.value)
    assert control(sandbox, "GET", "stats")["requests"]["total"] == before  # Holded was never asked


def test_given_a_base_url_without_api_when_checking_basics_then_it_suggests_adding_it(sandbox, make_client):
    root = sandbox.base_url.removesuffix("/api")
    error = _basics_failure(make_client(base_url=root))
    assert error.field == "base_url"
    assert str(error) == (
        f"`base_url` {root} is not Holded's API: GET {BASICS_PATH} answered an HTML page (HTTP 200); "
        f"did you mean {root}/api? (Holded's is https://api.holded.com/api)"
    )


def test_given_a_base_url_with_a_module_path_when_checking_basics_then_it_says_end_it_at_api(sandbox, make_client):
    error = _basics_failure(make_client(base_url=f"{sandbox.base_url}/invoicing/v1"))
    assert error.field == "base_url"
    assert str(error).endswith(f"end it at /api: {sandbox.base_url}")


def test_given_a_closed_port_when_checking_basics_then_three_quick_attempts_name_base_url():
    port = closed_port()
    client = HoldedClient(_config(base_url=f"http://127.0.0.1:{port}/api"))
    error = _basics_failure(client)
    assert error.field == "base_url"
    assert str(error).startswith(f"`base_url`: cannot reach 127.0.0.1:{port} (connection refused; gave up after 3 ")
    assert client.stats.requests == FIRST_CONTACT_RETRIES + 1 == 3  # not the policy's 7
    # The waits are the first-contact ones (0.25 s, then 0.5 s), not the policy's backoff.
    assert client.stats.retry_wait_seconds == pytest.approx(FIRST_CONTACT_DELAY * 3)


def test_given_a_host_that_answered_earlier_when_it_refuses_then_the_full_retry_policy_applies():
    with running_sandbox(scale=0.01, seed=3) as sb:
        policy = RetryPolicy(max_retries=5, base_delay=0.01, max_delay=0.02)
        client = HoldedClient({"credentials": {"api_key": sb.api_key}, "base_url": sb.base_url}, retry_policy=policy)
        assert check_basics(client) is None
    # The sandbox is gone: its port refuses connections now.
    with pytest.raises(HoldedUnreachableError, match="connection refused; gave up after 6 attempts"):
        client.get("/crm/v1/funnels")
    assert client.stats.requests == 1 + 6
    client.close()


def test_given_a_5xx_when_checking_basics_then_it_is_not_a_config_mistake(sandbox, make_client):
    control(sandbox, "PATCH", "faults", script=[{"status": 503}, {"status": 503}])
    with pytest.raises(HoldedServerError) as info:
        check_basics(make_client(max_retries=1))
    assert not isinstance(info.value, HoldedBasicsError)


def test_given_the_invoicing_module_denied_when_checking_basics_then_the_basics_pass(sandbox, make_client):
    control(sandbox, "PATCH", "faults", denied_modules=["invoicing"])
    assert isinstance(check_basics(make_client()), HoldedPermissionError)


def test_probe_modules_starts_with_the_basics_check(sandbox, make_client):
    client = make_client(credentials={"auth_type": "api_key", "api_key": SECRET})
    with pytest.raises(HoldedBasicsError):
        probe_modules(client)
    assert client.stats.requests == 1  # no probe of the other four modules
    ok = make_client()
    assert probe_modules(ok) == dict.fromkeys(("invoicing", "crm", "projects", "team", "accounting"))
    assert ok.stats.requests == 5  # the basics call is the invoicing probe, not a sixth call


def test_given_a_refused_refresh_token_when_checking_basics_then_it_names_the_refresh_token():
    with running_sandbox(scale=0.01, oauth=OAuthSettings()) as sb:
        config = {
            "credentials": {"auth_type": "oauth2", "client_id": sb.oauth.client_id,
                            "client_secret": sb.oauth.client_secret, "refresh_token": "stale-refresh-token-1",
                            "token_url": sb.token_url},
            "base_url": sb.base_url,
        }  # fmt: skip
        with HoldedClient(config) as client:
            error = _basics_failure(client)
    assert error.field == "credentials.refresh_token"
    assert "stale-refresh-token-1" not in str(error)


def test_given_a_wrong_bearer_token_when_checking_basics_then_it_names_the_token(sandbox, make_client):
    error = _basics_failure(make_client(credentials={"auth_type": "bearer", "token": "not-the-token-1234"}))
    assert (error.field, error.status_code) == ("credentials.token", 401)


# ------------------------------------------------------------------------------ the classification


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (HoldedAuthError("refused", status_code=401, holded_message="Unauthorized"), "credentials.api_key"),
        (HoldedRequestError("rejected", status_code=400, holded_message="Invalid key"), "credentials.api_key"),
        (HoldedApiError("status 0", status_code=200, holded_message="Invalid API key"), "credentials.api_key"),
        (HoldedNotFoundError("not found", method="GET", path=BASICS_PATH, status_code=404), "base_url"),
        (HoldedUnreachableError("host name not found; gave up after 3 attempts"), "base_url"),
    ],
)
def test_basics_failures_name_their_field(error, field):
    classified = basics_error(error, _config())
    assert classified is not None and classified.field == field
    assert str(classified).startswith(f"`{field}`")


@pytest.mark.parametrize(
    "error",
    [
        HoldedServerError("HTTP 503; gave up after 7 attempts", status_code=503),
        HoldedApiError("status 0", status_code=200, holded_message="contactId needed"),
        HoldedRequestError("rejected", status_code=400, holded_message="Invalid date"),
        HoldedPermissionError("access denied", status_code=403, holded_message="Your plan does not include it"),
    ],
)
def test_other_failures_are_not_basics_failures(error):
    assert basics_error(error, _config()) is None


def test_mid_run_only_a_refused_credential_is_reclassified():
    config = _config()
    assert credential_refused(HoldedAuthError("refused", status_code=401), config).field == "credentials.api_key"
    assert credential_refused(HoldedNotFoundError("gone", status_code=404), config) is None  # a deleted record
    assert credential_refused(HoldedUnreachableError("connection refused"), config) is None
    assert credential_refused(ValueError("a bug"), config) is None


def test_a_base_url_is_shown_without_user_info_or_query():
    config = _config(base_url="https://user:hunter2secret@example.test/other?token=abc123456")
    message = str(basics_error(HoldedUnreachableError("connection refused"), config))
    assert "hunter2secret" not in message and "abc123456" not in message
    assert "https://example.test/other" in message


# ---------------------------------------------------------------------------- connection failures


def _raising(exc: Exception):
    def request(*args, **kwargs):
        raise exc

    return request


def test_an_unknown_host_is_unreachable_not_a_reset_so_a_post_is_not_ambiguous():
    conn = HTTPConnection("no-such-host.invalid", 80)
    cause = NameResolutionError("no-such-host.invalid", conn, socket.gaierror(-2, "Name or service not known"))
    client = HoldedClient(_config())
    client._session.request = _raising(requests.ConnectionError(MaxRetryError(None, "/", cause)))
    with pytest.raises(HoldedUnreachableError, match="host name not found; gave up after 3 attempts") as info:
        client.request("POST", "/invoicing/v1/contacts", json={"name": "x"})
    assert not isinstance(info.value, HoldedAmbiguousWriteError)  # nothing was sent: safe to say so
    assert client.stats.by_status["host name not found"] == 3


def test_a_refused_connection_is_unreachable():
    conn = HTTPConnection("127.0.0.1", 9)
    cause = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111] Connection refused")
    client = HoldedClient(_config())
    client._session.request = _raising(requests.ConnectionError(MaxRetryError(None, "/", cause)))
    with pytest.raises(HoldedUnreachableError, match="connection refused"):
        client.get(BASICS_PATH)


def test_a_connect_timeout_before_first_contact_is_not_retried():
    client = HoldedClient(_config())
    client._session.request = _raising(requests.ConnectTimeout("timed out"))
    with pytest.raises(HoldedUnreachableError, match=r"connect timeout; gave up after 1 attempt$"):
        client.get(BASICS_PATH)
    assert client.stats.requests == 1
