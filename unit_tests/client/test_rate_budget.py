"""One rate budget per credential, shared by every thread; slows down on 429 and recovers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from holded_core.ratelimit import RECOVERY_SECONDS, RateBudget
from unit_tests.conftest import control

CONTACTS = "/invoicing/v1/contacts"


def test_threads_share_one_budget_and_stay_under_the_limit(sandbox, make_client):
    control(sandbox, "PATCH", "faults", rate_limit_rps=25, rate_limit_burst=2)
    clients = [make_client(requests_per_second=20), make_client(requests_per_second=20)]
    assert clients[0].budget is clients[1].budget  # same credential, same budget
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: clients[i % 2].get(CONTACTS, {"page": 99}), range(40)))
    elapsed = time.monotonic() - started
    assert results == [[]] * 40
    by_status = control(sandbox, "GET", "stats")["requests"]["by_status"]
    assert "429" not in by_status  # the server never had to throttle us
    assert elapsed >= 39 / 20  # a lower bound: 40 requests spaced at 20/s cannot be faster


def test_budget_slows_on_429_and_still_completes(sandbox, make_client):
    control(sandbox, "PATCH", "faults", rate_limit_rps=5, rate_limit_burst=1)
    client = make_client(requests_per_second=100)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: client.get(CONTACTS, {"page": 99}), range(16)))
    assert results == [[]] * 16
    assert client.budget.throttles >= 1
    assert client.budget.rate < 100


def test_budget_recovers_after_quiet_period(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("holded_core.ratelimit.time.monotonic", lambda: clock[0])
    budget = RateBudget(rate=10)
    budget.on_throttled(retry_after=None)
    assert budget.rate == 5
    budget.on_success()
    assert budget.rate == 5  # too soon after the throttle
    clock[0] += RECOVERY_SECONDS
    for _ in range(20):
        budget.on_success()
    assert budget.rate == 10  # back to the configured rate, never above


def test_different_credentials_have_different_budgets(sandbox, make_client):
    a = make_client()
    b = make_client(credentials={"auth_type": "bearer", "token": sandbox.bearer_token})
    assert a.budget is not b.budget
