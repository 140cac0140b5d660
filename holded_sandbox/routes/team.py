"""Team module: employees (list wrapped in {"employees": [...]}) and their time tracking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import blank_employee, now
from ..routing import Request, Response, Router, created, fail, not_found, updated
from ..store import Record, object_id
from .crud import Resource, apply_fields, boolean, integer, merge, register, string_list, text

if TYPE_CHECKING:
    from ..server import App

M = "team"
EMPLOYEE_FIELDS = {
    "name": text,
    "lastName": text,
    "mainEmail": text,
    "email": text,
    "nationality": text,
    "phone": text,
    "mobile": text,
    "dateOfBirth": text,
    "gender": text,
    "mainLanguage": text,
    "iban": text,
    "timeOffPolicyId": text,
    "timeOffSupervisors": string_list,
    "reportingTo": text,
    "code": text,
    "socialSecurityNum": text,
    "address": merge,
    "fiscalResidence": boolean,
    "fiscalAddress": merge,
    "workplace": text,
    "teams": string_list,
    "holdedUserId": text,
    "title": text,
}


def create_employee(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    for name in ("name", "lastName", "email"):
        if not body.get(name):
            return fail(f"{name} needed")
    employee: Record = {"id": object_id(), **blank_employee()}
    apply_fields(employee, body, EMPLOYEE_FIELDS)
    employee["mainEmail"] = employee["mainEmail"] or employee["email"]
    if body.get("sendInvite"):  # an invited employee becomes a Holded user
        employee["holdedUserId"] = object_id()
    return employee


def filter_times(app: App, req: Request, records: list[Record]) -> list[Record]:
    employee_id = req.params.get("employeeId")
    return [t for t in records if t["employeeId"] == employee_id] if employee_id else records


def _times_write(entry: Record, body: dict[str, Any]) -> Response | None:
    for name in ("startTmp", "endTmp"):
        if body.get(name) in (None, ""):
            return fail(f"{name} needed")
    entry["startTmp"], entry["endTmp"] = integer(body["startTmp"]), integer(body["endTmp"])
    pauses = sum(p["endTmp"] - p["startTmp"] for p in entry["pauses"] if p["endTmp"])
    entry["duration"] = max(0, entry["endTmp"] - entry["startTmp"] - pauses)
    return None


def create_time(app: App, req: Request) -> Record | Response:
    employee = app.store.get("employees", req.params["employeeId"])
    if employee is None:
        return not_found()
    entry: Record = {
        "id": object_id(),
        "employeeId": employee["id"],
        "startTmp": 0,
        "endTmp": 0,
        "duration": 0,
        "pauses": [],
        "location": "",
    }
    stop = _times_write(entry, req.body if isinstance(req.body, dict) else {})
    return stop or entry


def update_time(app: App, req: Request, entry: Record) -> Response | None:
    return _times_write(entry, req.body)


def clock(app: App, req: Request) -> Response:
    """clockin opens a time record, pause/unpause add pauses, clockout closes it."""
    employee = app.store.get("employees", req.params["employeeId"])
    if employee is None:
        return not_found()
    action = req.path.rsplit("/", 1)[1]
    body = req.body if isinstance(req.body, dict) else {}
    open_entries = [t for t in app.store.all("employeetimes") if t["employeeId"] == employee["id"] and not t["endTmp"]]
    ts = now()
    if action == "clockin":
        if open_entries:
            return fail("Employee already clocked in")
        entry = {
            "id": object_id(ts),
            "employeeId": employee["id"],
            "startTmp": ts,
            "endTmp": 0,
            "duration": 0,
            "pauses": [],
            "location": text(body.get("location")),
        }
        app.store.save("employeetimes", entry)
        return created(entry["id"])
    if not open_entries:
        return fail("Employee is not clocked in")
    entry = open_entries[-1]
    paused = entry["pauses"] and not entry["pauses"][-1]["endTmp"]
    if action == "pause" and not paused:
        entry["pauses"].append({"startTmp": ts, "endTmp": 0})
    elif action == "unpause" and paused:
        entry["pauses"][-1]["endTmp"] = ts
    elif action == "clockout":
        if paused:
            entry["pauses"][-1]["endTmp"] = ts
        _times_write(entry, {"startTmp": entry["startTmp"], "endTmp": ts})
    else:
        return fail(f"Cannot {action} now")
    app.store.save("employeetimes", entry)
    return updated(entry["id"]) if action == "unpause" else created(entry["id"])


def register_routes(router: Router) -> None:
    register(
        router,
        Resource(
            M,
            "/employees",
            "employees",
            create=create_employee,
            update=lambda app, req, rec: apply_fields(rec, req.body, EMPLOYEE_FIELDS),
            wrap="employees",
        ),
    )
    # Holded answers every time entry whatever `page` says (shared/holded-api/README.md, reported quirks).
    register(router, Resource(M, "/employees/times", "employeetimes", update=update_time, ops="LGUD", paged=False))
    register(
        router,
        Resource(
            M, "/employees/{employeeId}/times", "employeetimes", create=create_time, filter=filter_times, ops="LC"
        ),
    )
    for action in ("clockin", "clockout", "pause", "unpause"):
        router.add("POST", f"/{M}/v1/employees/{{employeeId}}/times/{action}", clock)
