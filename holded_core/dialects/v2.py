"""Holded API v2 (current): the same resources as v1, under `/v2/`, with cursor pages and permissions.

Routes, query parameters and permission scopes: shared/holded-api/v2/endpoints.md; page sizes and
pagination: shared/holded-api/v2/README.md ("Transport": contacts, documents, ledger entries and
products up to 100 a page; funnels, leads, events and employees up to 200; warehouses unpaginated).
Where the sources name no scope the resource has `permission=None` (read with whatever the token has).
v1's `purchase_refunds` has no v2 list route in the catalogue, so v2 does not offer it.

Records: the unified mappings (`holded_core.mappings`) read Holded's v1 record shape, so each resource a
unified stream reads declares `to_v1`, its translation from Holded's documented v2 shape (README
"Shapes") to v1's. The translations below follow these rules, each from the v2 README:
- names: snake_case -> v1's camelCase (`trade_name` -> `tradeName`, nested `bill_address.postal_code`
  -> `billAddress.postalCode`); a field v2 renamed is renamed back (`description` -> `desc`,
  `document_number` -> `docNumber`, `contact_id` -> `contact` on documents, a funnel stage's `id` ->
  `stageId`, `person_id` -> `personId`, a document's `lines` -> `products`); fields not named keep
  their value under their camelCase name;
- calendar days `YYYY-MM-DD` -> unix seconds of 00:00 of that day in the account's zone (v1's
  convention, `holded_core.dates`); unset -> 0, v1's unset date;
- instants (`created_at`, an event's `start_date`) ISO 8601 -> unix seconds;
- amounts served as strings (`"121.00"`) -> numbers;
- enumerations v2 spells out -> v1's codes: a lead's `status` open/won/lost -> 0/1/2, a document's
  `status` pending/completed/partial -> 0/1/2, booleans (`is_person`, `draft`) -> 1/0.
Native streams on v2 emit records as Holded v2 returns them: no translation applies to them.

Writes: the writer (`holded_core.writes`) builds Holded's v1 write body; each resource a unified model is
written to declares `from_v1`, that body in v2's (README "Shapes", "Writes"; endpoints.md's bodies):
- names: v1's camelCase -> snake_case (`tradeName` -> `trade_name`, `billAddress{postalCode}` ->
  `bill_address{postal_code}`); renamed ones back (`desc` -> `description`, a document's `contactId` ->
  `contact_id`, an item's `subtotal` (its unit price) -> `price` and `lineId` -> `line_id`, a funnel stage's
  `stageId` -> `id`, `isperson` -> `is_person`, a contact's `CustomId` -> `custom_id`, a lead's `funnelId` /
  `contactId` / `stageId` -> `funnel_id` / `contact_id` / `stage_id`, a contact's `socialNetworks.website` ->
  `website`);
- calendar days (v1's unix seconds of 00:00 in the account's zone) -> `YYYY-MM-DD` there; instants (an
  event's start) -> ISO 8601 UTC;
- custom fields in v2's documented `[{field, value}]` (v1's single-key form, a v1 quirk, is not v2's).
Contact and invoice `PUT` are full replaces ("Writes"; the contacts spec: "GET first, merge, send the
whole object"), so they declare `replace`: the record as read -> the whole body that puts it back, over
which an update lays its changes (`holded_core.write_channel`). Invoice lines go back with their
`line_id`, so Holded keeps each line. A lead's stage moves through `PUT /leads/{id}/stage {stage_id}`, an
existing draft invoice is approved by `POST /invoices/{id}/approve`, and a contact's `custom_id` is an
exact list filter. What v2's write bodies do not take (`unwritable`): a contact's `tags` (the contacts
spec's body has none), a lead's `status` (endpoints.md's lead body has none), a funnel's custom fields
(`POST /funnels {name, stages}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.dates import day_of, midnight, parse_day
from holded_core.dialects import Resource, table
from holded_core.listing import DAY_RANGE

# ------------------------------------------------------------------------- v2 -> v1 records


_CAMEL: dict[str, str] = {}  # a v2 field name -> its camelCase: the same few hundred names on every record
_CAMEL_MAX = 10_000  # names past this many (keys of free-form objects) are converted each time, not kept


def _camel(name: str) -> str:
    camel = _CAMEL.get(name)
    if camel is None:
        head, *rest = name.split("_")
        camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
        if len(_CAMEL) < _CAMEL_MAX:
            _CAMEL[name] = camel
    return camel


def _camel_keys(value: Any) -> Any:
    """An object with its keys in camelCase (one level); a non-object as it is."""
    return {_camel(k): v for k, v in value.items()} if isinstance(value, Mapping) else value


def _renamed(record: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every field under its v1 name: `names` first (v2 -> v1), else the camelCase of the v2 name."""
    names = names or {}
    return {names[key] if key in names else _camel(key): value for key, value in record.items()}


