"""Accounting module: a daily ledger derived from documents and payments, plus the PGC chart of accounts."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from ..catalog import PGC_GROUPS
from ..fakedata import money
from ..model import PURCHASE_TYPES, num
from ..routing import Request, Response, Router, fail, json_response
from ..store import Record, dumps, object_id
from .crud import PAGE_SIZE, integer, text

if TYPE_CHECKING:
    from ..server import App

# (timestamp, entry key, type, description, docDescription, account, debit, credit, tags)
Line = tuple[int, str, str, str, str, int, float, float, tuple[str, ...]]
POSTED_TYPES = ("invoice", "salesreceipt", "creditnote", "receiptnote", "purchase", "purchaserefund")
SALES_ACCOUNT, SERVICES_ACCOUNT, VAT_OUT, VAT_IN = 70000000, 70500000, 47700000, 47200000
RETENTION_SUFFERED, RETENTION_HELD = 47300000, 47510000
CLIENTS, SUPPLIERS, PURCHASES = 43000000, 40000000, 60000000


def _dc(amount: float) -> tuple[float, float]:
    """A signed amount as (debit, credit): refunds (negative totals) swap sides."""
    amount = money(amount)
    return (amount, 0.0) if amount >= 0 else (0.0, -amount)


def _party_account(contact: Record | None, purchase: bool) -> int:
    record = (contact or {}).get("supplierRecord" if purchase else "clientRecord")
    return record["num"] if isinstance(record, dict) else (SUPPLIERS if purchase else CLIENTS)


def build_ledger(app: App) -> list[Line]:
    """Every approved document posts an entry; every payment posts one more (ordered by date)."""
    store = app.store
    contacts = store.coll("contacts").records
    banks = {t["id"]: t["accountNumber"] for t in store.all("treasury")}
    lines: list[Line] = []
    for doc_type in POSTED_TYPES:
        purchase = doc_type in PURCHASE_TYPES
        for doc in store.all(doc_type):
            if doc["draft"]:
                continue
            key, when, number = f"{doc_type}:{doc['id']}", doc["date"], doc["docNumber"]
            desc = f"{'Factura proveedor' if purchase else 'Factura'} {number} - {doc['contactName']}"
            party = _party_account(contacts.get(doc["contact"]), purchase)
            base_account = (
                PURCHASES
                if purchase
                else (SALES_ACCOUNT if any(p["productId"] for p in doc["products"]) else SERVICES_ACCOUNT)
            )
            retention = money(doc["subtotal"] + doc["tax"] - doc["total"])
            if purchase:
                rows = [
                    (base_account, doc["subtotal"]),
                    (VAT_IN, doc["tax"]),
                    (party, -doc["total"]),
                    (RETENTION_HELD, -retention),
                ]
            else:
                rows = [
                    (party, doc["total"]),
                    (RETENTION_SUFFERED, retention),
                    (base_account, -doc["subtotal"]),
                    (VAT_OUT, -doc["tax"]),
                ]
            for account, signed in rows:
                if abs(signed) >= 0.005:
                    lines.append((when, key, doc_type, desc, number, account, *_dc(signed), ()))
            for payment in doc["paymentsDetail"]:
                pkey = f"payment:{payment['paymentId']}"
                bank = banks.get(payment["bankId"], 57000001)
                sign = -1 if purchase else 1
                pdesc = f"{'Pago' if purchase else 'Cobro'} {number} - {doc['contactName']}"
                for account, signed in ((bank, sign * payment["amount"]), (party, -sign * payment["amount"])):
                    lines.append((payment["date"], pkey, "payment", pdesc, number, account, *_dc(signed), ()))
    for entry in store.all("entries"):
        for row in entry["lines"]:
            lines.append(
                (
                    entry["date"],
                    f"entry:{entry['id']}",
                    "entry",
                    row["description"],
                    entry["notes"],
                    row["account"],
                    row["debit"],
                    row["credit"],
                    tuple(row["tags"]),
                )
            )
    lines.sort(key=lambda line: (line[0], line[1]))
    return lines


def ledger(app: App) -> list[Line]:
    return numbered_ledger(app)[0]


def numbered_ledger(app: App) -> tuple[list[Line], list[int], list[tuple[int, int]]]:
    """(lines by date, their timestamps for bisecting, (entryNumber, line) of each), cached until a write."""

    def build() -> tuple[list[Line], list[int], list[tuple[int, int]]]:
        lines = build_ledger(app)
        entries: dict[str, int] = {}
        positions: dict[str, int] = {}
        numbers = []
        for line in lines:  # entry numbers count over the whole ledger, not the selected range
            positions[line[1]] = positions.get(line[1], 0) + 1
            numbers.append((entries.setdefault(line[1], len(entries) + 1), positions[line[1]]))
        return lines, [line[0] for line in lines], numbers

    return app.derived("ledger", build)


def _in_range(lines: list[Line], start: float | None, end: float | None) -> list[Line]:
    """Ledger lines in `[starttmp, endtmp)`, as Holded's ledger filters behave (shared/holded-api/README.md)."""
    return [line for line in lines if (start is None or line[0] >= start) and (end is None or line[0] < end)]


