"""v2 contacts over the v1 `contacts` collection (+ search, exact filters, bulk delete).

Invariants:
- The view is the v1 record in v2 names (snake_case, `is_person` a boolean, `bill_address`,
  `defaults`, `contact_persons[].person_id`, ISO `created_at`/`updated_at`); `vat_number` is the v1
  `code` until a v2 write sets it apart (kept in `_vatNumber`, which v1 never shows).
- Create and PUT take the documented body (`name` required). PUT is a full replace: every documented
  field left out is reset to what a new contact has (`custom_id`, a sandbox extension, is kept when
  left out; v1-only data such as notes, shipping addresses, tags and ledger records is kept). PUT
  answers `{"status": 1}`; `contact_persons[]` entries with a known `person_id` keep that person.
- Custom fields are stored in the documented `[{field, value}]` shape (v2 does not split them as v1
  create does). `updatedAt`/`updatedHash` change on every write, as v1's do.
- `GET /contacts/search?name=` is a prefix match on the whole name, ignoring case and accents.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from ..model import documented_custom_fields, now, stamp
from ..routes.invoicing import create_contact
from ..routing import Request, Response
from ..store import Record, object_id
from .bridge import run_v1
from .dates import instant_text
from .fields import as_bool, camel_keys, id_list, require, snake_keys, text_or_none
from .paging import OBJECT_ID
from .problems import bad_request, invalid
from .resource import Extra, V2Resource, list_answer, no_content

if TYPE_CHECKING:
    from ..server import App

TYPES = ("client", "debtor", "supplier", "creditor", "lead")
# The documented body of create and PUT: what a PUT resets when left out.
BODY_FIELDS = (
    "name", "code", "vat_number", "trade_name", "is_person", "email", "phone", "mobile", "website", "type",
    "bill_address", "custom_fields", "defaults", "contact_persons",
)  # fmt: skip
NEW_PERSON = {"name": "", "job": "", "phone": "", "email": "", "sendDocumentsByDefault": False, "linkedin": ""}
EXTENSIONS = ("custom_id",)  # accepted beyond the documented body
_REPLACED_V1 = ("name", "code", "tradeName", "isperson", "email", "phone", "mobile", "type", "billAddress",
                "customFields", "defaults", "_vatNumber", "contactPersons")  # fmt: skip


def _person_view(person: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": person.get("personId", ""),
        "name": person.get("name", ""),
        "job": person.get("job", ""),
        "phone": person.get("phone", ""),
        "email": person.get("email", ""),
        "send_documents_by_default": bool(person.get("sendDocumentsByDefault", False)),
    }


def _note_view(note: dict[str, Any]) -> dict[str, Any]:
    return {
        "note_id": note.get("noteId", ""),
        "name": note.get("name", ""),
        "description": note.get("description", ""),
        "color": note.get("color", ""),
        "updated_at": instant_text(note.get("updatedAt")),
    }


def contact_view(app: App, c: Record) -> dict[str, Any]:
    """A stored contact as v2 reads it."""
    social = c.get("socialNetworks") if isinstance(c.get("socialNetworks"), dict) else {}
    return {
        "id": c["id"],
        "custom_id": text_or_none(c.get("customId")),
        "name": c["name"],
        "code": c["code"],
        "vat_number": c.get("_vatNumber", c["code"]),
        "trade_name": text_or_none(c.get("tradeName")),
        "is_person": bool(c["isperson"]),
        "email": c["email"],
        "mobile": c["mobile"],
        "phone": c["phone"],
        "website": social.get("website", ""),
        "type": c["type"],
        "iban": c["iban"],
        "swift": c["swift"],
        "group_id": c["groupId"],
        "tags": list(c["tags"]),
        "bill_address": snake_keys(c["billAddress"]),
        "client_record": c["clientRecord"] or None,
        "supplier_record": c["supplierRecord"] or None,
        "defaults": snake_keys(c["defaults"]),
        "shipping_addresses": [snake_keys(s) for s in c["shippingAddresses"]],
        "notes": [_note_view(n) for n in c["notes"]],
        "contact_persons": [_person_view(p) for p in c["contactPersons"]],
        "custom_fields": [{"field": f["field"], "value": f["value"]} for f in c["customFields"]],
        "social_networks": dict(social),
        "created_at": instant_text(c.get("createdAt")),
        "updated_at": instant_text(c.get("updatedAt")),
    }


def _v1_body(body: dict[str, Any]) -> dict[str, Any]:
    """The v1 create body for the fields v1 create understands as v2 means them."""
    v1: dict[str, Any] = {k: body[k] for k in ("name", "code", "email", "phone", "mobile", "type") if k in body}
    v1 = {k: "" if v is None else v for k, v in v1.items()}
    if body.get("type") not in (None, "") and body["type"] not in TYPES:
        raise invalid(f"type must be one of {', '.join(TYPES)}.")
    if "trade_name" in body:
        v1["tradeName"] = body["trade_name"] or ""
    if "is_person" in body:
        v1["isperson"] = as_bool(body["is_person"], "is_person")
    if body.get("bill_address") is not None:
        v1["billAddress"] = camel_keys(body["bill_address"])
    if body.get("defaults") is not None:
        v1["defaults"] = camel_keys(body["defaults"])
    if body.get("custom_id") is not None:
        v1["CustomId"] = body["custom_id"]
    return v1


def _persons(entries: Any, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """contact_persons: a known `person_id` keeps (and updates) that person; others are new persons."""
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid("contact_persons must be a list of objects.")
    known = {p["personId"]: p for p in existing}
    out = []
    for entry in entries:
        pid = entry.get("person_id")
        if pid and pid not in known:
            raise invalid(f"contact_persons: person {pid} not found.")
        person = dict(known[pid]) if pid else {"personId": object_id(), **NEW_PERSON}
        for key in ("name", "job", "phone", "email"):
            if key in entry:
                person[key] = "" if entry[key] is None else str(entry[key])
        if "send_documents_by_default" in entry:
            person["sendDocumentsByDefault"] = bool(entry["send_documents_by_default"])
        out.append(person)
    return out


def _build(app: App, body: dict[str, Any], existing_persons: list[dict[str, Any]]) -> Record:
    require(body, "name")
    record = run_v1(create_contact, app, _v1_body(body))
    record["customFields"] = documented_custom_fields(body.get("custom_fields"))
    record["socialNetworks"]["website"] = str(body.get("website") or "")
    if body.get("vat_number") is not None:
        record["_vatNumber"] = str(body["vat_number"])
    record["contactPersons"] = _persons(body.get("contact_persons"), existing_persons)
    return record


def create(app: App, body: dict[str, Any]) -> Record:
    """A new contact from a v2 body (`name` required)."""
    record = _build(app, body, [])
    return stamp(record, record["createdAt"])


def replace(app: App, body: dict[str, Any], record: Record) -> None:
    """PUT: a full replace of the documented fields (left out: reset)."""
    fresh = _build(app, body, record["contactPersons"])
    for key in _REPLACED_V1:
        if key in fresh:
            record[key] = fresh[key]
        else:
            record.pop(key, None)
    social = record.get("socialNetworks") if isinstance(record.get("socialNetworks"), dict) else {}
    record["socialNetworks"] = {**social, "website": fresh["socialNetworks"]["website"]}
    if "custom_id" in body:
        record["customId"] = fresh["customId"]
    stamp(record, now())


def _fold(text: str) -> str:
    """Lower case without accents: what name search compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search(app: App, req: Request, res: V2Resource) -> Response:
    """`GET /contacts/search?name=`: contacts whose name starts with `name` (case and accents ignored)."""
    wanted = _fold(req.query.get("name", "").strip())
    if not wanted:
        raise bad_request("name is required.")
    return list_answer(app, req, res, keep=lambda c: _fold(c["name"]).startswith(wanted))