_MIDNIGHTS: dict[tuple[str, ZoneInfo], int] = {}  # (day, zone) -> unix seconds: a few hundred days serve a listing
_MIDNIGHTS_MAX = 100_000


def _day(value: Any, zone: ZoneInfo) -> int:
    """A v2 day (`YYYY-MM-DD`) -> v1's unix seconds of 00:00 of it in the account's zone; unset -> 0."""
    if value in (None, ""):
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        return midnight(parse_day(value, zone), zone)
    seconds = _MIDNIGHTS.get((value, zone))
    if seconds is None:
        seconds = midnight(parse_day(value, zone), zone)
        if len(_MIDNIGHTS) < _MIDNIGHTS_MAX:
            _MIDNIGHTS[(value, zone)] = seconds
    return seconds


def _instant(value: Any) -> int:
    """A v2 ISO 8601 instant (a zone-less one is UTC) -> unix seconds; unset -> 0."""
    if value in (None, ""):
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).timestamp())


def _amount(value: Any) -> Any:
    """A v2 amount (`"121.00"`) -> a number (an int when whole, as v1 serves `121`); else as it is."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _flag(value: Any) -> int:
    return 1 if value in (True, 1, "1", "true") else 0


def _instants(out: dict[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    for v2, v1 in (("created_at", "createdAt"), ("updated_at", "updatedAt")):
        if v2 in record:
            out[v1] = _instant(record[v2])
    return out


def contact_to_v1(record: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """A v2 contact -> v1's (`is_person` -> `isperson` 1/0, `bill_address{postal_code}` ->
    `billAddress{postalCode}`, `contact_persons[].person_id` -> `contactPersons[].personId`,
    `website` -> `socialNetworks.website`, ISO times -> unix seconds)."""
    out = _renamed(record, {"is_person": "isperson"})
    out["isperson"] = _flag(record.get("is_person"))
    for v2, v1 in (("bill_address", "billAddress"), ("defaults", "defaults")):
        if v2 in record:
            out[v1] = _camel_keys(record[v2])
    for v2, v1 in (("shipping_addresses", "shippingAddresses"), ("contact_persons", "contactPersons")):
        if isinstance(record.get(v2), list):
            out[v1] = [_camel_keys(item) for item in record[v2]]
    if isinstance(record.get("notes"), list):
        out["notes"] = [{**_camel_keys(n), "updatedAt": _instant(n.get("updated_at"))} for n in record["notes"]]
    social = _camel_keys(record.get("social_networks")) if isinstance(record.get("social_networks"), Mapping) else {}
    if "website" in record:
        social = {**social, "website": record["website"]}
    out["socialNetworks"] = social
    out.pop("website", None)
    return _instants(out, record)


def employee_to_v1(record: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """A v2 employee -> v1's (`last_name` -> `lastName`, `holded_user_id` -> `holdedUserId`,
    `job_title` -> `title`, `team_ids` -> `teams`, `workplace_id` -> `workplace`)."""
    return _renamed(record, {"job_title": "title", "team_ids": "teams", "workplace_id": "workplace"})


def project_to_v1(record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A v2 project -> v1's (`description` -> `desc`, days `start_date`/`due_date` -> `date`/`dueDate`)."""
    out = _renamed(record, {"description": "desc", "start_date": "date"})
    out["date"] = _day(record.get("start_date"), zone)
    out["dueDate"] = _day(record.get("due_date"), zone)
    if isinstance(record.get("lists"), list):
        out["lists"] = [_renamed(item, {"description": "desc"}) for item in record["lists"]]
    return out


