"""v2 CRM: funnels (with stages), leads (+ notes, tasks, stage and date moves) and events.

Invariants:
- Same records as v1 `funnels`, `leads`, `events`. Leads are `crm:deals`, funnels `crm:funnels`,
  events `crm:events`. Lists take no filters (as on Holded); default 50, max 200.
- `created_at`/`updated_at` are ISO instants: leads from their v1 `createdAt`/`updatedAt`; funnels
  and events (no time in v1) from the id's creation second and the last write (`_updatedAt`, set by
  v1 and v2 writes alike).
- Lead `value` and `potential` are strings, `status` open | won | lost (v1 0 | 1 | 2), `due_date` a day.
  Funnel stages read `{id, name, key, description, deal_probability, rotting_days}`; the last two
  exist only in v2 and are kept per stage id (`_stageExtras`). Event `start_date`/`end_date` are
  instants (ISO); `funnel_id` is the funnel of the event's lead (v1 never stores one).
- Funnel, lead and event PUT are partial and answer `{"id"}`; lead sub-route writes answer `201
  {"id"}` (create), `{"id"}` (update) or 204 (task delete).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..routes import crm as v1
from ..routing import Request, Response
from ..store import Record
from .bridge import call_v1, run_v1
from .dates import day_text, instant_text, object_id_time
from .fields import amount, as_number, body_object, require, str_list
from .fields_in import body_day, body_instant
from .problems import invalid
from .resource import Extra, V2Resource, created, json_answer, no_content, record_of

if TYPE_CHECKING:
    from ..server import App

LIMIT, MAX_LIMIT = 50, 200
LEAD_STATUS = {0: "open", 1: "won", 2: "lost"}


def _times(record: Record) -> dict[str, str | None]:
    created_at = record.get("createdAt") or object_id_time(record["id"])
    return {
        "created_at": instant_text(created_at),
        "updated_at": instant_text(record.get("updatedAt") or record.get("_updatedAt") or created_at),
    }


# --- funnels ---------------------------------------------------------------------------------


def funnel_view(app: App, f: Record) -> dict[str, Any]:
    """A stored funnel as v2 reads it."""
    extras = f.get("_stageExtras", {})
    return {
        "id": f["id"],
        "name": f["name"],
        "stages": [
            {
                "id": s["stageId"],
                "name": s["name"],
                "key": s["key"],
                "description": s.get("desc", ""),
                "deal_probability": extras.get(s["stageId"], {}).get("deal_probability"),
                "rotting_days": extras.get(s["stageId"], {}).get("rotting_days"),
            }
            for s in f["stages"]
        ],
        "labels": [
            {"id": label.get("labelId"), "name": label.get("labelName"), "color": label.get("labelColor")}
            for label in f.get("labels", [])
        ],
        **_times(f),
    }


def _v1_stages(stages: Any) -> list[dict[str, Any]]:
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        raise invalid("stages must be a list of objects.")
    for stage in stages:
        require(stage, "name")
    return [{"stageId": s.get("id") or "", "key": s.get("key") or "", "name": s["name"],
             "desc": s.get("description") or ""} for s in stages]  # fmt: skip


def _stage_extras(funnel: Record, stages: list[dict[str, Any]]) -> None:
    extras = {}
    for sent, stored in zip(stages, funnel["stages"], strict=True):
        wanted = {k: sent[k] for k in ("deal_probability", "rotting_days") if sent.get(k) is not None}
        if wanted:
            extras[stored["stageId"]] = wanted
    funnel["_stageExtras"] = extras


def create_funnel(app: App, body: dict[str, Any]) -> Record:
    """A new funnel (`name` required; without `stages`, v1's default stages)."""
    require(body, "name")
    v1_body: dict[str, Any] = {"name": body["name"]}
    if body.get("stages"):
        v1_body["stages"] = _v1_stages(body["stages"])
    funnel = run_v1(v1.create_funnel, app, v1_body)
    if body.get("stages"):
        _stage_extras(funnel, body["stages"])
    return funnel


def update_funnel(app: App, body: dict[str, Any], funnel: Record) -> None:
    """PUT {name, stages}: what is sent changes; `stages` replaces the list (known ids kept)."""
    v1_body: dict[str, Any] = {}
    if body.get("name"):
        v1_body["name"] = body["name"]
    if "stages" in body:
        v1_body["stages"] = _v1_stages(body["stages"])
    run_v1(v1.update_funnel, app, v1_body, funnel, method="PUT")
    if "stages" in body:
        _stage_extras(funnel, body["stages"])


FUNNELS = V2Resource(
    path="/funnels",
    collection="funnels",
    scope="crm:funnels",
    name="Funnel",
    view=funnel_view,
    create=create_funnel,
    update=update_funnel,
    default_limit=LIMIT,
    max_limit=MAX_LIMIT,
)


# --- leads -----------------------------------------------------------------------------------


def lead_view(app: App, lead: Record) -> dict[str, Any]:
    """A stored lead as v2 reads it."""
    return {
        "id": lead["id"],
        "user_id": lead.get("userId") or None,
        "funnel_id": lead["funnelId"],
        "contact_id": lead["contactId"],
        "contact_name": lead["contactName"],
        "name": lead["name"],
        "person_id": lead.get("_personId") or None,
        "value": amount(lead["value"]),
        "potential": amount(lead["potential"]),
        "due_date": day_text(lead["dueDate"]),
        "stage_id": lead["stageId"],
        "status": LEAD_STATUS.get(int(lead["status"]), "open"),
        "custom_fields": [{"field": f["field"], "value": f["value"]} for f in lead["customFields"]],
        "events": [
            {
                "id": e["eventId"],
                "type": e.get("type", "note"),
                "title": e.get("title", ""),
                "description": e.get("desc", ""),
                "user_id": e.get("userId") or None,
                "created_at": instant_text(e.get("createdAt")),
            }
            for e in lead["events"]
        ],
        "tasks": [{"id": t["taskId"], "name": t["taskName"], "status": t["taskStatus"]} for t in lead["tasks"]],
        **_times(lead),
    }


def _lead_v1_body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, v1_name in (("funnel_id", "funnelId"), ("contact_id", "contactId"), ("name", "name"),
                          ("stage_id", "stageId")):  # fmt: skip
        if body.get(name) not in (None, ""):
            out[v1_name] = str(body[name])
    for name in ("value", "potential"):
        if body.get(name) not in (None, ""):
            out[name] = as_number(body[name], name)
    if "due_date" in body:
        out["dueDate"] = body_day(body, "due_date")
    if "custom_fields" in body:
        out["customFields"] = body["custom_fields"]
    return out


def create_lead(app: App, body: dict[str, Any]) -> Record:
    """A new lead (`funnel_id`, `contact_id`, `name` required)."""
    require(body, "funnel_id", "contact_id", "name")
    return run_v1(v1.create_lead, app, _lead_v1_body(body))


def update_lead(app: App, body: dict[str, Any], lead: Record) -> None:
    """PUT: what is sent changes (funnel, contact and stage included)."""
    v1_body = _lead_v1_body(body)
    funnel = lead["funnelId"]
    if "funnelId" in v1_body:
        if app.store.get("funnels", v1_body["funnelId"]) is None:
            raise invalid("Funnel not found.")
        funnel = v1_body["funnelId"]
    if "contactId" in v1_body:
        contact = app.store.get("contacts", v1_body["contactId"])
        if contact is None:
            raise invalid("Contact not found.")
        lead["contactId"], lead["contactName"] = contact["id"], contact["name"]
    stages = app.store.get("funnels", funnel)["stages"]
    if "stageId" in v1_body or funnel != lead["funnelId"]:
        wanted = v1_body.get("stageId", lead["stageId"])
        stage = next((s["stageId"] for s in stages if wanted in (s["stageId"], s["name"])), None)
        if stage is None and "stageId" in v1_body:
            raise invalid("Stage not found.")
        lead["funnelId"], lead["stageId"] = funnel, stage or (stages[0]["stageId"] if stages else "")
    run_v1(v1.update_lead, app, v1_body, lead, method="PUT")  # stamps updatedAt / updatedHash


def lead_stage(app: App, req: Request, res: V2Resource) -> Response:
    """`PUT /leads/{id}/stage {stage_id}`."""
    body = body_object(req.body)
    require(body, "stage_id")
    record_of(app, res, req.params["id"])
    call_v1(v1.lead_stage, app, {"stageId": str(body["stage_id"])}, "PUT", id=req.params["id"])
    return json_answer({"id": req.params["id"]})


def lead_dates(app: App, req: Request, res: V2Resource) -> Response:
    """`PUT /leads/{id}/dates {date}`: the lead's due date."""
    body = body_object(req.body)
    require(body, "date")
    record_of(app, res, req.params["id"])
    call_v1(v1.lead_dates, app, {"date": body_day(body, "date")}, "PUT", id=req.params["id"])
    return json_answer({"id": req.params["id"]})


def lead_notes(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /leads/{id}/notes {title, description}` (201 {id}); `PUT ... {note_id, title, description}`."""
    body = body_object(req.body)
    record_of(app, res, req.params["id"])
    v1_body = {k2: body[k] for k, k2 in (("title", "title"), ("description", "desc"), ("note_id", "noteId"))
               if k in body}  # fmt: skip
    if req.method == "POST":
        require(body, "title")
    else:
        require(body, "note_id")
    answer = call_v1(v1.lead_notes, app, v1_body, req.method, id=req.params["id"])
    return created(answer["id"]) if req.method == "POST" else json_answer({"id": answer["id"]})


def lead_tasks(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /leads/{id}/tasks {name}` (201), `PUT ... {task_id, name}`, `DELETE ... {task_id}` (204)."""
    body = body_object(req.body)
    record_of(app, res, req.params["id"])
    require(body, "name" if req.method == "POST" else "task_id")
    v1_body = {k2: body[k] for k, k2 in (("name", "name"), ("task_id", "taskId")) if k in body}
    answer = call_v1(v1.lead_tasks, app, v1_body, req.method, id=req.params["id"])
    if req.method == "POST":
        return created(answer["id"])
    return no_content() if req.method == "DELETE" else json_answer({"id": answer["id"]})


LEADS = V2Resource(
    path="/leads",
    collection="leads",
    scope="crm:deals",
    name="Lead",
    view=lead_view,
    create=create_lead,
    update=update_lead,
    default_limit=LIMIT,
    max_limit=MAX_LIMIT,
    extra=(
        Extra("PUT", "/{id}/stage", "stage_update", lead_stage),
        Extra("PUT", "/{id}/dates", "dates_update", lead_dates),
        Extra("POST", "/{id}/notes", "notes_create", lead_notes),
        Extra("PUT", "/{id}/notes", "notes_update", lead_notes),
        Extra("POST", "/{id}/tasks", "tasks_create", lead_tasks),
        Extra("PUT", "/{id}/tasks", "tasks_update", lead_tasks),
        Extra("DELETE", "/{id}/tasks", "tasks_delete", lead_tasks),
    ),
)


# --- events ----------------------------------------------------------------------------------


def event_view(app: App, e: Record) -> dict[str, Any]:
    """A stored CRM event as v2 reads it."""
    lead = app.store.get("leads", e["leadId"]) if e.get("leadId") else None
    return {
        "id": e["id"],
        "name": e["name"],
        "user_id": e.get("userId") or None,
        "contact_id": e["contactId"] or None,
        "contact_name": e["contactName"],
        "kind": e["kind"],
        "description": e["desc"],
        "start_date": instant_text(e["startDate"]),
        "end_date": instant_text(e["endDate"]),
        "duration": e["endDate"] - e["startDate"],
        "status": int(e["status"]),
        "tags": list(e["tags"]),
        "location": e["locationDesc"],
        "lead_id": e["leadId"] or None,
        "funnel_id": lead["funnelId"] if lead else None,
        **_times(e),
    }


def _event_v1_body(body: dict[str, Any], start: int | None) -> dict[str, Any]:
    renames = {"name": "name", "user_id": "userId", "contact_id": "contactId", "contact_name": "contactName",
               "kind": "kind", "description": "desc", "lead_id": "leadId", "location": "locationDesc"}  # fmt: skip
    out: dict[str, Any] = {v: "" if body[k] is None else body[k] for k, v in renames.items() if k in body}
    if "tags" in body:
        out["tags"] = str_list(body["tags"], "tags")
    if "status" in body:
        if body["status"] not in (0, 1):
            raise invalid("status must be 0 (pending) or 1 (completed).")
        out["status"] = body["status"]
    if body.get("start_date"):
        out["startDate"] = body_instant(body, "start_date")
    begin = out.get("startDate", start)
    if body.get("end_date"):
        end = body_instant(body, "end_date")
        if begin is not None and end < begin:
            raise invalid("end_date must not be before start_date.")
        out["duration"] = end - (begin or end)
    elif body.get("duration") not in (None, ""):
        out["duration"] = int(as_number(body["duration"], "duration"))
    return out


def create_event(app: App, body: dict[str, Any]) -> Record:
    """A new CRM event (`name` required; start defaults to now, one hour long)."""
    require(body, "name")
    return run_v1(v1.create_event, app, _event_v1_body(body, None))


def update_event(app: App, body: dict[str, Any], event: Record) -> None:
    """PUT: what is sent changes."""
    run_v1(v1.update_event, app, _event_v1_body(body, event["startDate"]), event, method="PUT")


EVENTS = V2Resource(
    path="/events",
    collection="events",
    scope="crm:events",
    name="Event",
    view=event_view,
    create=create_event,
    update=update_event,
    default_limit=LIMIT,
    max_limit=MAX_LIMIT,
)

RESOURCES = (FUNNELS, LEADS, EVENTS)
