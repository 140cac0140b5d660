"""Domain rules shared by the seeder and the routes: documents, totals, taxes, custom fields."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any
from zoneinfo import ZoneInfo

from .fakedata import money
from .store import Record, content_hash, object_id

# Seeded data lives before this instant (2025-01-15 10:00 UTC); `now` is used only for API writes.
SEED_NOW = 1_736_935_200
SEED_START = 1_672_531_200  # 2023-01-01

DOC_TYPES = [
    "invoice",
    "salesreceipt",
    "creditnote",
    "receiptnote",
    "salesorder",
    "proform",
    "waybill",
    "estimate",
    "purchase",
    "purchaseorder",
    "purchaserefund",
]
PURCHASE_TYPES = {"purchase", "purchaseorder", "purchaserefund"}
# Default numbering series per docType: [YY] is the two-digit year, each % one digit of the counter.
SERIES_FORMATS = {
    "invoice": ("Facturas", "F[YY]%%%%"),
    "salesreceipt": ("Tickets", "T[YY]%%%%"),
    "creditnote": ("Rectificativas", "R[YY]%%%%"),
    "receiptnote": ("Devoluciones ticket", "RT[YY]%%%"),
    "salesorder": ("Pedidos", "PV[YY]%%%%"),
    "proform": ("Proformas", "PRO[YY]%%%"),
    "waybill": ("Albaranes", "ALB[YY]%%%%"),
    "estimate": ("Presupuestos", "P[YY]%%%%"),
    "purchase": ("Compras", "C[YY]%%%%"),
    "purchaseorder": ("Pedidos a proveedor", "PC[YY]%%%%"),
    "purchaserefund": ("Devoluciones de compra", "DC[YY]%%%"),
}

# GET /taxes: amounts are strings, as Holded serves them.
TAXES: list[dict[str, str]] = [
    {"name": "IVA 21%", "amount": "21", "scope": "sales", "key": "s_iva_21", "group": "iva", "type": "percentage"},
    {"name": "IVA 10%", "amount": "10", "scope": "sales", "key": "s_iva_10", "group": "iva", "type": "percentage"},
    {"name": "IVA 4%", "amount": "4", "scope": "sales", "key": "s_iva_4", "group": "iva", "type": "percentage"},
    {"name": "IVA 0%", "amount": "0", "scope": "sales", "key": "s_iva_0", "group": "iva", "type": "percentage"},
    {"name": "Exento", "amount": "0", "scope": "sales", "key": "s_exento", "group": "iva", "type": "percentage"},
    {"name": "IVA 21%", "amount": "21", "scope": "purchases", "key": "p_iva_21", "group": "iva", "type": "percentage"},
    {"name": "IVA 10%", "amount": "10", "scope": "purchases", "key": "p_iva_10", "group": "iva", "type": "percentage"},
    {"name": "IVA 4%", "amount": "4", "scope": "purchases", "key": "p_iva_4", "group": "iva", "type": "percentage"},
    {"name": "IVA 0%", "amount": "0", "scope": "purchases", "key": "p_iva_0", "group": "iva", "type": "percentage"},
    {
        "name": "IRPF 15%",
        "amount": "-15",
        "scope": "sales",
        "key": "s_ret_15",
        "group": "retention",
        "type": "percentage",
    },
    {"name": "IRPF 7%", "amount": "-7", "scope": "sales", "key": "s_ret_7", "group": "retention", "type": "percentage"},
    {
        "name": "IRPF 19%",
        "amount": "-19",
        "scope": "sales",
        "key": "s_ret_19",
        "group": "retention",
        "type": "percentage",
    },
    {
        "name": "IRPF 15%",
        "amount": "-15",
        "scope": "purchases",
        "key": "p_ret_15",
        "group": "retention",
        "type": "percentage",
    },
    {
        "name": "IRPF 7%",
        "amount": "-7",
        "scope": "purchases",
        "key": "p_ret_7",
        "group": "retention",
        "type": "percentage",
    },
    {
        "name": "IRPF 19%",
        "amount": "-19",
        "scope": "purchases",
        "key": "p_ret_19",
        "group": "retention",
        "type": "percentage",
    },
    {
        "name": "Recargo de equivalencia 5,2%",
        "amount": "5.2",
        "scope": "sales",
        "key": "s_rec_52",
        "group": "rec",
        "type": "percentage",
    },
    {
        "name": "Recargo de equivalencia 1,4%",
        "amount": "1.4",
        "scope": "sales",
        "key": "s_rec_14",
        "group": "rec",
        "type": "percentage",
    },
]
_TAX_BY_KEY = {t["key"]: t for t in TAXES}


# The account's time zone. Holded keeps calendar days (a document's `date` and `dueDate`, a payment's
# `date`, a lead's `dueDate`, a project's `date` and `dueDate`, a task's `dueDate`) as unix seconds of
# 00:00 of the day there: 1 January 2024 is 1704063600, still 31 December in UTC
# (shared/holded-api/README.md: Calendar dates are midnight in Madrid).
ACCOUNT_ZONE = ZoneInfo("Europe/Madrid")


def now() -> int:
    return int(time.time())


def day_start(ts: int) -> int:
    """00:00 in Madrid of the day `ts` falls on there: how Holded stores a calendar day.

    Args:
        ts: unix seconds, any time of the day.

    Returns:
        Unix seconds of that Madrid day's midnight (1704063600 for any instant of 1 January 2024 there).
    """
    day = dt.datetime.fromtimestamp(ts, ACCOUNT_ZONE).date()
    return int(dt.datetime.combine(day, dt.time(0), ACCOUNT_ZONE).timestamp())


def add_days(ts: int, days: int) -> int:
    """Midnight in Madrid `days` calendar days after the day of `ts` (not `days * 86400` seconds later,
    which lands on 23:00 or 01:00 across a daylight-saving change)."""
    day = dt.datetime.fromtimestamp(ts, ACCOUNT_ZONE).date() + dt.timedelta(days=days)
    return int(dt.datetime.combine(day, dt.time(0), ACCOUNT_ZONE).timestamp())


def day_year(ts: int) -> int:
    """The year of the Madrid day `ts` falls on: a document's fiscal year (numbering counts per year)."""
    return dt.datetime.fromtimestamp(ts, ACCOUNT_ZONE).year


