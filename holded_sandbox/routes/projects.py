"""Projects module: projects (+ summary), tasks and time tracking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import PURCHASE_TYPES, now, num
from ..routing import Request, Response, Router, fail, json_response, not_found
from ..store import Record, object_id
from .crud import Resource, apply_fields, integer, register, string_list, text

if TYPE_CHECKING:
    from ..server import App

M = "projects"


def _lists(entries: Any) -> list[dict[str, str]]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            out.append(
                {
                    "id": text(entry.get("id") or entry.get("listId")) or object_id(),
                    "key": text(entry.get("key")),
                    "name": text(entry.get("name")),
                    "desc": text(entry.get("desc")),
                }
            )
    return out


def _labels(entries: Any) -> list[dict[str, str]]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            out.append(
                {
                    "id": text(entry.get("id")) or object_id(),
                    "name": text(entry.get("name")),
                    "color": text(entry.get("color")),
                }
            )
    return out


PROJECT_FIELDS = {
    "name": text,
    "desc": text,
    "tags": string_list,
    "contactName": text,
    "date": integer,
    "dueDate": integer,
    "status": integer,
    "billable": integer,
    "price": integer,
    "lists": _lists,
    "labels": _labels,
}


def create_project(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    if not body.get("name"):
        return fail("name needed")
    project: Record = {
        "id": object_id(),
        "name": "",
        "desc": "",
        "tags": [],
        "category": 0,
        "contactId": "",
        "contactName": "",
        "date": 0,
        "dueDate": 0,
        "status": 0,
        "lists": _lists(
            [
                {"key": "pending", "name": "Pendiente"},
                {"key": "inprogress", "name": "En curso"},
                {"key": "done", "name": "Hecho"},
            ]
        ),
        "billable": 1,
        "expenses": {},
        "estimates": [],
        "sales": [],
        "timeTracking": {},
        "price": 0,
        "labels": [],
    }
    update_project(app, req, project)
    return project


def update_project(app: App, req: Request, project: Record) -> Response | None:
    apply_fields(project, req.body, PROJECT_FIELDS)
    if "contactId" in req.body:
        contact = app.store.get("contacts", text(req.body["contactId"]))
        project["contactId"] = contact["id"] if contact else ""
        project["contactName"] = contact["name"] if contact else project["contactName"]
    return None


def _task_counts(app: App) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for task in app.store.all("tasks"):
        pair = counts.setdefault(task["projectId"], [0, 0])
        pair[0] += 1
        pair[1] += int(task["status"] == 1)
    return counts


def project_view(app: App, project: Record) -> dict[str, Any]:
    counts = app.derived("task_counts", lambda: _task_counts(app))
    total, done = counts.get(project["id"], [0, 0])
    view = {k: v for k, v in project.items() if not k.startswith("_")}
    view["numberOfTasks"], view["completedTasks"] = total, done
    return view


def project_summary(app: App, req: Request) -> Response:
    project = app.store.get("projects", req.params["id"])
    if project is None:
        return not_found()
    view = project_view(app, project)
    personnel = round(sum(t["total"] for t in app.store.all("projecttimes") if t["_projectId"] == project["id"]), 2)
    sales = round(sum(num(s["subtotal"]) for s in project["sales"]), 2)
    expenses = project["expenses"]
    documents = round(num(expenses.get("subtotal")) if expenses.get("type") in PURCHASE_TYPES else 0.0, 2)
    quoted = round(sum(num(e["subtotal"]) for e in project["estimates"]), 2)
    collected = 0.0
    for ref in project["sales"]:
        doc = app.store.get(ref["type"], ref["docId"])
        collected += num(doc["paymentsTotal"]) if doc else 0.0
    return json_response(
        {
            "name": project["name"],
            "desc": project["desc"],
            "projectEvolution": {
                "tasks": {"total": view["numberOfTasks"], "completed": view["completedTasks"]},
                "dueDate": project["dueDate"],
            },
            "profitability": {
                "sales": sales,
                "expenses": {"documents": documents, "personnel": personnel, "total": round(documents + personnel, 2)},
                "profit": round(sales - documents - personnel, 2),
            },
            "economicStatus": {
                "sales": sales,
                "quoted": quoted,
                "difference": round(quoted - sales, 2),
                "estimatePrice": project["price"],
                "billed": sales,
                "collected": round(collected, 2),
                "remaining": round(sales - collected, 2),
            },
        }
    )


# --- tasks ---------------------------------------------------------------------------------

TASK_FIELDS = {
    "name": text,
    "desc": text,
    "listId": text,
    "labels": string_list,
    "date": integer,
    "dueDate": integer,
    "userId": text,
    "status": integer,
    "billable": integer,
    "featured": integer,
}


def create_task(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    for name in ("projectId", "listId", "name"):
        if not body.get(name):
            return fail(f"{name} needed")
    project = app.store.get("projects", text(body["projectId"]))
    if project is None:
        return fail("Project not found")
    ts = now()
    task = {
        "id": object_id(ts),
        "projectId": project["id"],
        "listId": "",
        "name": "",
        "desc": "",
        "labels": [],
        "comments": [],
        "date": ts,
        "dueDate": 0,
        "userId": "",
        "createdAt": ts,
        "updatedAt": ts,
        "status": 0,
        "billable": project["billable"],
        "featured": 0,
    }
    apply_fields(task, body, TASK_FIELDS)
    return task


def update_task(app: App, req: Request, task: Record) -> Response | None:
    # Not in Holded's reference, but the live API accepts PUT /tasks/{id}.
    apply_fields(task, req.body, TASK_FIELDS)
    task["updatedAt"] = now()
    return None


# --- time tracking -------------------------------------------------------------------------


def times_filter(app: App, req: Request, records: list[Record]) -> list[Record]:
    return [t for t in records if t["_projectId"] == req.params["projectId"]]


def time_view(app: App, entry: Record) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "id" and not k.startswith("_")}


def _time_total(entry: Record) -> None:
    entry["total"] = round(entry["duration"] / 3600 * num(entry["costHour"]), 2)


def create_time(app: App, req: Request) -> Record | Response:
    project = app.store.get("projects", req.params["projectId"])
    if project is None:
        return not_found()
    body = req.body if isinstance(req.body, dict) else {}
    for name in ("duration", "costHour", "userId"):  # userId is required by the live API
        if body.get(name) in (None, ""):
            return fail(f"{name} needed")
    rid = object_id()
    entry = {
        "timeId": rid,
        "duration": 0,
        "desc": "",
        "costHour": 0,
        "userId": "",
        "taskId": "",
        "total": 0,
        "id": rid,
        "_projectId": project["id"],
        "_date": now(),
    }
    update_time(app, req, entry)
    return entry


def update_time(app: App, req: Request, entry: Record) -> Response | None:
    apply_fields(
        entry, req.body, {"duration": integer, "desc": text, "costHour": integer, "userId": text, "taskId": text}
    )
    _time_total(entry)
    return None


def all_times(app: App, req: Request) -> Response:
    start, end = req.query.get("start"), req.query.get("end")
    by_project: dict[str, list[dict[str, Any]]] = {}
    for entry in app.store.all("projecttimes"):
        if (start and entry["_date"] < num(start)) or (end and entry["_date"] > num(end)):
            continue
        by_project.setdefault(entry["_projectId"], []).append(time_view(app, entry))
    projects = app.store.all("projects")
    if req.query.get("archived", "").lower() not in ("1", "true"):
        projects = [p for p in projects if p["status"] != 2]
    return json_response(
        [{"id": p["id"], "name": p["name"], "timeTracking": by_project.get(p["id"], [])} for p in projects]
    )


def register_routes(router: Router) -> None:
    register(
        router, Resource(M, "/projects", "projects", create=create_project, update=update_project, view=project_view)
    )
    router.add("GET", f"/{M}/v1/projects/{{id}}/summary", project_summary)
    router.add("GET", f"/{M}/v1/projects/times", all_times)
    register(router, Resource(M, "/tasks", "tasks", create=create_task, update=update_task))
    register(
        router,
        Resource(
            M,
            "/projects/{projectId}/times",
            "projecttimes",
            create=create_time,
            update=update_time,
            filter=times_filter,
            view=time_view,
        ),
    )
