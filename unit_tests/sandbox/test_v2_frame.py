"""API v2 frame: tokens and permissions, cursor pages, problem+json errors, rate windows, /usage.

One test per behaviour the v2 README (shared/holded-api/v2/README.md) describes and the sandbox
reproduces; names read given / when / then.
"""

from __future__ import annotations

import time

import requests

from holded_sandbox.testing import running_sandbox

PROBLEM = "application/problem+json"


def _problem(resp: requests.Response, status: int, slug: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith(PROBLEM)
    body = resp.json()
    assert body["type"] == f"https://api.holded.com/problems/{slug}"
    assert body["status"] == status and body["title"]
    return body


# --- tokens and permissions ------------------------------------------------------------------


def test_given_a_token_without_the_permission_then_403_names_it(v2ro):
    reader = v2ro.with_permissions("contacts:contacts.read")
    assert reader.get("/contacts").status_code == 200
    body = _problem(reader.post("/contacts", json={"name": "X"}), 403, "forbidden")
    assert body["detail"] == "Insufficient permissions: contacts:contacts.write required."
    body = _problem(reader.get("/usage"), 403, "forbidden")
    assert body["detail"] == "Insufficient permissions: developers:usage.read required."


def test_given_an_unknown_token_then_403_access_denied(v2ro):
    resp = requests.get(f"{v2ro.sb.base_url}/v2/contacts", headers={"Authorization": "Bearer pat_nope"}, timeout=10)
    assert _problem(resp, 403, "forbidden")["detail"] == "Access denied."


def test_given_no_credential_then_401(v2ro):
    resp = requests.get(f"{v2ro.sb.base_url}/v2/contacts", timeout=10)
    _problem(resp, 401, "unauthorized")


def test_given_a_v1_key_on_v2_then_403_access_denied(v2ro):
    key = v2ro.sb.api_key
    for headers in ({"Authorization": f"Bearer {key}"}, {"key": key}):
        resp = requests.get(f"{v2ro.sb.base_url}/v2/contacts", headers=headers, timeout=10)
        assert _problem(resp, 403, "forbidden")["detail"] == "Access denied."


def test_given_a_pat_token_on_v1_then_400_invalid_key(v2ro):
    for headers in ({"key": v2ro.token}, {"Authorization": f"Bearer {v2ro.token}"}):
        resp = requests.get(f"{v2ro.sb.base_url}/invoicing/v1/contacts", headers=headers, timeout=10)
        assert (resp.status_code, resp.json()) == (400, {"status": 0, "info": "Invalid key"})


def test_minted_tokens_hold_exactly_their_permissions(v2ro):
    answer = v2ro.v1.control("POST", "tokens", permissions=["crm:deals.read"])
    assert answer["token"].startswith("pat_") and answer["permissions"] == ["crm:deals.read"]
    bad = requests.post(f"{v2ro.sb.control_url}/tokens", json={"permissions": ["contacts"]}, timeout=10)
    assert bad.status_code == 400


def test_given_a_custom_default_token_then_it_is_the_one_accepted():
    with running_sandbox(scale=0.02, api_token="pat_mine") as sb:
        ok = requests.get(f"{sb.base_url}/v2/contacts", headers={"Authorization": "Bearer pat_mine"}, timeout=10)
        assert ok.status_code == 200 and sb.api_token == "pat_mine"


# --- cursor pages ----------------------------------------------------------------------------


def test_cursor_pages_walk_every_record_once_in_ascending_id_order(v2):
    v2.v1.control("POST", "fill", collection="contacts", count=60)
    first = v2.get("/contacts").json()
    assert len(first["items"]) == 25 and first["has_more"] is True  # contacts default 25
    assert first["cursor"] == first["items"][-1]["id"] and len(first["cursor"]) == 24
    ids = [c["id"] for c in v2.all("/contacts")]
    assert len(ids) == 60 == len(set(ids)) and ids == sorted(ids)
    last = v2.get("/contacts", params={"cursor": ids[49]}).json()
    assert [c["id"] for c in last["items"]] == ids[50:] and last == {**last, "cursor": None, "has_more": False}


def test_page_is_ignored(v2ro):
    assert v2ro.get("/contacts", params={"page": 3}).json() == v2ro.get("/contacts").json()


def test_invalid_cursor_is_400_error_parsing_objectid(v2ro):
    body = _problem(v2ro.get("/contacts", params={"cursor": "not-an-id"}), 400, "bad-request")
    assert body["detail"].startswith("Error parsing ObjectId string: not-an-id")


def test_limit_is_clamped_to_the_resource_maximum(v2):
    v2.v1.control("POST", "fill", collection="contacts", count=150)
    assert len(v2.get("/contacts", params={"limit": 500}).json()["items"]) == 100  # contacts max 100
    assert len(v2.get("/contacts", params={"limit": 7}).json()["items"]) == 7
    _problem(v2.get("/contacts", params={"limit": 0}), 400, "bad-request")
    _problem(v2.get("/contacts", params={"limit": "ten"}), 400, "bad-request")


def test_unknown_route_and_id_are_404_problems(v2ro):
    _problem(v2ro.get("/nothing-here"), 404, "not-found")
    assert _problem(v2ro.get("/contacts/000000000000000000000000"), 404, "not-found")["detail"]


# --- rate windows and usage --------------------------------------------------------------------


def test_successful_v2_answers_carry_the_rate_headers(v2ro):
    resp = v2ro.get("/contacts", params={"limit": 1})
    assert resp.headers["X-RateLimit-Window"] == "month" and resp.headers["X-RateLimit-Limit"] == "100000"
    assert int(resp.headers["X-RateLimit-Remaining"]) < 100000
    assert int(resp.headers["X-RateLimit-Reset"]) > time.time()


def test_given_a_minute_limit_then_429_with_minute_window_headers(v2):
    v2.v1.control("PATCH", "faults", rate_limit_per_minute=2)
    v2.v1.control("DELETE", "usage")
    assert [v2.get("/contacts").status_code for _ in range(2)] == [200, 200]
    resp = v2.get("/contacts")
    _problem(resp, 429, "too-many-requests")
    assert resp.headers["X-RateLimit-Window"] == "minute" and resp.headers["X-RateLimit-Limit"] == "2"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert int(resp.headers["X-RateLimit-Reset"]) - time.time() <= 61
    v1 = v2.v1.get("/invoicing/v1/contacts")  # the window is the account's: v1 is refused too
    assert v1.status_code == 429 and v1.json() == {"status": 0, "info": "Too many requests"}


def test_given_a_monthly_quota_then_v1_and_v2_calls_share_it(v2):
    v2.v1.control("PATCH", "faults", rate_limit_per_month=3)
    v2.v1.control("DELETE", "usage")
    assert v2.v1.get("/invoicing/v1/contacts").status_code == 200
    assert v2.get("/contacts").status_code == 200
    assert v2.v1.get("/invoicing/v1/products").status_code == 200
    resp = v2.get("/contacts")
    _problem(resp, 429, "too-many-requests")
    assert resp.headers["X-RateLimit-Window"] == "month" and resp.headers["X-RateLimit-Limit"] == "3"
    assert int(resp.headers["Retry-After"]) >= 1 and int(resp.headers["X-RateLimit-Reset"]) > time.time()


def test_usage_counts_v1_as_legacy_and_v2_per_route(v2):
    v2.v1.control("DELETE", "usage")
    for _ in range(3):
        v2.v1.get("/invoicing/v1/contacts")
    v2.get("/contacts")
    v2.get("/contacts/search", params={"name": "a"})
    body = v2.get("/usage").json()
    assert body["usage"] == 6 == body["count"] and body["limit"] == 100000 and body["type"] == "api"
    assert body["period"] == time.strftime("%Y-%m", time.gmtime())
    assert body["secondary_usages"] == {
        "api_v1_legacy_1": 3,
        "api_contacts_contacts_list_1": 1,
        "api_contacts_contacts_search_1": 1,
        "api_developers_usage_get_1": 1,
    }
    assert v2.get("/usage/api").json()["usage"] == 7
    _problem(v2.get("/usage/other"), 404, "not-found")
