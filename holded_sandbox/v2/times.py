"""v2 project time and employee time tracking over the v1 `projecttimes`, `employeetimes` (same ids).

Invariants:
- Project times (`projects:projects`): `GET /project-times` lists every entry; the per-project routes
  `/projects/{projectId}/times[/{timeId}]` list, create, get, PUT (partial, `{"id"}`) and delete, and
  answer 404 for an entry of another project. Create needs `duration`, `cost_per_hour`, `user_id` (as
  v1 does); `date` is a day (stored as v1's entry time), `category` is kept (`_category`, v1 never
  shows it); `total` is computed by v1 (duration in hours x cost per hour).
- Employee times (`team:employee-times`, a guess): `start_at`/`end_at` ISO instants, `duration`
  seconds without pauses (computed by v1); `GET|PUT|DELETE /employee-times/{id}`,
  `GET|POST /employees/{employeeId}/times`. PUT is partial over v1's update (which needs both ends).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..routes import projects as v1p
from ..routes import team as v1t
from ..routing import Request, Response
from ..store import Record
from .bridge import run_v1
from .dates import DateError, day_text, instant_text, parse_day, parse_instant
from .fields import amount, as_number, body_object, require
from .problems import Problem, invalid
from .resource import Extra, V2Resource, created, json_answer, list_answer, no_content

if TYPE_CHECKING:
    from ..server import App


# --- project times ---------------------------------------------------------------------------


def project_time_view(app: App, t: Record) -> dict[str, Any]:
    """A stored project time entry as v2 reads it."""
    return {
        "id": t["id"],
        "project_id": t["_projectId"],
        "task_id": t["taskId"] or None,
        "user_id": t["userId"] or None,
        "description": t["desc"],
        "date": day_text(t["_date"]),
        "duration": t["duration"],
        "cost_per_hour": amount(t["costHour"]),
        "total": amount(t["total"]),
        "category": t.get("_category"),
    }


def _time_v1(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v1_name in (("description", "desc"), ("user_id", "userId"), ("task_id", "taskId")):
        if name in body:
            out[v1_name] = "" if body[name] is None else str(body[name])
    if body.get("duration") is not None:
        out["duration"] = int(as_number(body["duration"], "duration"))
    if body.get("cost_per_hour") is not None:
        out["costHour"] = as_number(body["cost_per_hour"], "cost_per_hour")
    return out


def _time_extras(body: dict[str, Any], entry: Record) -> None:
    if body.get("date") not in (None, ""):
        try:
            entry["_date"] = parse_day(body["date"], "date")
        except DateError as exc:
            raise invalid(str(exc)) from None
    if "category" in body:
        entry["_category"] = body["category"]


def _project(app: App, req: Request) -> Record:
    project = app.store.get("projects", req.params["projectId"])
    if project is None:
        raise Problem(404, "Project not found.")
    return project


def _entry(app: App, req: Request) -> Record:
    entry = app.store.get("projecttimes", req.params["id"])
    if entry is None or entry["_projectId"] != _project(app, req)["id"]:
        raise Problem(404, "Project time not found.")
    return entry


def list_project_times(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /projects/{projectId}/times`."""
    pid = _project(app, req)["id"]
    return list_answer(app, req, PROJECT_TIMES, keep=lambda t: t["_projectId"] == pid)