def daily_ledger(app: App, req: Request) -> Response:
    start, end = req.query.get("starttmp"), req.query.get("endtmp")
    if not start or not end:
        return fail("Query params starttmp & endtmp are mandatory")  # what the live API answers
    lines, stamps, numbers = numbered_ledger(app)
    low, high = bisect.bisect_left(stamps, num(start)), bisect.bisect_left(stamps, num(end))  # [starttmp, endtmp)
    first = low + (req.page() - 1) * PAGE_SIZE
    page = [
        {
            "entryNumber": number,
            "line": position,
            "timestamp": line[0],
            "type": line[2],
            "description": line[3],
            "docDescription": line[4],
            "account": line[5],
            "debit": line[6],
            "credit": line[7],
            "tags": list(line[8]),
            "checked": "no",
        }
        for (number, position), line in zip(
            numbers[first : min(high, first + PAGE_SIZE)], lines[first : min(high, first + PAGE_SIZE)], strict=True
        )
    ]
    return json_response(page)


def create_entry(app: App, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    if not body.get("date"):
        return fail("date needed")
    lines = body.get("lines")
    if (
        not isinstance(lines, list)
        or len(lines) < 2
        or not all(isinstance(x, dict) and x.get("account") for x in lines)
    ):
        return fail("lines needed: at least two lines with an account")
    rows = [
        {
            "account": integer(x["account"]),
            "debit": money(num(x.get("debit"))),
            "credit": money(num(x.get("credit"))),
            "description": text(x.get("description")),
            "tags": [str(t) for t in x.get("tags") or []],
        }
        for x in lines
    ]
    if abs(sum(r["debit"] for r in rows) - sum(r["credit"] for r in rows)) >= 0.005:
        return fail("The entry is not balanced: debit and credit totals differ")
    entry = {"id": object_id(), "date": integer(body["date"]), "notes": text(body.get("notes")), "lines": rows}
    app.store.save("entries", entry)
    resp = json_response({"entryGroupId": entry["id"]})
    resp.created = True
    return resp


def chart_of_accounts(app: App, req: Request) -> Response:
    start, end = req.query.get("starttmp"), req.query.get("endtmp")
    include_empty = req.query.get("includeEmpty", "0") == "1"
    totals: dict[int, list[float]] = {}
    for line in _in_range(ledger(app), num(start) if start else None, num(end) if end else None):
        pair = totals.setdefault(line[5], [0.0, 0.0])
        pair[0] += line[6]
        pair[1] += line[7]
    out = []
    for account in app.store.all("accounts"):
        debit, credit = totals.get(account["num"], (0.0, 0.0))
        if not include_empty and not debit and not credit:
            continue
        out.append(
            {
                "id": account["id"],
                "color": account["color"],
                "num": account["num"],
                "name": account["name"],
                "group": account["group"],
                "debit": money(debit),
                "credit": money(credit),
                "balance": money(debit - credit),
            }
        )
    first = (req.page() - 1) * PAGE_SIZE
    return Response(200, dumps(out[first : first + PAGE_SIZE]))


def create_account(app: App, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    prefix = text(body.get("prefix"))
    if not prefix.isdigit() or not 1 <= len(prefix) <= 7:
        return fail("prefix needed")
    base = int(prefix.ljust(8, "0"))
    used = {a["num"] for a in app.store.all("accounts")}
    number = next(n for n in range(base + 1, base + 10 ** (8 - len(prefix))) if n not in used)
    parent = max((a for a in app.store.all("accounts") if a["num"] <= base), key=lambda a: a["num"], default=None)
    account = {
        "id": object_id(),
        "color": text(body.get("color")),
        "num": number,
        "name": text(body.get("name")) or (parent["name"] if parent else prefix),
        "group": PGC_GROUPS.get(prefix[0], ""),
    }
    app.store.save("accounts", account)
    resp = json_response({"accountId": account["id"]})
    resp.created = True
    return resp


def register_routes(router: Router) -> None:
    router.add("GET", "/accounting/v1/dailyledger", daily_ledger)
    router.add("POST", "/accounting/v1/entry", create_entry)
    router.add("GET", "/accounting/v1/chartofaccounts", chart_of_accounts)
    router.add("POST", "/accounting/v1/account", create_account)