def today() -> int:
    """Today as Holded stores a day: 00:00 in Madrid."""
    return day_start(now())


def to01(value: Any) -> int:
    """Holded reads booleans back as 0/1."""
    if isinstance(value, str):
        return 1 if value.strip().lower() in ("1", "true", "yes") else 0
    return 1 if value else 0


def num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def intish(value: float) -> int | float:
    """Serve whole numbers as integers (units 3, not 3.0), like Holded's JSON does."""
    return int(value) if float(value).is_integer() else value


def stamp(record: Record, ts: int) -> Record:
    """Set updatedAt and a fresh updatedHash (contacts, leads)."""
    record["updatedAt"] = ts
    record["updatedHash"] = content_hash(record)
    return record


def object_entries_custom_fields(raw: Any) -> list[dict[str, Any]]:
    """How Holded stores customFields on contact create/update and document create.

    Each entry's own properties become rows: the documented `{"field": n, "value": v}` is split
    in two (`{"field": "field", "value": n}`, `{"field": "value", "value": v}`), while a
    single-key `{n: v}` round-trips as `{"field": n, "value": v}`.
    """
    rows: list[dict[str, Any]] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict):
            rows.extend({"field": str(k), "value": v} for k, v in entry.items())
    return rows


def documented_custom_fields(raw: Any) -> list[dict[str, Any]]:
    """Endpoints that honour the documented `[{field, value}]` shape (document update, leads)."""
    rows: list[dict[str, Any]] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict) and "field" in entry:
            rows.append({"field": str(entry["field"]), "value": entry.get("value", "")})
        elif isinstance(entry, dict) and len(entry) == 1:
            ((key, value),) = entry.items()
            rows.append({"field": str(key), "value": value})
    return rows


def format_number(fmt: str, counter: int, year: int) -> str:
    """'F[YY]%%%%' with counter 7 in 2024 -> 'F240007'."""
    out = fmt.replace("[YYYY]", f"{year:04d}").replace("[YY]", f"{year % 100:02d}")
    width = out.count("%")
    if width:
        out = out.replace("%" * width, f"{counter:0{width}d}", 1).replace("%", "")
    else:
        out += str(counter)
    return out


