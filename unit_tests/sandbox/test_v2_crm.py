"""API v2 CRM: funnels with stages, leads and their sub-routes, events; same records as v1."""

from __future__ import annotations


def _contact(v2) -> str:
    return v2.get("/contacts", params={"limit": 1}).json()["items"][0]["id"]


def _funnel(v2) -> dict:
    body = {"name": "Ventas v2", "stages": [{"name": "Nuevo", "deal_probability": 10}, {"name": "Ganado"}]}
    rid = v2.post("/funnels", json=body).json()["id"]
    return v2.get(f"/funnels/{rid}").json()


def test_funnels_with_stages_both_ways(v2):
    funnel = _funnel(v2)
    assert [s["name"] for s in funnel["stages"]] == ["Nuevo", "Ganado"]
    assert funnel["stages"][0]["deal_probability"] == 10 and funnel["stages"][1]["deal_probability"] is None
    assert funnel["created_at"].endswith("Z") and funnel["updated_at"] >= funnel["created_at"]
    v1 = v2.v1.get(f"/crm/v1/funnels/{funnel['id']}").json()
    assert [s["stageId"] for s in v1["stages"]] == [s["id"] for s in funnel["stages"]]
    stages = [{"id": funnel["stages"][0]["id"], "name": "Nuevo"}, {"name": "Perdido"}]
    assert v2.put(f"/funnels/{funnel['id']}", json={"stages": stages}).json() == {"id": funnel["id"]}
    after = v2.get(f"/funnels/{funnel['id']}").json()
    assert after["stages"][0]["id"] == funnel["stages"][0]["id"] and after["stages"][1]["name"] == "Perdido"
    assert after["name"] == "Ventas v2"  # PUT is partial
    v1_funnel = v2.v1.get("/crm/v1/funnels").json()[0]
    assert v2.get(f"/funnels/{v1_funnel['id']}").json()["name"] == v1_funnel["name"]


def test_leads_create_read_update_in_both_dialects(v2):
    funnel = _funnel(v2)
    contact = _contact(v2)
    missing = v2.post("/leads", json={"funnel_id": funnel["id"], "name": "Sin contacto"})
    assert missing.status_code == 422 and missing.json()["detail"] == "contact_id is required."
    body = {"funnel_id": funnel["id"], "contact_id": contact, "name": "Renovación", "value": "1500.5",
            "due_date": "2024-06-30", "custom_fields": [{"field": "Origen", "value": "feria"}]}  # fmt: skip
    rid = v2.post("/leads", json=body).json()["id"]
    lead = v2.get(f"/leads/{rid}").json()
    assert lead["value"] == "1500.50" and lead["potential"] == "0.00" and lead["status"] == "open"
    assert lead["stage_id"] == funnel["stages"][0]["id"] and lead["due_date"] == "2024-06-30"
    assert lead["custom_fields"] == [{"field": "Origen", "value": "feria"}]
    v1 = v2.v1.get(f"/crm/v1/leads/{rid}").json()
    assert v1["value"] == 1500.5 and v1["dueDate"] == 1_719_698_400 and v1["contactId"] == contact
    assert v2.put(f"/leads/{rid}", json={"name": "Renovación 2"}).json() == {"id": rid}
    assert v2.v1.get(f"/crm/v1/leads/{rid}").json()["name"] == "Renovación 2"
    v1_lead = v2.v1.get("/crm/v1/leads").json()[0]
    assert v2.get(f"/leads/{v1_lead['id']}").json()["funnel_id"] == v1_lead["funnelId"]


def test_lead_stage_and_dates_moves(v2):
    funnel = _funnel(v2)
    rid = v2.post("/leads", json={"funnel_id": funnel["id"], "contact_id": _contact(v2), "name": "M"}).json()["id"]
    target = funnel["stages"][1]["id"]
    assert v2.put(f"/leads/{rid}/stage", json={"stage_id": target}).json() == {"id": rid}
    assert v2.get(f"/leads/{rid}").json()["stage_id"] == target
    assert v2.put(f"/leads/{rid}/stage", json={"stage_id": "0" * 24}).status_code == 422
    assert v2.put(f"/leads/{rid}/dates", json={"date": "2025-01-01"}).status_code == 200
    assert v2.get(f"/leads/{rid}").json()["due_date"] == "2025-01-01"


def test_lead_notes_and_tasks(v2):
    funnel = _funnel(v2)
    rid = v2.post("/leads", json={"funnel_id": funnel["id"], "contact_id": _contact(v2), "name": "N"}).json()["id"]
    note = v2.post(f"/leads/{rid}/notes", json={"title": "Llamada", "description": "Interesado"})
    assert note.status_code == 201
    v2.put(f"/leads/{rid}/notes", json={"note_id": note.json()["id"], "title": "Llamada 2"})
    task = v2.post(f"/leads/{rid}/tasks", json={"name": "Enviar oferta"})
    assert task.status_code == 201
    lead = v2.get(f"/leads/{rid}").json()
    assert [(e["id"], e["title"], e["description"]) for e in lead["events"]] == [
        (note.json()["id"], "Llamada 2", "Interesado")
    ]
    assert lead["tasks"] == [{"id": task.json()["id"], "name": "Enviar oferta", "status": 0}]
    assert v2.request("DELETE", f"/leads/{rid}/tasks", json={"task_id": task.json()["id"]}).status_code == 204
    assert v2.get(f"/leads/{rid}").json()["tasks"] == []


def test_leads_funnels_events_page_50_by_default_up_to_200(v2):
    v2.v1.control("POST", "fill", collection="leads", count=230)
    assert len(v2.get("/leads").json()["items"]) == 50
    page = v2.get("/leads", params={"limit": 1000}).json()
    assert len(page["items"]) == 200 and page["has_more"] is True
    assert len(v2.all("/leads")) == 230


def test_events_read_as_instants_and_write_both_ways(v2):
    contact = _contact(v2)
    body = {"name": "Demo", "contact_id": contact, "start_date": "2024-05-01T09:00:00Z",
            "end_date": "2024-05-01T10:30:00Z", "kind": "meeting", "location": "Oficina"}  # fmt: skip
    rid = v2.post("/events", json=body).json()["id"]
    event = v2.get(f"/events/{rid}").json()
    assert (event["start_date"], event["end_date"], event["duration"]) == (
        "2024-05-01T09:00:00Z", "2024-05-01T10:30:00Z", 5400
    )  # fmt: skip
    assert event["location"] == "Oficina" and event["contact_id"] == contact and event["status"] == 0
    v1 = v2.v1.get(f"/crm/v1/events/{rid}").json()
    assert v1["startDate"] == 1_714_554_000 and v1["endDate"] - v1["startDate"] == 5400
    v2.v1.put(f"/crm/v1/events/{rid}", json={"status": 1})
    after = v2.get(f"/events/{rid}").json()
    assert after["status"] == 1 and after["updated_at"] >= event["updated_at"]
    assert v2.delete(f"/events/{rid}").status_code == 204
    assert v2.v1.get(f"/crm/v1/events/{rid}").status_code == 404
