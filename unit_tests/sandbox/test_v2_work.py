"""API v2 projects, tasks and employees over the same records as v1."""

from __future__ import annotations


def test_projects_both_ways_without_modification_times(v2):
    contact = v2.get("/contacts", params={"limit": 1}).json()["items"][0]["id"]
    body = {"name": "Migración", "description": "ERP", "due_date": "2024-09-30", "contact_id": contact}
    rid = v2.post("/projects", json=body).json()["id"]
    project = v2.get(f"/projects/{rid}").json()
    assert project["due_date"] == "2024-09-30" and project["contact_id"] == contact
    assert "created_at" not in project and "updated_at" not in project
    assert project["number_of_tasks"] == 0 and project["archived"] is False
    assert v2.put(f"/projects/{rid}", json={"status": 2, "start_date": "2024-01-02"}).json() == {"id": rid}
    v1 = v2.v1.get(f"/projects/v1/projects/{rid}").json()
    assert v1["status"] == 2 and v1["date"] == 1_704_150_000 and v1["name"] == "Migración"
    assert v2.get(f"/projects/{rid}").json()["archived"] is True
    archived = v2.all("/projects", status="2")
    assert rid in [p["id"] for p in archived] and all(p["archived"] for p in archived)


def test_tasks_go_to_the_first_list_and_count_in_the_project(v2):
    project = v2.get("/projects", params={"limit": 1}).json()["items"][0]
    before = project["number_of_tasks"]
    body = {"project_id": project["id"], "name": "Revisar", "due_date": "2024-02-02", "priority": 2}
    rid = v2.post("/tasks", json=body).json()["id"]
    task = v2.get(f"/tasks/{rid}").json()
    assert task["list_id"] == project["lists"][0]["id"] and task["priority"] == 2 and task["due_date"] == "2024-02-02"
    assert task["created_at"].endswith("Z")
    assert v2.get(f"/projects/{project['id']}").json()["number_of_tasks"] == before + 1
    assert v2.put(f"/tasks/{rid}", json={"status": 1}).json() == {"id": rid}
    assert v2.v1.get(f"/projects/v1/tasks/{rid}").json()["status"] == 1
    assert v2.post("/tasks", json={"name": "Sin proyecto"}).status_code == 422


def test_employees_need_name_last_name_email(v2):
    assert v2.post("/employees", json={"name": "Ana", "email": "a@x.es"}).json()["detail"] == "last_name is required."
    rid = v2.post("/employees", json={"name": "Ana", "last_name": "Gil", "email": "a@x.es", "team_ids": ["t1"]}).json()[
        "id"
    ]
    employee = v2.get(f"/employees/{rid}").json()
    assert (employee["name"], employee["last_name"], employee["team_ids"]) == ("Ana", "Gil", ["t1"])
    assert v2.put(f"/employees/{rid}", json={"mobile": "+34 600"}).json() == {"id": rid}
    body = v2.v1.get("/team/v1/employees").json()["employees"]
    assert next(e for e in body if e["id"] == rid)["mobile"] == "+34 600"
    assert len(v2.all("/employees")) == len(body)
    assert v2.delete(f"/employees/{rid}").status_code == 204
