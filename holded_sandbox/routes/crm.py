"""CRM module: funnels (with embedded stages), leads (+ notes, tasks, stage and date moves), events, bookings."""

from __future__ import annotations

import calendar
import time
from typing import TYPE_CHECKING, Any

from ..fakedata import slug
from ..model import documented_custom_fields, intish, now, num, stamp
from ..routing import Request, Response, Router, created, deleted, fail, json_response, not_found, updated
from ..store import Record, object_id
from .crud import Resource, anything, apply_fields, integer, register, string_list, text

if TYPE_CHECKING:
    from ..server import App

M = "crm"
DEFAULT_STAGES = [("nuevo", "Nuevo"), ("contactado", "Contactado"), ("propuesta", "Propuesta"), ("cierre", "Cierre")]

# --- funnels -------------------------------------------------------------------------------


def _stages(entries: Any) -> list[dict[str, str]]:
    stages = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            name = text(entry.get("name"))
            stages.append(
                {
                    "stageId": text(entry.get("stageId")) or object_id(),
                    "key": text(entry.get("key")) or slug(name),
                    "name": name,
                    "desc": text(entry.get("desc")),
                }
            )
    return stages


def create_funnel(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    if not body.get("name"):
        return fail("name needed")
    stages = [{"key": key, "name": name} for key, name in DEFAULT_STAGES]
    return {
        "id": object_id(),
        "name": text(body["name"]),
        "stages": _stages(body.get("stages") or stages),
        "labels": [],
        "preferences": {"emails": []},
        "customFields": [],
    }


def update_funnel(app: App, req: Request, funnel: Record) -> Response | None:
    # `labels` and `preferences` answer success but are not stored (Holded no-op).
    apply_fields(funnel, req.body, {"name": text, "customFields": anything})
    if "stages" in req.body:
        funnel["stages"] = _stages(req.body["stages"])  # replaces the list; new stages get an id
    funnel["_updatedAt"] = now()  # v1 shows no modification time; API v2 serves it as updated_at
    return None


def funnel_view(app: App, funnel: Record) -> dict[str, Any]:
    groups: dict[int, list[Record]] = {0: [], 1: [], 2: []}
    for lead in app.store.all("leads"):
        if lead["funnelId"] == funnel["id"]:
            groups.setdefault(int(lead["status"]), []).append(lead)

    def summary(leads: list[Record]) -> dict[str, int]:
        return {"num": len(leads), "value": int(sum(num(lead["value"]) for lead in leads))}

    def recent(leads: list[Record]) -> list[str]:
        return [lead["id"] for lead in sorted(leads, key=lambda lead: lead["updatedAt"], reverse=True)[:5]]

    view = {k: v for k, v in funnel.items() if not k.startswith("_")}
    view.update(
        won=summary(groups[1]),
        leads=summary(groups[0]),
        lost=summary(groups[2]),
        recentWon=recent(groups[1]),
        recentLeads=recent(groups[0]),
        recentLost=recent(groups[2]),
    )
    keys = [
        "id",
        "name",
        "stages",
        "won",
        "leads",
        "lost",
        "recentWon",
        "recentLeads",
        "recentLost",
        "labels",
        "preferences",
        "customFields",
    ]
    return {k: view[k] for k in keys}


# --- leads ---------------------------------------------------------------------------------


def _stage_id(funnel: Record, wanted: str) -> str | None:
    """A stage id or an exact stage name."""
    for stage in funnel["stages"]:
        if wanted in (stage["stageId"], stage["name"]):
            return stage["stageId"]
    return None


def create_lead(app: App, req: Request) -> Record | Response:
    body = req.body if isinstance(req.body, dict) else {}
    if not body.get("funnelId"):
        return fail("funnelId needed")
    if not body.get("contactId"):
        return fail("contactId needed")
    funnel = app.store.get("funnels", text(body["funnelId"]))
    if funnel is None:
        return fail("Funnel not found")
    contact = app.store.get("contacts", text(body["contactId"]))
    if contact is None:
        return fail("Contact not found")
    stage = _stage_id(funnel, text(body.get("stageId"))) if body.get("stageId") else None
    if stage is None:  # absent or unknown: the funnel's first stage
        stage = funnel["stages"][0]["stageId"] if funnel["stages"] else ""
    ts = now()
    lead: Record = {
        "id": object_id(ts),
        "userId": text(body.get("userId")),
        "funnelId": funnel["id"],
        "contactId": contact["id"],
        "contactName": text(body.get("contactName")) or contact["name"],
        "name": text(body.get("name")),
        "person": contact["isperson"],
        "personName": "",
        "value": intish(num(body.get("value"))),
        "potential": intish(num(body.get("potential"))),
        "dueDate": integer(body.get("dueDate") or 0),
        "stageId": stage,
        "createdAt": ts,
        "customFields": documented_custom_fields(body.get("customFields")),
        "status": 0,
        "events": [],
        "tasks": [],
        "files": [],
    }
    return stamp(lead, ts)


def update_lead(app: App, req: Request, lead: Record) -> Response | None:
    apply_fields(
        lead,
        req.body,
        {
            "name": text,
            "value": lambda v: intish(num(v)),
            "dueDate": integer,
            "status": integer,
            "potential": lambda v: intish(num(v)),
        },
    )
    if "customFields" in req.body:
        lead["customFields"] = documented_custom_fields(req.body["customFields"])
    stamp(lead, now())
    return None


def _lead(app: App, req: Request) -> Record | Response:
    lead = app.store.get("leads", req.params["id"])
    return lead if lead is not None else not_found()


def _body(req: Request) -> dict[str, Any]:
    return req.body if isinstance(req.body, dict) else {}


def lead_stage(app: App, req: Request) -> Response:
    lead = _lead(app, req)
    if isinstance(lead, Response):
        return lead
    funnel = app.store.get("funnels", lead["funnelId"])
    stage = _stage_id(funnel, text(_body(req).get("stageId"))) if funnel else None
    if stage is None:
        return fail("Stage not found")
    lead["stageId"] = stage
    app.store.save("leads", stamp(lead, now()))
    return updated(lead["id"])


def lead_dates(app: App, req: Request) -> Response:
    lead = _lead(app, req)
    if isinstance(lead, Response):
        return lead
    if "date" not in _body(req):
        return fail("date needed")
    lead["dueDate"] = integer(req.body["date"])
    app.store.save("leads", stamp(lead, now()))
    return updated(lead["id"])


def lead_notes(app: App, req: Request) -> Response:
    """Notes live in the lead's `events[]` with type "note"."""
    lead = _lead(app, req)
    if isinstance(lead, Response):
        return lead
    body = _body(req)
    if req.method == "POST":
        if not body.get("title"):
            return fail("title needed")
        note = {
            "eventId": object_id(),
            "type": "note",
            "title": text(body["title"]),
            "desc": text(body.get("desc")),
            "createdAt": now(),
            "userId": text(body.get("userId")),
        }
        lead["events"].append(note)
        app.store.save("leads", stamp(lead, now()))
        return _sub_created(note["eventId"])
    note = next((e for e in lead["events"] if e["eventId"] == text(body.get("noteId"))), None)
    if note is None:
        return not_found() if body.get("noteId") else fail("noteId needed")
    apply_fields(note, body, {"title": text, "desc": text})
    app.store.save("leads", stamp(lead, now()))
    return updated(note["eventId"])


def lead_tasks(app: App, req: Request) -> Response:
    """Tasks live in the lead's `tasks[]`."""
    lead = _lead(app, req)
    if isinstance(lead, Response):
        return lead
    body = _body(req)
    if req.method == "POST":
        if not body.get("name"):
            return fail("name needed")
        task = {"taskId": object_id(), "taskName": text(body["name"]), "taskStatus": integer(body.get("status", 0))}
        lead["tasks"].append(task)
        app.store.save("leads", stamp(lead, now()))
        return _sub_created(task["taskId"])
    task = next((t for t in lead["tasks"] if t["taskId"] == text(body.get("taskId"))), None)
    if task is None:
        return not_found() if body.get("taskId") else fail("taskId needed")
    if req.method == "DELETE":
        lead["tasks"].remove(task)
        app.store.save("leads", stamp(lead, now()))
        return deleted(task["taskId"])
    if "name" in body:
        task["taskName"] = text(body["name"])
    if "status" in body:
        task["taskStatus"] = integer(body["status"])
    app.store.save("leads", stamp(lead, now()))
    return updated(task["taskId"])


def _sub_created(rid: str) -> Response:
    resp = created(rid)
    resp.status = 200  # the spec answers lead notes/tasks creates with 200, not 201
    return resp


# --- events --------------------------------------------------------------------------------

EVENT_FIELDS = {
    "name": text,
    "kind": text,
    "desc": text,
    "startDate": integer,
    "status": integer,
    "tags": string_list,
    "locationDesc": text,
    "leadId": text,
    "userId": text,
    "contactName": text,
}


def _event_write(app: App, event: Record, body: dict[str, Any]) -> None:
    length = event["endDate"] - event["startDate"]
    apply_fields(event, body, EVENT_FIELDS)  # `funnelId` answers success but is never stored (Holded no-op)
    if "contactId" in body:
        contact = app.store.get("contacts", text(body["contactId"]))
        event["contactId"] = contact["id"] if contact else text(body["contactId"])
        if contact and "contactName" not in body:
            event["contactName"] = contact["name"]
    event["endDate"] = event["startDate"] + (integer(body["duration"]) if "duration" in body else length)


def create_event(app: App, req: Request) -> Record | Response:
    body = _body(req)
    if not body.get("name"):
        return fail("name needed")
    start = integer(body.get("startDate") or now())
    event = {
        "id": object_id(),
        "name": "",
        "contactId": "",
        "contactName": "",
        "kind": "",
        "desc": "",
        "startDate": start,
        "endDate": start + 3600,
        "status": 0,
        "tags": [],
        "locationDesc": "",
        "leadId": "",
        "userId": "",
    }
    _event_write(app, event, body)
    return event


def update_event(app: App, req: Request, event: Record) -> Response | None:
    _event_write(app, event, req.body)
    event["_updatedAt"] = now()  # v1 shows no modification time; API v2 serves it as updated_at
    return None


# --- bookings ------------------------------------------------------------------------------

BOOKING_REQUIRED = ("locationId", "serviceId", "dateTime", "timezone", "language", "customFields")


def _booking_fields(entries: Any) -> list[dict[str, str]]:
    rows = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "key" in entry:
            key = text(entry["key"])
            rows.append(
                {
                    "key": key,
                    "label": key.capitalize(),
                    "type": "email" if key == "email" else "text",
                    "value": text(entry.get("value")),
                }
            )
    return rows


def create_booking(app: App, req: Request) -> Record | Response:
    body = _body(req)
    for name in BOOKING_REQUIRED:
        if body.get(name) in (None, ""):
            return fail(f"{name} needed")
    location = app.store.get("bookinglocations", text(body["locationId"]))
    service = app.store.get("services", text(body["serviceId"]))
    if location is None or service is None:
        return fail("Location or service not found")
    start = integer(body["dateTime"])
    taken = any(
        b["_locationId"] == location["id"] and b["startTime"] == start and b["status"] != "canceled"
        for b in app.store.all("bookings")
    )
    if taken:
        return json_response({"status": 0, "info": "The slot is no longer available"}, 410)
    ts = now()
    return {
        "id": object_id(ts),
        "startTime": start,
        "endTime": start + 3600,
        "duration": 3600,
        "createdAt": ts,
        "updatedAt": ts,
        "status": "confirmed",
        "service": {
            "id": service["id"],
            "name": service["name"],
            "description": service["desc"],
            "duration": 3600,
            "subtotal": {"amount": service["subtotal"], "currency": "EUR"},
            "total": {"amount": service["total"], "currency": "EUR"},
        },
        "space": {"id": location["id"], "name": location["name"]},
        "outcome": {"documentId": "", "type": "", "exportedAt": 0},
        "customFieldsValues": _booking_fields(body["customFields"]),
        "_locationId": location["id"],
    }


def booking_answer(app: App, booking: Record) -> Response:
    return json_response({"status": 1, "id": booking["id"]}, 201)


def update_booking(app: App, req: Request) -> Response:
    booking = app.store.get("bookings", req.params["id"])
    if booking is None:
        return not_found()
    body = _body(req)
    if "dateTime" in body:
        booking["startTime"] = integer(body["dateTime"])
        booking["endTime"] = booking["startTime"] + booking["duration"]
    if "customFields" in body:
        booking["customFieldsValues"] = _booking_fields(body["customFields"])
    booking["updatedAt"] = now()
    app.store.save("bookings", booking)
    return json_response({"status": 1, "id": booking["id"]})


def cancel_booking(app: App, booking: Record) -> Response:
    booking["status"] = "canceled"  # cancelled bookings stay listed
    booking["updatedAt"] = now()
    app.store.save("bookings", booking)
    return json_response({"status": 1, "info": "Booking canceled", "id": booking["id"]})


def booking_slots(app: App, req: Request) -> Response:
    location = app.store.get("bookinglocations", req.params["id"])
    if location is None:
        return not_found()
    try:
        day = calendar.timegm(time.strptime(req.query.get("day", ""), "%Y-%m-%d"))
    except ValueError:
        day = (now() // 86_400 + 1) * 86_400
    taken = {
        b["startTime"]
        for b in app.store.all("bookings")
        if b["_locationId"] == location["id"] and b["status"] != "canceled"
    }
    slots = []
    for minutes in range(9 * 60, 14 * 60, 30):  # 09:00-14:00 UTC, half-hour slots
        start = day + minutes * 60
        if start not in taken:
            slots.append({"dateTime": start, "from": _iso(start), "to": _iso(start + 1800), "duration": 1800})
    return json_response(slots)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


def register_routes(router: Router) -> None:
    register(router, Resource(M, "/funnels", "funnels", create=create_funnel, update=update_funnel, view=funnel_view))
    register(router, Resource(M, "/leads", "leads", create=create_lead, update=update_lead))
    lead = f"/{M}/v1/leads/{{id}}"
    router.add("PUT", lead + "/stages", lead_stage)
    router.add("PUT", lead + "/dates", lead_dates)
    for method in ("POST", "PUT"):
        router.add(method, lead + "/notes", lead_notes)
    for method in ("POST", "PUT", "DELETE"):
        router.add(method, lead + "/tasks", lead_tasks)
    register(router, Resource(M, "/events", "events", create=create_event, update=update_event))
    register(router, Resource(M, "/bookings/locations", "bookinglocations", ops="L"))
    router.add("GET", f"/{M}/v1/bookings/locations/{{id}}/slots", booking_slots)
    register(
        router,
        Resource(
            M,
            "/bookings",
            "bookings",
            create=create_booking,
            answer=booking_answer,
            on_delete=cancel_booking,
            ops="LCGD",
        ),
    )
    router.add("PUT", f"/{M}/v1/bookings/{{id}}", update_booking)