def line_from_item(item: dict[str, Any], products_by_sku: dict[str, Record], purchase: bool) -> dict[str, Any]:
    """A document line as read back (`products[]`) from a write item (`items[]`)."""
    taxes = [str(t) for t in item.get("taxes") or [] if str(t)]
    tax = item.get("tax")
    retention = item.get("retention", 0)
    for key in taxes:  # tax keys such as "s_iva_10" / "p_ret_15" fill what was not given explicitly
        known = _TAX_BY_KEY.get(key)
        if known and known["group"] == "iva" and tax is None:
            tax = num(known["amount"])
        if known and known["group"] == "retention" and not retention:
            retention = -num(known["amount"])
    sku = str(item.get("sku") or "")
    product = products_by_sku.get(sku) if sku else None
    tax_value = num(tax, 21.0) if tax is not None else (num(product.get("tax"), 21.0) if product else 21.0)
    if not taxes:
        prefix = "p" if purchase else "s"
        taxes = [f"{prefix}_iva_{intish(tax_value)}"]
        if retention:
            taxes.append(f"{prefix}_ret_{intish(num(retention))}")
    return {
        "name": str(item.get("name") or (product or {}).get("name", "")),
        "desc": str(item.get("desc") or ""),
        "price": money(num(item.get("subtotal", item.get("price", 0)))),
        "units": intish(num(item.get("units"), 1.0)),
        "tax": intish(tax_value),
        "taxes": taxes,
        "discount": intish(num(item.get("discount"))),
        "retention": intish(num(retention)),
        "weight": intish(num(item.get("weight"), num((product or {}).get("weight")))),
        "costPrice": money(num(item.get("costPrice"), num((product or {}).get("cost")))),
        "sku": sku,
        "productId": str(item.get("productId") or (product or {}).get("id", "")),
        "_lineId": object_id(),  # internal: v1 never shows it; API v2 serves it as `line_id`
    }


def seeded_line_id(doc_id: str, index: int) -> str:
    """A stable id for line `index` of a document (its `_lineId`, served by API v2 as `line_id`) that
    does not draw from the seed's random stream: the document's creation second, then a hash."""
    return doc_id[:8] + hashlib.md5(f"{doc_id}:{index}".encode()).hexdigest()[:16]


def compute_totals(doc: Record) -> Record:
    """subtotal/tax/total from the lines, then the payment fields (2 decimals, like Holded)."""
    subtotal = tax = retention = 0.0
    for line in doc["products"]:
        base = num(line["price"]) * num(line["units"]) * (1 - num(line["discount"]) / 100)
        subtotal += base
        tax += base * num(line["tax"]) / 100
        retention += base * num(line.get("retention")) / 100
    doc["subtotal"] = money(subtotal)
    doc["tax"] = money(tax)
    doc["total"] = money(subtotal + tax - retention)
    return refresh_payments(doc)


def refresh_payments(doc: Record) -> Record:
    """paymentsTotal/paymentsPending and status (0 unpaid, 1 paid, 2 partial) follow payments."""
    paid = money(sum(num(p["amount"]) for p in doc.get("paymentsDetail", [])))
    doc["paymentsTotal"] = intish(paid)
    doc["paymentsPending"] = money(doc["total"] - paid)
    if "_storedStatus" in doc:  # an imported document's badge, never recomputed (the `imported_status` switch)
        doc["status"] = doc["_storedStatus"]
    elif abs(paid) < 0.005:
        doc["status"] = 0
    elif abs(doc["paymentsPending"]) < 0.005:
        doc["status"] = 1
    else:
        doc["status"] = 2
    return doc


def blank_employee() -> dict[str, Any]:
    """Every field a team employee carries, empty: what a create starts from and the seed fills in."""
    return {
        "name": "",
        "lastName": "",
        "mainEmail": "",
        "email": "",
        "title": "",
        "code": "",
        "socialSecurityNum": "",
        "nationality": "",
        "phone": "",
        "mobile": "",
        "dateOfBirth": "",
        "gender": "",
        "mainLanguage": "es",
        "iban": "",
        "address": {"address": "", "city": "", "postalCode": "", "province": "", "country": ""},
        "fiscalResidence": True,
        "fiscalAddress": {
            "idNum": "",
            "address": "",
            "city": "",
            "cityOfBirth": "",
            "postalCode": "",
            "province": "",
            "country": "",
            "countryOfBirth": "",
            "deadLine": "",
        },
        "workplace": "",
        "teams": [],
        "holdedUserId": "",
        "reportingTo": "",
        "timeOffPolicyId": "",
        "timeOffSupervisors": [],
    }
