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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.dates import midnight, parse_day
from holded_core.dialects import Resource, table
from holded_core.listing import DAY_RANGE

# ------------------------------------------------------------------------- v2 -> v1 records


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_keys(value: Any) -> Any:
    """An object with its keys in camelCase (one level); a non-object as it is."""
    return {_camel(k): v for k, v in value.items()} if isinstance(value, Mapping) else value


def _renamed(record: Mapping[str, Any], names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every field under its v1 name: `names` first (v2 -> v1), else the camelCase of the v2 name."""
    names = names or {}
    return {names.get(key, _camel(key)): value for key, value in record.items()}


def _day(value: Any, zone: ZoneInfo) -> int:
    """A v2 day (`YYYY-MM-DD`) -> v1's unix seconds of 00:00 of it in the account's zone; unset -> 0."""
    if value in (None, ""):
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return midnight(parse_day(value, zone), zone)


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
    return _r(name, path, permission, dated=True, to_v1=document_to_v1)


V2 = table(
    "v2",
    _r("contacts", "/contacts", "contacts:contacts", cursor="updated_at", to_v1=contact_to_v1),
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
    _doc("invoices", "/invoices", "sales:invoices"),
    _doc("sales_receipts", "/sales-receipts", "sales:receipts"),
    _doc("credit_notes", "/credit-notes", None),
    _doc("receipt_notes", "/receipt-notes", None),
    _doc("sales_orders", "/sales-orders", "sales:orders"),
    _doc("proformas", "/proformas", "sales:proforms"),
    _doc("waybills", "/waybills", None),
    _doc("estimates", "/estimates", "sales:estimates"),
    _doc("purchases", "/purchases", "accounting:purchases"),
    _doc("purchase_orders", "/purchase-orders", None),
    _r("funnels", "/funnels", "crm:funnels", page_size=200, cursor="updated_at", to_v1=funnel_to_v1),
    _r("leads", "/leads", "crm:deals", page_size=200, cursor="updated_at", to_v1=lead_to_v1),
    _r("crm_events", "/events", "crm:events", page_size=200, cursor="updated_at", to_v1=event_to_v1),
    _r("booking_locations", "/booking-locations", None),
    _r("bookings", "/bookings", None),
    _r("projects", "/projects", "projects:projects", to_v1=project_to_v1),
    _r("project_tasks", "/tasks", "projects:projects", cursor="updated_at"),
    _r("project_times", "/project-times", "projects:projects"),
    _r("employees", "/employees", "team:employees", page_size=200, to_v1=employee_to_v1),
    _r("employee_times", "/employee-times", None),
    _r("chart_of_accounts", "/accounting-accounts", "accounting:chart-of-accounts"),
    _r("daily_ledger", "/ledger-entries", "accounting:daily-ledger", needs_range=True, by_id=False),
)
