"""v2 projects, project tasks and team employees over the v1 `projects`, `tasks`, `employees`.

Invariants:
- Projects carry no `created_at`/`updated_at` (as on Holded); `start_date`/`due_date` are days;
  `archived` is v1 status 2; task counts are computed from the tasks, as in v1.
- Tasks carry `created_at`/`updated_at`; a task created through v2 goes to its project's first list
  (v1 needs a list id, v2 sends none); `assigned_to` is the v1 `userId`.
- Employees: create needs `name`, `last_name`, `email` (422 naming the first missing);
  `terminated` is null (no contract history in the sandbox).
- Project and employee PUT are partial and answer `{"id"}`; tasks likewise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import now
from ..routes import projects as v1p
from ..routes import team as v1t
from ..routes.crud import apply_fields
from ..store import Record
from .bridge import run_v1
from .dates import day_text, instant_text
from .fields import as_bool, require, str_list
from .fields_in import body_day
from .paging import OBJECT_ID
from .problems import invalid
from .resource import V2Resource

if TYPE_CHECKING:
    from ..server import App


# --- projects --------------------------------------------------------------------------------


def project_view(app: App, p: Record) -> dict[str, Any]:
    """A stored project as v2 reads it."""
    counted = v1p.project_view(app, p)
    return {
        "id": p["id"],
        "name": p["name"],
        "description": p["desc"],
        "contact_id": p["contactId"] or None,
        "contact_name": p["contactName"],
        "start_date": day_text(p["date"]),
        "due_date": day_text(p["dueDate"]),
        "tags": list(p["tags"]),
        "archived": p["status"] == 2,
        "status": p["status"],
        "number_of_tasks": counted["numberOfTasks"],
        "completed_tasks": counted["completedTasks"],
        "billable": bool(p["billable"]),
        "allow_notifications": p.get("_allowNotifications", True),
        "lists": [{"id": x["id"], "key": x["key"], "name": x["name"], "description": x["desc"]} for x in p["lists"]],
        "users": {},
    }


def _project_v1_body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v1_name in (("name", "name"), ("description", "desc"), ("contact_id", "contactId")):
        if name in body:
            out[v1_name] = "" if body[name] is None else str(body[name])
    if "due_date" in body:
        out["dueDate"] = body_day(body, "due_date")
    if "start_date" in body:
        out["date"] = body_day(body, "start_date")
    if "status" in body:
        if body["status"] not in (0, 1, 2):
            raise invalid("status must be 0, 1 or 2.")
        out["status"] = body["status"]
    if "billable" in body:
        out["billable"] = int(as_bool(body["billable"], "billable"))
    if "tags" in body:
        out["tags"] = str_list(body["tags"], "tags")
    if "lists" in body:
        lists = body["lists"]
        if not isinstance(lists, list) or not all(isinstance(x, dict) for x in lists):
            raise invalid("lists must be a list of objects.")
        out["lists"] = [{"id": x.get("id"), "key": x.get("key"), "name": x.get("name"),
                         "desc": x.get("description")} for x in lists]  # fmt: skip
    return out


def create_project(app: App, body: dict[str, Any]) -> Record:
    """A new project (`name` required)."""
    require(body, "name")
    return run_v1(v1p.create_project, app, _project_v1_body(body))


def update_project(app: App, body: dict[str, Any], project: Record) -> None:
    """PUT: what is sent changes."""
    run_v1(v1p.update_project, app, _project_v1_body(body), project, method="PUT")
    if "allow_notifications" in body:
        project["_allowNotifications"] = as_bool(body["allow_notifications"], "allow_notifications")


PROJECTS = V2Resource(
    path="/projects",
    collection="projects",
    scope="projects:projects",
    name="Project",
    view=project_view,
    create=create_project,
    update=update_project,
    filters={"status": lambda r, v: str(r["status"]) == v},
)


# --- tasks -----------------------------------------------------------------------------------


def task_view(app: App, t: Record) -> dict[str, Any]:
    """A stored project task as v2 reads it."""
    return {
        "id": t["id"],
        "project_id": t["projectId"],
        "list_id": t["listId"] or None,
        "name": t["name"],
        "description": t["desc"],
        "due_date": day_text(t["dueDate"]),
        "priority": t.get("_priority"),
        "status": t["status"],
        "assigned_to": t["userId"] or None,
        "labels": list(t["labels"]),
        "billable": bool(t["billable"]),
        "created_at": instant_text(t["createdAt"]),
        "updated_at": instant_text(t["updatedAt"]),
    }


def _task_v1_body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v1_name in (("name", "name"), ("description", "desc"), ("assigned_to", "userId")):
        if name in body:
            out[v1_name] = "" if body[name] is None else str(body[name])
    if "due_date" in body:
        out["dueDate"] = body_day(body, "due_date")
    if "status" in body:
        if body["status"] not in (0, 1):
            raise invalid("status must be 0 (pending) or 1 (done).")
        out["status"] = body["status"]
    return out


def create_task(app: App, body: dict[str, Any]) -> Record:
    """A new task in `project_id` (required, with `name`), on the project's first list."""
    require(body, "project_id", "name")
    project = app.store.get("projects", str(body["project_id"]))
    if project is None:
        raise invalid("Project not found.")
    v1_body = {**_task_v1_body(body), "projectId": project["id"], "listId": project["lists"][0]["id"]}
    task = run_v1(v1p.create_task, app, v1_body)
    if body.get("priority") is not None:
        task["_priority"] = body["priority"]
    return task


