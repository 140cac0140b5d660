"""API v2 bookings and booking locations over the same records as v1."""

from __future__ import annotations


def _paged_ids(v2, path: str, **params) -> list[str]:
    ids, cursor = [], None
    while True:
        page = v2.get(path, params={"limit": 1, **params, **({"cursor": cursor} if cursor else {})}).json()
        ids += [item["id"] for item in page["items"]]
        if not page["has_more"]:
            return ids
        cursor = page["cursor"]


def test_v2_booking_locations_and_slots(v2):
    ids = _paged_ids(v2, "/booking-locations")
    assert set(ids) == {r["id"] for r in v2.v1.get("/crm/v1/bookings/locations").json()} and ids
    location = v2.get("/booking-locations").json()["items"][0]
    assert location["service_ids"] and isinstance(location["active"], bool)
    slots = v2.get(f"/booking-locations/{location['id']}/slots", params={"day": "2030-01-02"}).json()
    assert slots["has_more"] is False and slots["items"][0]["date_time"] == "2030-01-02T09:00:00Z"
    assert v2.get("/booking-locations/5f0000000000000000000001/slots").status_code == 404
    reader = v2.with_permissions("crm:deals.read")
    resp = reader.get("/booking-locations")
    assert resp.status_code == 403 and resp.json()["detail"] == "Insufficient permissions: crm:bookings.read required."


def test_v2_bookings_create_move_cancel(v2):
    ids = _paged_ids(v2, "/bookings")
    assert set(ids) == {r["id"] for r in v2.v1.get("/crm/v1/bookings").json()} and ids
    first = v2.get(f"/bookings/{ids[0]}").json()
    assert first["date_time"].endswith("Z") and first["created_at"].endswith("Z")
    location = v2.get("/booking-locations").json()["items"][0]
    body = {"location_id": location["id"], "service_id": location["service_ids"][0],
            "date_time": "2030-01-02T09:00:00Z", "timezone": "Europe/Madrid", "language": "es",
            "custom_fields": [{"key": "name", "value": "Ana Gil"}]}  # fmt: skip
    rid = v2.post("/bookings", json=body).json()["id"]
    taken = v2.post("/bookings", json=body)
    assert taken.status_code == 410 and taken.headers["Content-Type"].startswith("application/problem+json")
    assert v2.post("/bookings", json={**body, "timezone": ""}).json()["detail"] == "timezone is required."
    booking = v2.get(f"/bookings/{rid}").json()
    assert booking["custom_fields"][0]["value"] == "Ana Gil" and booking["status"] == "confirmed"
    assert v2.put(f"/bookings/{rid}", json={"date_time": "2030-01-03T10:00:00Z"}).json() == {"id": rid}
    v1 = v2.v1.get(f"/crm/v1/bookings/{rid}").json()
    assert v1["startTime"] == 1_893_664_800 and v1["endTime"] == 1_893_664_800 + 3600
    day = v2.all("/bookings", start_date="2030-01-03", end_date="2030-01-03")
    assert [b["id"] for b in day] == [rid]
    newest = v2.get("/bookings", params={"sort_field": "date_time", "sort_order": "desc", "limit": 1}).json()
    assert newest["items"][0]["id"] == rid
    assert v2.delete(f"/bookings/{rid}").status_code == 204
    assert v2.get(f"/bookings/{rid}").json()["status"] == "canceled"  # cancelled, still listed, as v1
    writer = v2.with_permissions("crm:bookings.read")
    resp = writer.put(f"/bookings/{rid}", json={"date_time": "2030-01-04T10:00:00Z"})
    assert resp.status_code == 403 and resp.json()["detail"] == "Insufficient permissions: crm:bookings.write required."
