"""Every fault the sandbox can inject, set at start, live through `sb.faults`, or via the control route."""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from holded_sandbox import Faults
from holded_sandbox.routing import HOLDED_404_HTML
from holded_sandbox.testing import running_sandbox

from .conftest import Api

CONTACTS = "/invoicing/v1/contacts"


def test_latency_is_added_to_every_api_request(api):
    api.sb.faults.update(latency_ms=150)
    started = time.monotonic()
    api.get(CONTACTS)
    assert time.monotonic() - started >= 0.15
    api.sb.faults.update(latency_ms=0, latency_jitter_ms=50)
    assert api.get(CONTACTS).status_code == 200


def test_rate_limit_429_with_retry_after_in_seconds(api):
    api.sb.faults.update(rate_limit_rps=0.5, rate_limit_burst=2)
    assert [api.get(CONTACTS, params={"page": 9}).status_code for _ in range(2)] == [200, 200]
    resp = api.get(CONTACTS)
    assert (resp.status_code, resp.json()) == (429, {"status": 0, "info": "Too many requests"})
    assert resp.headers["Retry-After"] == "2"  # ceil(seconds until a token is free), at least 1
    other = requests.get(
        api.sb.base_url + CONTACTS, headers={"Authorization": f"Bearer {api.sb.bearer_token}"}, timeout=10
    )
    assert other.status_code == 200  # buckets are per credential


def test_rate_limit_retry_after_as_http_date(api):
    api.sb.faults.update(rate_limit_rps=1, retry_after_format="http-date")
    api.get(CONTACTS)
    resp = api.get(CONTACTS)
    assert resp.status_code == 429
    when = parsedate_to_datetime(resp.headers["Retry-After"]).timestamp()
    assert time.time() - 1 <= when <= time.time() + 2


def test_error_rate_answers_5xx_and_applies_nothing(api):
    api.sb.faults.update(error_rate=1.0)
    before = api.control("GET", "stats")["counts"]["contacts"]
    statuses = {api.post(CONTACTS, json={"name": "Nunca"}).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503, 504} and len(statuses) > 1
    assert api.control("GET", "stats")["counts"]["contacts"] == before


def test_reset_rate_closes_the_connection_without_answer(api):
    api.sb.faults.update(reset_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.get(CONTACTS)
    api.sb.faults.update(reset_rate=0)
    assert api.get(CONTACTS).status_code == 200  # the session reconnects
    assert api.control("GET", "stats")["requests"]["by_status"]["reset"] == 1


def test_lost_create_is_applied_but_not_answered(api):
    before = api.control("GET", "stats")["counts"]["contacts"]
    api.sb.faults.update(lost_create_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        api.post(CONTACTS, json={"name": "Fantasma SL"})
    assert api.get(CONTACTS, params={"page": 1}).status_code == 200  # reads are not affected
    stats = api.control("GET", "stats")
    assert stats["counts"]["contacts"] == before + 1 and stats["creates"] == 1
    assert any(c["name"] == "Fantasma SL" for c in api.get(CONTACTS).json())


def test_html_rate_answers_the_404_page_with_http_200(api):
    api.sb.faults.update(html_rate=1.0)
    resp = api.get(CONTACTS)
    assert resp.status_code == 200 and resp.content == HOLDED_404_HTML


def test_truncate_rate_cuts_the_answer(api):
    api.sb.faults.update(truncate_rate=1.0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(CONTACTS)
    raw = requests.get(api.sb.base_url + CONTACTS, headers={"key": api.sb.api_key}, stream=True, timeout=10)
    announced = int(raw.headers["Content-Length"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        raw.content  # noqa: B018 - reading is the point
    assert announced > 1000


def test_denied_modules_answer_403(api):
    api.sb.faults.update(denied_modules=["crm"])
    resp = api.get("/crm/v1/leads")
    assert resp.status_code == 403
    assert resp.json() == {"status": 0, "info": "Your plan does not include access to the crm API"}
    assert api.get(CONTACTS).status_code == 200


def test_script_answers_in_order_by_match_and_method(api):
    api.sb.faults.update(script=[
        {"status": 429, "headers": {"Retry-After": "1"}, "body": {"status": 0, "info": "slow"}, "match": "/crm"},
        {"status": 503, "body": "<html>down</html>", "method": "POST"},
        {"kind": "status0", "match": CONTACTS},
        {"kind": "html"},
    ])  # fmt: skip
    assert api.get(CONTACTS).json() == {"status": 0, "info": "Forced failure"}  # first entry matching GET contacts
    assert api.get(CONTACTS).content == HOLDED_404_HTML
    assert api.get(CONTACTS).status_code == 200  # the remaining entries do not match
    resp = api.get("/crm/v1/funnels")
    assert (resp.status_code, resp.headers["Retry-After"], resp.json()["info"]) == (429, "1", "slow")
    resp = api.post(CONTACTS, json={"name": "x"})
    assert (resp.status_code, resp.text) == (503, "<html>down</html>")
    assert api.sb.faults.script == []


def test_script_reset_truncate_and_lost_create(api):
    before = api.control("GET", "stats")["counts"]["contacts"]
    api.control(
        "PATCH", "faults", script=[{"kind": "reset"}, {"kind": "truncate"}, {"kind": "lost_create", "method": "POST"}]
    )
    with pytest.raises(requests.ConnectionError):
        api.get(CONTACTS)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(CONTACTS)
    with pytest.raises(requests.ConnectionError):
        api.post(CONTACTS, json={"name": "Aplicado SL"})
    assert api.control("GET", "stats")["counts"]["contacts"] == before + 1


def test_faults_set_at_start_and_fault_rng_is_deterministic():
    def run() -> list[int]:
        with running_sandbox(scale=0.02, faults=Faults(error_rate=0.5, seed=42)) as sb:
            api = Api(sb)
            return [api.get(CONTACTS, params={"page": 5}).status_code for _ in range(20)]

    first = run()
    assert first == run() and 200 in first and len(set(first)) > 1


def test_invalid_fault_settings_are_refused(api):
    with pytest.raises(ValueError):
        api.sb.faults.update(error_rate=2)
    with pytest.raises(ValueError):
        api.sb.faults.update(nonsense=1)
    resp = requests.patch(api.sb.control_url + "/faults", json={"retry_after_format": "minutes"}, timeout=10)
    assert resp.status_code == 400
    assert api.sb.faults.retry_after_format == "seconds"


def test_script_slow_answers_what_was_read_before_a_change_made_meanwhile(api):
    contact = api.get(CONTACTS).json()[0]
    api.sb.faults.update(script=[{"kind": "slow", "delay_ms": 800, "match": f"{CONTACTS}/{contact['id']}"}])
    answers: list = []
    reader = threading.Thread(target=lambda: answers.append(api.get(f"{CONTACTS}/{contact['id']}")))
    started = time.monotonic()
    reader.start()
    while api.sb.faults.script:  # the slow read has been handled
        time.sleep(0.01)
    api.put(f"{CONTACTS}/{contact['id']}", json={"phone": "+34 600 999 999"})
    reader.join()
    assert time.monotonic() - started >= 0.8
    assert answers[0].status_code == 200 and answers[0].json()["phone"] != "+34 600 999 999"
    assert api.get(f"{CONTACTS}/{contact['id']}").json()["phone"] == "+34 600 999 999"
