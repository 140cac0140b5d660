"""Control routes under /__sandbox__/: faults, reset, fill, stats. No auth, not counted."""

from __future__ import annotations

import requests


def test_faults_get_and_patch(api):
    faults = api.control("GET", "faults")
    assert faults["error_rate"] == 0 and faults["script"] == [] and faults["retry_after_format"] == "seconds"
    changed = api.control("PATCH", "faults", error_rate=0.25, denied_modules=["team"])
    assert changed["error_rate"] == 0.25 and changed["denied_modules"] == ["team"]
    assert api.sb.faults.error_rate == 0.25  # the live object
    assert api.control("PUT", "faults", error_rate=0)["error_rate"] == 0


def test_reset_regenerates_data(api):
    first = api.get("/invoicing/v1/contacts").json()
    api.post("/invoicing/v1/contacts", json={"name": "Temporal SL"})
    answer = api.control("POST", "reset", seed=5, scale=0.05)
    assert answer["counts"]["contacts"] == len(first)
    assert api.get("/invoicing/v1/contacts").json() == first  # same seed: same data, the write is gone
    answer = api.control("POST", "reset", seed=6, scale=0.1)
    assert answer["counts"]["contacts"] == 100 and api.sb.seed == 6


def test_fill_replaces_a_collection(api):
    assert api.control("POST", "fill", collection="contacts", count=7) == {"collection": "contacts", "count": 7}
    assert len(api.get("/invoicing/v1/contacts").json()) == 7
    assert api.control("POST", "fill", collection="invoice", count=3)["count"] == 3
    assert len(api.get("/invoicing/v1/documents/invoice").json()) == 3
    assert api.control("POST", "fill", collection="contacts", count=0)["count"] == 0
    resp = requests.post(api.sb.control_url + "/fill", json={"collection": "nope", "count": 1}, timeout=10)
    assert resp.status_code == 400


def test_stats_count_api_requests_only(api):
    api.get("/invoicing/v1/contacts")
    api.get("/invoicing/v1/unknown")
    api.post("/invoicing/v1/contacts", json={"name": "Contado SL"})
    requests.get(api.sb.base_url + "/invoicing/v1/contacts", timeout=10)  # no key: 401
    stats = api.control("GET", "stats")
    assert stats["requests"] == {"total": 4, "by_status": {"200": 2, "201": 1, "401": 1}}
    assert stats["creates"] == 1 and stats["token_grants"] == 0
    assert stats["counts"]["contacts"] == len(api.get("/invoicing/v1/contacts").json())
    assert api.sb.stats()["requests"]["total"] == 5
    assert api.control("DELETE", "stats")["requests"]["total"] == 0


def test_unknown_control_route_is_404(api):
    assert requests.get(api.sb.control_url + "/nope", timeout=10).status_code == 404
