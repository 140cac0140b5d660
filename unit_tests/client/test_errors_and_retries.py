"""Every Holded failure shape becomes a typed error naming method, path and Holded's message; retries."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

import pytest

from holded_core.errors import (
    HoldedAmbiguousWriteError,
    HoldedApiError,
    HoldedAuthError,
    HoldedHtmlError,
    HoldedInvalidResponseError,
    HoldedNotFoundError,
    HoldedPermissionError,
    HoldedRateLimitError,
    HoldedServerError,
)
from holded_core.retry import RetryPolicy, parse_retry_after
from unit_tests.conftest import control

CONTACTS = "/invoicing/v1/contacts"


def _script(sandbox, *answers):
    control(sandbox, "PATCH", "faults", script=list(answers))


def _count(sandbox, collection="contacts"):
    return control(sandbox, "GET", "stats")["counts"][collection]


def test_status_zero_with_http_200_is_an_error(sandbox, make_client):
    # A real Holded validation: a lead without funnelId.
    contact = make_client().get(CONTACTS)[0]
    with pytest.raises(HoldedApiError) as info:
        make_client().request("POST", "/crm/v1/leads", json={"name": "x", "contactId": contact["id"]})
    assert info.value.holded_message == "funnelId needed"
    assert "POST /crm/v1/leads" in str(info.value) and "funnelId needed" in str(info.value)


def test_forced_status_zero(sandbox, make_client):
    _script(sandbox, {"kind": "status0"})
    with pytest.raises(HoldedApiError, match="Forced failure"):
        make_client().get(CONTACTS)


def test_a_document_with_business_status_zero_is_data(sandbox, make_client):
    client = make_client()
    invoice = client.get("/invoicing/v1/documents/invoice")[0]
    fetched = client.get(f"/invoicing/v1/documents/invoice/{invoice['id']}")
    assert fetched["id"] == invoice["id"]


def test_unknown_route_html_page_is_an_error(sandbox, make_client):
    with pytest.raises(HoldedHtmlError) as info:
        make_client().get("/invoicing/v1/no-such-thing")
    assert info.value.status_code == 200
    assert "GET /invoicing/v1/no-such-thing" in str(info.value)


def test_bad_key_is_401_not_retried(sandbox, make_client):
    client = make_client(credentials={"auth_type": "api_key", "api_key": "wrong-key-000000"})
    with pytest.raises(HoldedAuthError) as info:
        client.get(CONTACTS)
    assert info.value.status_code == 401
    assert client.stats.requests == 1
    assert "credentials" in str(info.value)


def test_denied_module_is_a_permission_error(sandbox, make_client):
    control(sandbox, "PATCH", "faults", denied_modules=["crm"])
    client = make_client()
    with pytest.raises(HoldedPermissionError) as info:
        client.get("/crm/v1/leads")
    assert "crm" in str(info.value)
    assert client.get(CONTACTS)  # other modules still work


def test_unknown_id_is_not_found(sandbox, make_client):
    with pytest.raises(HoldedNotFoundError):
        make_client().get(f"{CONTACTS}/000000000000000000000000")


def test_5xx_are_retried_then_succeed(sandbox, make_client, caplog):
    _script(sandbox, {"status": 503}, {"status": 502})
    client = make_client()
    with caplog.at_level(logging.WARNING, logger="holded_core"):
        assert isinstance(client.get(CONTACTS), list)
    assert client.stats.retries == 2
    reasons = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert any("HTTP 503" in m for m in reasons) and any("HTTP 502" in m for m in reasons)


def test_retries_are_bounded(sandbox, make_client):
    _script(sandbox, *[{"status": 500}] * 10)
    client = make_client(max_retries=2)
    with pytest.raises(HoldedServerError, match="gave up after 3 attempts"):
        client.get(CONTACTS)
    assert client.stats.requests == 3


def test_total_retry_time_is_bounded(sandbox, make_client):
    _script(sandbox, *[{"status": 429, "headers": {"Retry-After": "30"}}] * 3)
    client = make_client(max_retry_seconds=5)
    started = time.monotonic()
    with pytest.raises(HoldedRateLimitError):
        client.get(CONTACTS)
    assert time.monotonic() - started < 30  # gave up instead of waiting past the budget


def test_reset_and_truncated_answers_are_retried_for_reads(sandbox, make_client):
    _script(sandbox, {"kind": "reset"}, {"kind": "truncate"})
    client = make_client()
    assert isinstance(client.get(CONTACTS), list)
    assert client.stats.retries == 2


def test_truncated_answer_without_retries_is_typed(sandbox, make_client):
    _script(sandbox, {"kind": "truncate"})
    with pytest.raises(HoldedInvalidResponseError, match="GET /invoicing/v1/contacts"):
        make_client(max_retries=0).get(CONTACTS)


def test_retry_after_seconds_is_honoured(sandbox, make_client):
    _script(sandbox, {"status": 429, "headers": {"Retry-After": "1"}})
    client = make_client()
    started = time.monotonic()
    client.get(CONTACTS)
    assert time.monotonic() - started >= 1.0
    assert client.stats.retries == 1


def test_retry_after_http_date_is_honoured(sandbox, make_client):
    when = formatdate(time.time() + 2, usegmt=True)
    _script(sandbox, {"status": 429, "headers": {"Retry-After": when}})
    started = time.monotonic()
    make_client().get(CONTACTS)
    assert time.monotonic() - started >= 0.9  # the date has one-second resolution


def test_post_is_not_retried_blindly(sandbox, make_client):
    before = _count(sandbox)
    _script(sandbox, {"kind": "lost_create", "match": "/invoicing/v1/contacts", "method": "POST"})
    with pytest.raises(HoldedAmbiguousWriteError) as info:
        make_client().request("POST", CONTACTS, json={"name": "Lost Answer SL", "isperson": False})
    assert "may have been applied" in str(info.value)
    assert _count(sandbox) == before + 1  # applied exactly once, not retried


def test_post_after_5xx_is_ambiguous(sandbox, make_client):
    _script(sandbox, {"status": 502, "method": "POST"})
    with pytest.raises(HoldedAmbiguousWriteError):
        make_client().request("POST", CONTACTS, json={"name": "Maybe SL"})


def test_post_is_retried_after_429(sandbox, make_client):
    before = _count(sandbox)
    _script(sandbox, {"status": 429, "headers": {"Retry-After": "0"}, "method": "POST"})
    answer = make_client().request("POST", CONTACTS, json={"name": "Throttled SL"})
    assert answer["status"] == 1
    assert _count(sandbox) == before + 1


def test_caller_may_declare_a_post_idempotent(sandbox, make_client):
    _script(sandbox, {"status": 503, "method": "POST"})
    answer = make_client().request("POST", CONTACTS, json={"name": "Safe SL"}, idempotent=True)
    assert answer["status"] == 1


def test_parse_retry_after_forms():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 10, usegmt=True), now=now) == pytest.approx(10, abs=1)
    assert parse_retry_after(formatdate(now - 10, usegmt=True), now=now) == 0.0


def test_backoff_grows_with_jitter_and_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=4)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 4.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert 5.0 <= policy.delay(1, retry_after=5) <= 6.0