def update_task(app: App, body: dict[str, Any], task: Record) -> None:
    """PUT: what is sent changes (a new `project_id` moves it to that project's first list)."""
    if body.get("project_id") and body["project_id"] != task["projectId"]:
        project = app.store.get("projects", str(body["project_id"]))
        if project is None:
            raise invalid("Project not found.")
        task["projectId"], task["listId"] = project["id"], project["lists"][0]["id"]
    run_v1(v1p.update_task, app, _task_v1_body(body), task, method="PUT")
    if "priority" in body:
        task["_priority"] = body["priority"]
    task["updatedAt"] = now()


TASKS = V2Resource(
    path="/tasks",
    collection="tasks",
    scope="projects:projects",
    name="Task",
    view=task_view,
    create=create_task,
    update=update_task,
)


# --- employees -------------------------------------------------------------------------------

EMPLOYEE_NAMES = {"name": "name", "last_name": "lastName", "email": "email", "phone": "phone", "mobile": "mobile",
                  "date_of_birth": "dateOfBirth", "gender": "gender", "main_language": "mainLanguage",
                  "nationality": "nationality", "code": "code", "social_security_number": "socialSecurityNum",
                  "iban": "iban", "reporting_to": "reportingTo", "workplace_id": "workplace",
                  "team_ids": "teams"}  # fmt: skip


def employee_view(app: App, e: Record) -> dict[str, Any]:
    """A stored employee as v2 reads it."""
    view = {v2_name: e.get(v1_name, "") for v2_name, v1_name in EMPLOYEE_NAMES.items()}
    view["team_ids"] = list(e.get("teams", []))
    workplace = e.get("workplace") or ""
    view["workplace_id"] = workplace if OBJECT_ID.match(workplace) else None  # seeded: a name, not an id
    return {
        "id": e["id"],
        "holded_user_id": e.get("holdedUserId") or None,
        **view,
        "job_title": e.get("title", ""),
        "current_contract": None,
        "terminated": None,
    }


def _employee_v1_body(body: dict[str, Any]) -> dict[str, Any]:
    out = {v1_name: body[name] for name, v1_name in EMPLOYEE_NAMES.items() if name in body}
    if "teams" in out:
        out["teams"] = str_list(out["teams"], "team_ids")
    return {k: "" if v is None else v for k, v in out.items()}


def create_employee(app: App, body: dict[str, Any]) -> Record:
    """A new employee (`name`, `last_name`, `email` required)."""
    require(body, "name", "last_name", "email")
    return run_v1(v1t.create_employee, app, _employee_v1_body(body))


def update_employee(app: App, body: dict[str, Any], employee: Record) -> None:
    """PUT: what is sent changes."""
    apply_fields(employee, _employee_v1_body(body), v1t.EMPLOYEE_FIELDS)


EMPLOYEES = V2Resource(
    path="/employees",
    collection="employees",
    scope="team:employees",
    name="Employee",
    view=employee_view,
    create=create_employee,
    update=update_employee,
    default_limit=50,
    max_limit=200,
)

RESOURCES = (PROJECTS, TASKS, EMPLOYEES)
