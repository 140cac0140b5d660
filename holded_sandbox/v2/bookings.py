"""v2 bookings and booking locations over the v1 `bookings`, `bookinglocations` (same ids as v1).

Invariants:
- Scope `crm:bookings` for both (not seen in sources: a guess, listed in the README).
- A booking reads `date_time`/`end_time` and `created_at`/`updated_at` as ISO instants; `location_id`,
  `service_id`; `custom_fields[]{key, label, type, value}`; `status` confirmed | canceled.
- Create takes `location_id, service_id, date_time, timezone, language, custom_fields` and runs the v1
  rules (all required; unknown location or service: 422; a slot already booked: 410). `custom_fields`
  entries are `{key, value}` (`{field, value}` is read the same way).
- PUT `{date_time, custom_fields}` is partial and answers `{"id"}`. DELETE cancels, as v1 does: 204,
  the booking stays listed with status `canceled`.
- List filters `start_date`/`end_date` (days of `date_time`, inclusive), `service_id`; `sort_field`
  `date_time` | `created_at` with `sort_order` asc | desc (default: ascending id).
- Locations are one list (no get in the catalogue) plus `GET /booking-locations/{id}/slots?service_id&day`,
  the v1 free slots as one unpaginated envelope.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import TYPE_CHECKING, Any

from ..model import now
from ..routes import crm as v1c
from ..routing import Request, Response
from ..store import Record
from .bridge import v1_request, v1_result
from .dates import instant_text, parse_day
from .fields import require
from .fields_in import body_instant, query_day
from .problems import Problem, bad_request, invalid
from .resource import Extra, V2Resource, json_answer, no_content, record_of

if TYPE_CHECKING:
    from ..server import App

SCOPE = "crm:bookings"


@functools.lru_cache(maxsize=256)
def _day_after(value: str, name: str) -> int:
    """Madrid midnight of the day after `value` (an inclusive end day)."""
    query_day(value, name)
    return parse_day((dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat(), name)


def _custom_fields(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise invalid("custom_fields must be a list of objects.")
    return [{"key": x.get("key", x.get("field")), "value": x.get("value")} for x in value]


def booking_view(app: App, b: Record) -> dict[str, Any]:
    """A stored booking as v2 reads it."""
    service = b["service"]
    return {
        "id": b["id"],
        "location_id": b["_locationId"],
        "location_name": b["space"]["name"],
        "service_id": service["id"],
        "service_name": service["name"],
        "date_time": instant_text(b["startTime"]),
        "end_time": instant_text(b["endTime"]),
        "duration": b["duration"],
        "status": b["status"],
        "custom_fields": [dict(f) for f in b["customFieldsValues"]],
        "document_id": b["outcome"]["documentId"] or None,
        "created_at": instant_text(b["createdAt"]),
        "updated_at": instant_text(b["updatedAt"]),
    }


def create_booking(app: App, body: dict[str, Any]) -> Record:
    """A new booking through the v1 rules (410 when the slot is taken)."""
    require(body, "location_id", "service_id", "date_time", "timezone", "language")
    v1_body = {
        "locationId": str(body["location_id"]),
        "serviceId": str(body["service_id"]),
        "dateTime": body_instant(body, "date_time"),
        "timezone": body["timezone"],
        "language": body["language"],
        "customFields": _custom_fields(body.get("custom_fields")),
    }
    result = v1c.create_booking(app, v1_request(v1_body))
    if isinstance(result, Response) and result.status == 410:
        raise Problem(410, "The slot is no longer available.")
    return v1_result(result)  # type: ignore[return-value]


def update_booking(app: App, body: dict[str, Any], booking: Record) -> None:
    """PUT `{date_time, custom_fields}`: what is sent changes (as v1's update)."""
    if body.get("date_time") not in (None, ""):
        booking["startTime"] = body_instant(body, "date_time")
        booking["endTime"] = booking["startTime"] + booking["duration"]
    if "custom_fields" in body:
        booking["customFieldsValues"] = v1c._booking_fields(_custom_fields(body["custom_fields"]))
    booking["updatedAt"] = now()


def cancel_booking(app: App, req: Request, res: V2Resource) -> Response:
    """`DELETE /bookings/{id}`: cancelled (still listed), as v1 does; 204."""
    v1c.cancel_booking(app, record_of(app, res, req.params["id"]))
    return no_content()


_SORT = {"date_time": "startTime", "created_at": "createdAt"}


def order_bookings(req: Request, records: list[Record]) -> list[Record] | None:
    """`sort_field` date_time | created_at, `sort_order` asc | desc; none: ascending id."""
    field, order = req.query.get("sort_field", ""), req.query.get("sort_order", "")
    if not field and not order:
        return None
    if field and field not in _SORT:
        raise bad_request("sort_field must be date_time or created_at.")
    if order not in ("", "asc", "desc"):
        raise bad_request("sort_order must be asc or desc.")
    key = _SORT[field or "date_time"]
    return sorted(records, key=lambda r: (r[key], r["id"]), reverse=order == "desc")


BOOKINGS = V2Resource(
    path="/bookings",
    collection="bookings",
    scope=SCOPE,
    name="Booking",
    view=booking_view,
    create=create_booking,
    update=update_booking,
    filters={
        "start_date": lambda r, v: r["startTime"] >= query_day(v, "start_date"),
        "end_date": lambda r, v: r["startTime"] < _day_after(v, "end_date"),
        "service_id": lambda r, v: r["service"]["id"] == v,
    },
    order=order_bookings,
    ops="LCGU",
    extra=(Extra("DELETE", "/{id}", "delete", cancel_booking),),
)


def location_view(app: App, loc: Record) -> dict[str, Any]:
    """A stored booking location as v2 reads it."""
    return {
        "id": loc["id"],
        "name": loc["name"],
        "description": loc["description"],
        "active": bool(loc["active"]),
        "service_ids": list(loc["availableServices"]),
    }


def slots(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /booking-locations/{id}/slots?service_id&day`: the v1 free slots, one envelope."""
    location = record_of(app, res, req.params["id"])
    day = req.query.get("day", "")
    if day:
        query_day(day, "day")
    answer = v1c.booking_slots(app, Request("GET", "", {"day": day}, None, {}, {"id": location["id"]}))
    items = [
        {"date_time": instant_text(s["dateTime"]), "end_time": instant_text(s["dateTime"] + s["duration"]),
         "duration": s["duration"]}
        for s in json.loads(answer.body)
    ]  # fmt: skip
    return json_answer({"items": items, "cursor": None, "has_more": False})


BOOKING_LOCATIONS = V2Resource(
    path="/booking-locations",
    collection="bookinglocations",
    scope=SCOPE,
    name="Booking location",
    view=location_view,
    ops="L",
    extra=(Extra("GET", "/{id}/slots", "slots", slots),),
)

RESOURCES = (BOOKING_LOCATIONS, BOOKINGS)
