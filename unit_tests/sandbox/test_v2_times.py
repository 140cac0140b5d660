"""API v2 project time and employee time tracking over the same records as v1."""

from __future__ import annotations


def _paged_ids(v2, path: str) -> list[str]:
    ids, cursor = [], None
    while True:
        page = v2.get(path, params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        ids += [item["id"] for item in page["items"]]
        if not page["has_more"]:
            return ids
        cursor = page["cursor"]


def test_v2_project_times(v2):
    v1_ids = {
        t["timeId"] for p in v2.v1.get("/projects/v1/projects/times?archived=1").json() for t in p["timeTracking"]
    }
    ids = _paged_ids(v2, "/project-times")
    assert set(ids) == v1_ids and ids
    entry = v2.get("/project-times").json()["items"][0]
    pid = entry["project_id"]
    assert v2.get(f"/projects/{pid}/times/{entry['id']}").json() == entry
    assert entry["id"] in [t["id"] for t in v2.all(f"/projects/{pid}/times")]
    user = entry["user_id"]
    assert v2.post(f"/projects/{pid}/times", json={"duration": 60}).json()["detail"] == "cost_per_hour is required."
    body = {"duration": 5400, "cost_per_hour": 40, "user_id": user, "description": "Formación", "date": "2024-03-01",
            "category": "formación"}  # fmt: skip
    rid = v2.post(f"/projects/{pid}/times", json=body).json()["id"]
    got = v2.get(f"/projects/{pid}/times/{rid}").json()
    assert (got["total"], got["date"], got["category"]) == ("60.00", "2024-03-01", "formación")
    assert v2.put(f"/projects/{pid}/times/{rid}", json={"duration": 3600}).json() == {"id": rid}
    v1 = v2.v1.get(f"/projects/v1/projects/{pid}/times/{rid}").json()
    assert (v1["duration"], v1["total"], v1["desc"]) == (3600, 40.0, "Formación")
    other = next(p["id"] for p in v2.all("/projects") if p["id"] != pid)
    assert v2.get(f"/projects/{other}/times/{rid}").status_code == 404
    assert v2.delete(f"/projects/{pid}/times/{rid}").status_code == 204
    resp = v2.with_permissions("team:employees.read").get("/project-times")
    assert (
        resp.status_code == 403
        and resp.json()["detail"] == "Insufficient permissions: projects:projects.read required."
    )


def test_v2_employee_times(v2):
    ids = _paged_ids(v2, "/employee-times")
    assert set(ids) == {t["id"] for t in v2.v1.get("/team/v1/employees/times").json()} and ids
    entry = v2.get(f"/employee-times/{ids[0]}").json()
    assert entry["start_at"].endswith("Z") and isinstance(entry["duration"], int)
    eid = entry["employee_id"]
    assert entry["id"] in [t["id"] for t in v2.all(f"/employees/{eid}/times")]
    body = {"start_at": "2024-05-06T07:00:00Z", "end_at": "2024-05-06T15:00:00Z"}
    rid = v2.post(f"/employees/{eid}/times", json=body).json()["id"]
    assert v2.get(f"/employee-times/{rid}").json()["duration"] == 8 * 3600
    assert v2.put(f"/employee-times/{rid}", json={"end_at": "2024-05-06T14:00:00Z"}).json() == {"id": rid}
    v1 = next(t for t in v2.v1.get("/team/v1/employees/times").json() if t["id"] == rid)
    assert (v1["startTmp"], v1["endTmp"], v1["duration"]) == (1_714_978_800, 1_715_004_000, 7 * 3600)
    assert v2.post(f"/employees/{eid}/times", json={"start_at": "2024-05-06T07:00:00Z"}).status_code == 422
    assert v2.delete(f"/employee-times/{rid}").status_code == 204
    resp = v2.with_permissions("team:employees.read").get("/employee-times")
    assert resp.status_code == 403
    assert resp.json()["detail"] == "Insufficient permissions: team:employee-times.read required."