def bulk_delete(app: App, req: Request, res: V2Resource) -> Response:
    """`POST /contacts/bulk-delete {contact_ids}`: 204; unknown ids are ignored, malformed ones a 400."""
    body = req.body if isinstance(req.body, dict) else {}
    ids = id_list(body, "contact_ids")
    wrong = [i for i in ids if not OBJECT_ID.match(i)]
    if wrong:
        raise bad_request(f"Invalid contact id: {wrong[0]}.")
    for rid in ids:
        if app.store.get(res.collection, rid) is not None:
            app.store.delete(res.collection, rid)
    return no_content()


def _exact(key: str) -> Any:
    return lambda record, value: str(record.get(key, "")) == value


CONTACTS = V2Resource(
    path="/contacts",
    collection="contacts",
    scope="contacts:contacts",
    name="Contact",
    view=contact_view,
    create=create,
    update=replace,
    update_answer="status",
    filters={
        "phone": _exact("phone"),
        "mobile": _exact("mobile"),
        "email": _exact("email"),
        "custom_id": _exact("customId"),
        "code": _exact("code"),
    },
    default_limit=25,
    max_limit=100,
    extra=(
        Extra("GET", "/search", "search", search),
        Extra("POST", "/bulk-delete", "bulk_delete", bulk_delete),
    ),
)
RESOURCES = (CONTACTS,)