def create_project_time(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /projects/{projectId}/times`: `201 {"id"}`."""
    body = body_object(req.body)
    pid = _project(app, req)["id"]
    require(body, "duration", "cost_per_hour", "user_id")
    entry = run_v1(v1p.create_time, app, _time_v1(body), projectId=pid)
    _time_extras(body, entry)
    app.store.save("projecttimes", entry)
    return created(entry["id"])


def get_project_time(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /projects/{projectId}/times/{id}`."""
    return json_answer(project_time_view(app, _entry(app, req)))


def update_project_time(app: App, req: Request, res: V2Resource) -> Response:
    """`PUT /projects/{projectId}/times/{id}`: what is sent changes."""
    entry, body = _entry(app, req), body_object(req.body)
    run_v1(v1p.update_time, app, _time_v1(body), entry, method="PUT")
    _time_extras(body, entry)
    app.store.save("projecttimes", entry)
    return json_answer({"id": entry["id"]})


def delete_project_time(app: App, req: Request, res: V2Resource) -> Response:
    """`DELETE /projects/{projectId}/times/{id}`: 204."""
    app.store.delete("projecttimes", _entry(app, req)["id"])
    return no_content()


PROJECT_TIMES = V2Resource(
    path="/project-times",
    collection="projecttimes",
    scope="projects:projects",
    name="Project time",
    view=project_time_view,
    ops="L",
)

PROJECT_TIMES_OF_PROJECT = V2Resource(
    path="/projects/{projectId}/times",
    collection="projecttimes",
    scope="projects:projects",
    name="Project time",
    view=project_time_view,
    ops="",
    extra=(
        Extra("GET", "", "times_list", list_project_times),
        Extra("POST", "", "times_create", create_project_time),
        Extra("GET", "/{id}", "times_get", get_project_time),
        Extra("PUT", "/{id}", "times_update", update_project_time),
        Extra("DELETE", "/{id}", "times_delete", delete_project_time),
    ),
)


# --- employee times --------------------------------------------------------------------------


def employee_time_view(app: App, t: Record) -> dict[str, Any]:
    """A stored employee time entry as v2 reads it."""
    return {
        "id": t["id"],
        "employee_id": t["employeeId"],
        "start_at": instant_text(t["startTmp"]),
        "end_at": instant_text(t["endTmp"]),
        "duration": t["duration"],
        "pauses": [{"start_at": instant_text(p["startTmp"]), "end_at": instant_text(p["endTmp"])} for p in t["pauses"]],
        "location": t.get("location", ""),
    }


def _ends(body: dict[str, Any], entry: Record | None) -> dict[str, Any]:
    out = {}
    for name, v1_name in (("start_at", "startTmp"), ("end_at", "endTmp")):
        try:
            value = parse_instant(body.get(name), name)
        except DateError as exc:
            raise invalid(str(exc)) from None
        out[v1_name] = value or (entry[v1_name] if entry else 0)
    if out["endTmp"] and out["endTmp"] < out["startTmp"]:
        raise invalid("end_at must not be before start_at.")
    return out


def update_employee_time(app: App, body: dict[str, Any], entry: Record) -> None:
    """PUT `{start_at, end_at}`: what is sent changes."""
    run_v1(v1t.update_time, app, _ends(body, entry), entry, method="PUT")


EMPLOYEE_TIMES = V2Resource(
    path="/employee-times",
    collection="employeetimes",
    scope="team:employee-times",
    name="Employee time",
    view=employee_time_view,
    update=update_employee_time,
    ops="LGUD",
)


def _employee(app: App, req: Request) -> Record:
    employee = app.store.get("employees", req.params["employeeId"])
    if employee is None:
        raise Problem(404, "Employee not found.")
    return employee


def list_employee_times(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /employees/{employeeId}/times`."""
    eid = _employee(app, req)["id"]
    return list_answer(app, req, EMPLOYEE_TIMES, keep=lambda t: t["employeeId"] == eid)


def create_employee_time(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /employees/{employeeId}/times {start_at, end_at}` (both required, as v1): `201 {"id"}`."""
    body = body_object(req.body)
    eid = _employee(app, req)["id"]
    require(body, "start_at", "end_at")
    entry = run_v1(v1t.create_time, app, _ends(body, None), employeeId=eid)
    app.store.save("employeetimes", entry)
    return created(entry["id"])


EMPLOYEE_TIMES_OF_EMPLOYEE = V2Resource(
    path="/employees/{employeeId}/times",
    collection="employeetimes",
    scope="team:employee-times",
    name="Employee time",
    view=employee_time_view,
    ops="",
    extra=(
        Extra("GET", "", "times_list", list_employee_times),
        Extra("POST", "", "times_create", create_employee_time),
    ),
)

RESOURCES = (PROJECT_TIMES, PROJECT_TIMES_OF_PROJECT, EMPLOYEE_TIMES, EMPLOYEE_TIMES_OF_EMPLOYEE)