def funnel_to_v1(record: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """A v2 funnel -> v1's (`stages[]{id, description}` -> `stages[]{stageId, desc}`, labels' `id`,
    `name`, `color` -> `labelId`, `labelName`, `labelColor`, ISO times -> unix seconds)."""
    out = _renamed(record)
    out["stages"] = [_renamed(s, {"id": "stageId", "description": "desc"}) for s in record.get("stages") or []]
    if isinstance(record.get("labels"), list):
        names = {"id": "labelId", "name": "labelName", "color": "labelColor"}
        out["labels"] = [_renamed(label, names) for label in record["labels"]]
    return _instants(out, record)


LEAD_STATUS = {"open": 0, "won": 1, "lost": 2}


def lead_to_v1(record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A v2 lead -> v1's (`status` open/won/lost -> 0/1/2, amounts `value`/`potential` -> numbers,
    day `due_date` -> `dueDate` unix seconds, `events[]`/`tasks[]` in v1 names, ISO times -> unix)."""
    out = _renamed(record, {"person_id": "_personId"})
    status = record.get("status")
    out["status"] = LEAD_STATUS.get(status, status) if isinstance(status, str) else status
    out["value"] = _amount(record.get("value"))
    out["potential"] = _amount(record.get("potential"))
    out["dueDate"] = _day(record.get("due_date"), zone)
    if isinstance(record.get("events"), list):
        names = {"id": "eventId", "description": "desc"}
        out["events"] = [{**_renamed(e, names), "createdAt": _instant(e.get("created_at"))} for e in record["events"]]
    if isinstance(record.get("tasks"), list):
        names = {"id": "taskId", "name": "taskName", "status": "taskStatus"}
        out["tasks"] = [_renamed(t, names) for t in record["tasks"]]
    return _instants(out, record)


def event_to_v1(record: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """A v2 CRM event -> v1's (`description` -> `desc`, `location` -> `locationDesc`, instants
    `start_date`/`end_date` -> `startDate`/`endDate` unix seconds)."""
    out = _renamed(record, {"description": "desc", "location": "locationDesc"})
    out["startDate"] = _instant(record.get("start_date"))
    out["endDate"] = _instant(record.get("end_date"))
    return _instants(out, record)


DOCUMENT_STATUS = {"pending": 0, "completed": 1, "partial": 2}
DOCUMENT_AMOUNTS = ("subtotal", "discount", "tax", "total", "payments_total", "payments_pending", "payments_refunds")


def _line_to_v1(line: Any) -> Any:
    if not isinstance(line, Mapping):
        return line
    out = _renamed(line, {"description": "desc"})
    for key in ("price", "units", "discount", "tax", "retention"):
        if key in line:
            out[key] = _amount(line[key])
    return out


def document_to_v1(record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A v2 document (invoice, receipt, order...) -> v1's (`document_number` -> `docNumber`,
    `contact_id` -> `contact`, `description` -> `desc`, days -> unix seconds, amounts -> numbers,
    `status` pending/completed/partial -> 0/1/2, `draft` -> 1/0, `lines[]` -> `products[]` with
    `description` -> `desc` and numeric `price`, `payments_detail[]` -> `paymentsDetail[]`)."""
    names = {"document_number": "docNumber", "contact_id": "contact", "description": "desc", "lines": "products"}
    out = _renamed(record, names)
    for key in ("date", "due_date", "accounting_date"):
        if key in record:
            out[_camel(key)] = _day(record[key], zone)
    for key in DOCUMENT_AMOUNTS:
        if key in record:
            out[_camel(key)] = _amount(record[key])
    status = record.get("status")
    out["status"] = DOCUMENT_STATUS.get(status, status) if isinstance(status, str) else status
    if "draft" in record:
        out["draft"] = _flag(record["draft"])
    if "approved_at" in record:
        out["approvedAt"] = _instant(record["approved_at"])
    out["products"] = [_line_to_v1(line) for line in record.get("lines") or []]
    if isinstance(record.get("payments_detail"), list):
        names = {"payment_id": "paymentId", "treasury_id": "bankId", "description": "desc"}
        out["paymentsDetail"] = [
            {**_renamed(p, names), "date": _day(p.get("date"), zone), "amount": _amount(p.get("amount"))}
            for p in record["payments_detail"]
            if isinstance(p, Mapping)
        ]
    return out


# ------------------------------------------------------------------------ v1 bodies -> v2 bodies


def _snake(name: str) -> str:
    """`postalCode` -> `postal_code`; a name already in snake_case stays as it is."""
    return "".join(f"_{ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))


def _snake_keys(value: Any) -> Any:
    """An object with its keys in snake_case (one level); a non-object as it is."""
    return {_snake(k): v for k, v in value.items()} if isinstance(value, Mapping) else value


def _v2_names(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every field under its v2 name: `names` first (v1 -> v2), else the snake_case of the v1 name."""
    names = names or {}
    return {names.get(key, _snake(key)): value for key, value in body.items()}


def _v2_day(value: Any, zone: ZoneInfo) -> str | None:
    """v1's day (unix seconds of 00:00 in the account's zone) -> `YYYY-MM-DD` there; unset -> None."""
    if value in (None, "", 0):
        return None
    if isinstance(value, str):
        return parse_day(value, zone).isoformat()
    return day_of(int(value), zone)


def _v2_instant(value: Any) -> str | None:
    """v1's instant (unix seconds) -> ISO 8601 UTC; unset -> None."""
    if value in (None, "", 0):
        return None
    if isinstance(value, str):
        return value
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _v2_custom_fields(value: Any) -> list[dict[str, Any]]:
    """Custom fields in v2's documented `[{field, value}]`, from v1's documented or single-key form."""
    out = []
    for item in value or []:
        if isinstance(item, Mapping) and "field" in item:
            out.append({"field": str(item["field"]), "value": item.get("value")})
        elif isinstance(item, Mapping) and len(item) == 1:
            ((name, val),) = item.items()
            out.append({"field": str(name), "value": val})
    return out


def _with_custom_fields(out: dict[str, Any]) -> dict[str, Any]:
    if "custom_fields" in out:
        out["custom_fields"] = _v2_custom_fields(out["custom_fields"])
    return out


def contact_from_v1(body: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """v1's contact write body -> v2's (`isperson` -> `is_person` boolean, `CustomId` -> `custom_id`,
    `billAddress{postalCode}` -> `bill_address{postal_code}`, `socialNetworks.website` -> `website`,
    `contactPersons[]{personId}` -> `contact_persons[]{person_id}`, custom fields documented)."""
    out = _v2_names(body, {"isperson": "is_person", "CustomId": "custom_id"})
    if "is_person" in out:
        out["is_person"] = bool(out["is_person"]) and out["is_person"] not in ("0", "false")
    if "bill_address" in out:
        out["bill_address"] = _snake_keys(out["bill_address"])
    social = out.pop("social_networks", None)
    if isinstance(social, Mapping) and social.get("website"):
        out["website"] = social["website"]
    if isinstance(out.get("contact_persons"), list):
        out["contact_persons"] = [_snake_keys(person) for person in out["contact_persons"]]
    return _with_custom_fields(out)


CONTACT_BODY = ("name", "code", "vat_number", "trade_name", "is_person", "email", "phone", "mobile", "website",
                "type", "bill_address", "custom_fields", "defaults")  # fmt: skip
PERSON_BODY = ("person_id", "name", "job", "phone", "email", "send_documents_by_default")


def contact_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """A v2 contact as read -> the whole `PUT /contacts/{id}` body that keeps it as it is (the contacts
    spec's body, `contact_persons[]` with their `person_id` so each person is kept)."""
    out = {key: record.get(key) for key in CONTACT_BODY if key in record}
    persons = record.get("contact_persons")
    if isinstance(persons, list):
        out["contact_persons"] = [
            {key: p.get(key) for key in PERSON_BODY if key in p} for p in persons if isinstance(p, Mapping)
        ]
    return out


ITEM_NAMES = {"desc": "description", "subtotal": "price"}  # v1 `items[]` call the unit price `subtotal`


def document_from_v1(body: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """v1's document write body -> v2's (`contactId` -> `contact_id`, `desc` -> `description`, days ->
    `YYYY-MM-DD`, `items[]` with `price`, `description` and their `line_id`; `invoiceNum` is not sent:
    v2 numbers a document when it is approved; custom fields documented)."""
    out = _v2_names({k: v for k, v in body.items() if k != "invoiceNum"}, {"desc": "description"})
    for key in ("date", "due_date"):
        if key in out:
            out[key] = _v2_day(out[key], zone)
    if isinstance(out.get("items"), list):
        out["items"] = [_v2_names(item, ITEM_NAMES) for item in out["items"] if isinstance(item, Mapping)]
    return _with_custom_fields(out)


DOCUMENT_BODY = (
    "contact_id", "description", "date", "due_date", "notes", "language", "currency", "currency_change", "tags",
    "custom_fields", "number_line_id", "warehouse_id", "project_id",
)  # fmt: skip
LINE_BODY = ("line_id", "name", "description", "price", "units", "discount", "tax", "taxes", "sku", "retention",
             "product_id", "service_id", "account")  # fmt: skip


def document_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """A v2 document as read -> the whole `PUT /invoices/{id}` body that keeps it as it is: its fields and
    its `lines` sent back as `items` with their `line_id` (amounts as numbers)."""
    out = {key: record.get(key) for key in DOCUMENT_BODY if record.get(key) is not None}
    items = []
    for line in record.get("lines") or []:
        if isinstance(line, Mapping):
            item = {key: line.get(key) for key in LINE_BODY if line.get(key) is not None}
            for key in ("price", "units", "discount", "tax", "retention"):
                if key in item:
                    item[key] = _amount(item[key])
            items.append(item)
    out["items"] = items
    return out


def funnel_from_v1(body: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """v1's funnel write body -> v2's (`stages[]{stageId, desc}` -> `stages[]{id, description}`)."""
    out = _v2_names(body)
    if isinstance(out.get("stages"), list):
        names = {"stageId": "id", "desc": "description"}
        out["stages"] = [_v2_names(stage, names) for stage in out["stages"] if isinstance(stage, Mapping)]
    return out


def lead_from_v1(body: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """v1's lead write body -> v2's (`funnelId`, `contactId`, `stageId` -> `funnel_id`, `contact_id`,
    `stage_id`; day `dueDate` -> `due_date`; custom fields documented)."""
    out = _v2_names(body)
    if "due_date" in out:
        out["due_date"] = _v2_day(out["due_date"], zone)
    return _with_custom_fields(out)


def event_from_v1(body: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """v1's CRM event write body -> v2's (`desc` -> `description`, `locationDesc` -> `location`, instant
    `startDate` -> `start_date` ISO 8601, `duration` in seconds as it is)."""
    out = _v2_names(body, {"desc": "description", "locationDesc": "location", "startDate": "start_date"})
    if "start_date" in out:
        out["start_date"] = _v2_instant(out["start_date"])
    return out


def project_from_v1(body: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """v1's project write body -> v2's (`desc` -> `description`, days `date`/`dueDate` -> `start_date`/
    `due_date`)."""
    out = _v2_names(body, {"desc": "description", "date": "start_date"})
    for key in ("start_date", "due_date"):
        if key in out:
            out[key] = _v2_day(out[key], zone)
    return out


def employee_from_v1(body: Mapping[str, Any], _zone: ZoneInfo) -> dict[str, Any]:
    """v1's employee write body -> v2's (`lastName` -> `last_name`, `teams` -> `team_ids`, `workplace` ->
    `workplace_id`)."""
    return _v2_names(body, {"teams": "team_ids", "workplace": "workplace_id"})


def _r(name: str, path: str, permission: str | None, page_size: int | None = 100, **kw: object) -> Resource:
    area = permission.split(":", 1)[0] if permission else "v2"
    pagination = kw.pop("pagination", "cursor")
    if kw.get("dated") or kw.get("needs_range"):
        kw.setdefault("date_range", DAY_RANGE)  # `start_date`/`end_date` as days (README "Transport")
    if kw.get("cursor"):
        kw.setdefault("cursor_format", "date-time")  # `updated_at` is an ISO 8601 date-time (README "Shapes")
    return Resource(
        name, f"/v2{path}", permission=permission, module=area, pagination=pagination, page_size=page_size, **kw
    )  # type: ignore[arg-type]


def _doc(name: str, path: str, permission: str | None) -> Resource:
    return _r(name, path, permission, dated=True, to_v1=document_to_v1, lists=(("products", "lines"),))


V2 = table(
    "v2",
    _r(
        "contacts",
        "/contacts",
        "contacts:contacts",
        cursor="updated_at",
        to_v1=contact_to_v1,
        lists=(("contactPersons", "contact_persons"),),
        from_v1=contact_from_v1,
        replace=contact_body,
        filters=(("customId", "custom_id"),),
        unwritable=("tags",),
    ),
    _r("contact_groups", "/contact-groups", "contacts:contacts"),
    _r("products", "/products", "inventory:products"),
    _r("services", "/services", "sales:services"),
    _r("warehouses", "/warehouses", "inventory:warehouses", page_size=None, pagination="none"),
    _r("taxes", "/taxes", "accounting:taxes", primary_key=("key",)),
    _r("treasuries", "/treasury/accounts", "accounting:banks"),
    _r("expense_accounts", "/expenses-accounts", None),
    _r("sales_channels", "/sales-channels", None),
    _r("payments", "/payments", "accounting:payments", dated=True),
    _r("payment_methods", "/payment-methods", None),
    _r("remittances", "/treasury/remittances", None),
    _r(
        "invoices",
        "/invoices",
        "sales:invoices",
        dated=True,
        to_v1=document_to_v1,
        lists=(("products", "lines"),),
        from_v1=document_from_v1,
        replace=document_body,
        approve="approve",
    ),
    _doc("sales_receipts", "/sales-receipts", "sales:receipts"),
    _doc("credit_notes", "/credit-notes", None),
    _doc("receipt_notes", "/receipt-notes", None),
    _doc("sales_orders", "/sales-orders", "sales:orders"),
    _doc("proformas", "/proformas", "sales:proforms"),
    _doc("waybills", "/waybills", None),
    _doc("estimates", "/estimates", "sales:estimates"),
    _doc("purchases", "/purchases", "accounting:purchases"),
    _doc("purchase_orders", "/purchase-orders", None),
    _r(
        "funnels",
        "/funnels",
        "crm:funnels",
        page_size=200,
        cursor="updated_at",
        to_v1=funnel_to_v1,
        from_v1=funnel_from_v1,
        unwritable=("customFields",),
    ),
    _r(
        "leads",
        "/leads",
        "crm:deals",
        page_size=200,
        cursor="updated_at",
        to_v1=lead_to_v1,
        from_v1=lead_from_v1,
        routes=(("stageId", "stage"),),
        unwritable=("status",),
    ),
    _r(
        "crm_events",
        "/events",
        "crm:events",
        page_size=200,
        cursor="updated_at",
        to_v1=event_to_v1,
        from_v1=event_from_v1,
    ),
    _r("booking_locations", "/booking-locations", None),
    _r("bookings", "/bookings", None),
    _r("projects", "/projects", "projects:projects", to_v1=project_to_v1, from_v1=project_from_v1),
    _r("project_tasks", "/tasks", "projects:projects", cursor="updated_at"),
    _r("project_times", "/project-times", "projects:projects"),
    _r("employees", "/employees", "team:employees", page_size=200, to_v1=employee_to_v1, from_v1=employee_from_v1),
    _r("employee_times", "/employee-times", None),
    _r("chart_of_accounts", "/accounting-accounts", "accounting:chart-of-accounts"),
    _r("daily_ledger", "/ledger-entries", "accounting:daily-ledger", needs_range=True, by_id=False),
)
