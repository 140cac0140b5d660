"""Deterministic seed data: a Spanish IT supplies and services SME, scaled by `scale`.

Everything derives from `random.Random(seed)` and fixed dates (before `SEED_NOW`), generated in a
fixed order, so the same (seed, scale) always yields byte-identical data. References always point
at records that exist: leads -> funnels/stages/contacts/users, documents -> contacts/products.
"""

from __future__ import annotations

import random
from typing import Any

from . import catalog as cat
from . import fakedata as fk
from .model import (
    DOC_TYPES,
    PURCHASE_TYPES,
    SEED_NOW,
    SEED_START,
    SERIES_FORMATS,
    TAXES,
    add_days,
    blank_employee,
    compute_totals,
    day_start,
    day_year,
    format_number,
    intish,
    refresh_payments,
    seeded_line_id,
    stamp,
)
from .store import Record, Store, content_hash, object_id

DAY = 86_400
# Documents per docType at scale 1.
DOC_COUNTS = {
    "invoice": 2000,
    "salesreceipt": 150,
    "creditnote": 60,
    "receiptnote": 12,
    "salesorder": 120,
    "proform": 40,
    "waybill": 80,
    "estimate": 250,
    "purchase": 500,
    "purchaseorder": 60,
    "purchaserefund": 15,
}
REFUND_TYPES = {"creditnote", "receiptnote", "purchaserefund"}
PAYABLE_TYPES = {"invoice", "salesreceipt", "creditnote", "receiptnote", "purchase", "purchaserefund"}
BILLABLE_TYPES = {"estimate", "salesorder", "proform", "waybill", "purchaseorder"}
# Collections `fill` can regenerate, mapped to generator method names.
KINDS = fk.table(["client", "supplier", "creditor", "debtor", "lead"], [70, 14, 4, 2, 10])
LINE_COUNTS = fk.table(list(range(1, 9)), [30, 25, 15, 10, 8, 6, 4, 2])
UNITS = fk.table([1, 2, 3, 4, 5, 10, 20], [40, 20, 12, 8, 8, 8, 4])
DISCOUNTS = fk.table([0, 5, 10, 15, 20], [80, 8, 7, 3, 2])
FILLABLE = {
    "contacts": "gen_contacts",
    "products": "gen_products",
    "services": "gen_services",
    "leads": "gen_leads",
    "events": "gen_events",
    "employees": "gen_employees",
    "projects": "gen_projects",
    "tasks": "gen_tasks",
    "payments": "gen_payments",
    "bookings": "gen_bookings",
    "employeetimes": "gen_employee_times",
    **{doc_type: "gen_documents" for doc_type in DOC_TYPES},
}


class Seeder:
    def __init__(self, store: Store, seed: int = 1, scale: float = 1.0) -> None:
        self.store = store
        self.seed = seed
        self.scale = float(scale)
        self.rng = random.Random(seed)
        self._customid = 0
        self._records = {"client": 0, "supplier": 0}

    # --- helpers --------------------------------------------------------------------------

    def n(self, base: int, minimum: int = 2) -> int:
        return max(minimum, round(base * self.scale))

    def oid(self, ts: int) -> str:
        return object_id(ts, self.rng)

    def when(self, start: int = SEED_START, end: int = SEED_NOW - DAY) -> int:
        return self.rng.randint(start, end)

    def ids(self, name: str) -> list[str]:
        return list(self.store.coll(name).records)

    def save_all(self, name: str, records: list[Record]) -> list[Record]:
        records.sort(key=lambda r: r["id"])  # ids start with the creation time: insertion = creation order
        for record in records:
            self.store.save(name, record)
        return records

    def user_ids(self) -> list[str]:
        return [e["holdedUserId"] for e in self.store.all("employees") if e["holdedUserId"]] or [""]

    # --- whole dataset --------------------------------------------------------------------

    def run(self) -> Store:
        self.store.clear()
        self.gen_catalogs()
        self.gen_employees(self.n(40, 3))
        self.gen_contacts(self.n(1000, 12))
        self.gen_products(self.n(100, 4))
        self.gen_services(self.n(50, 3))
        for doc_type in DOC_TYPES:
            self.gen_documents(self.n(DOC_COUNTS[doc_type], 2), doc_type)
        self.gen_remittances(self.n(8, 2))
        self.gen_funnels()
        self.gen_leads(self.n(300, 6))
        self.gen_events(self.n(400, 6))
        self.gen_bookings(self.n(60, 2))
        self.gen_projects(self.n(30, 2))
        self.gen_employee_times(self.n(400, 4))
        self.gen_accounts()
        return self.store

    def fill(self, collection: str, count: int) -> None:
        """Replace one collection with `count` fresh records (references point at current data)."""
        method = FILLABLE.get(collection)
        if method is None:
            raise KeyError(collection)
        self.store.replace_all(collection, [])
        if method == "gen_documents":
            self.gen_documents(count, collection)
        elif method == "gen_payments":
            self.gen_payments(count)
        else:
            getattr(self, method)(count)

    # --- catalogs -------------------------------------------------------------------------

    def gen_catalogs(self) -> None:
        base = SEED_START - 200 * DAY
        save = self.store.save
        for name, desc, color in cat.CONTACT_GROUPS:
            save("contactgroups", {"id": self.oid(base), "name": name, "desc": desc, "color": color})
        for index, (name, city) in enumerate(
            [("Almacén central", 0), ("Almacén Barcelona", 1), ("Tienda Valencia", 2)]
        ):
            province = ["Madrid", "Barcelona", "Valencia"][city]
            addr = {k: v for k, v in fk.address(self.rng).items() if k != "province"}
            addr.update(city=["Madrid", "Barcelona", "Valencia"][city], province=province)
            addr["postalCode"] = ["28", "08", "46"][city] + addr["postalCode"][2:]
            save(
                "warehouses",
                {
                    "id": self.oid(base + index),
                    "userId": "",
                    "name": name,
                    "email": f"{fk.slug(name, '.')}@tecnoiberica.es",
                    "phone": fk.landline(self.rng, fk.phone_prefix(province)),
                    "mobile": fk.mobile(self.rng),
                    "address": addr,
                    "default": index == 0,
                    "warehouseRecord": 30000001 + index,
                },
            )
        balances = [48250.37, 12980.12, -3500.0, 640.55]
        for index, (bank_index, name, kind) in enumerate(
            [
                (0, "CaixaBank cuenta principal", "bank"),
                (2, "BBVA cuenta de cobros", "bank"),
                (1, "Santander póliza de crédito", "credit"),
                (None, "Caja", "cash"),
            ]
        ):
            bank = fk.BANKS[bank_index] if bank_index is not None else None
            account_iban, swift = fk.iban(self.rng, bank) if bank else ("", "")
            save(
                "treasury",
                {
                    "id": self.oid(base + 10 + index),
                    "name": name,
                    "type": kind,
                    "balance": balances[index],
                    "accountNumber": 57200001 + index if bank else 57000001,
                    "iban": account_iban,
                    "swift": swift,
                    "bank": bank[2] if bank else "",
                    "bankname": bank[3] if bank else "",
                },
            )
        for index, (name, desc, acc) in enumerate(cat.EXPENSE_ACCOUNTS):
            color = f"#{self.rng.randint(0, 0xFFFFFF):06X}"
            save(
                "expensesaccounts",
                {"id": self.oid(base + 20 + index), "name": name, "desc": desc, "color": color, "accNum": acc},
            )
        for index, (name, desc, acc, color) in enumerate(cat.SALES_CHANNELS):
            save(
                "saleschannels",
                {"id": self.oid(base + 40 + index), "name": name, "desc": desc, "color": color, "accNum": acc},
            )
        banks = self.ids("treasury")
        for index, (name, due_days) in enumerate(cat.PAYMENT_METHODS):
            bank_id = banks[index % 2] if name not in ("Efectivo", "Tarjeta de crédito") else ""
            save(
                "paymentmethods",
                {"id": self.oid(base + 50 + index), "name": name, "dueDays": due_days, "bankId": bank_id},
            )
        for index, doc_type in enumerate(DOC_TYPES):
            name, fmt = SERIES_FORMATS[doc_type]
            save(
                "numberingseries",
                {"id": self.oid(base + 60 + index), "name": name, "format": fmt, "last": 0, "type": doc_type},
            )
        for index, tax in enumerate(TAXES):
            save("taxes", {"id": f"tax_{index:02d}_{tax['key']}", **tax})

    def gen_employees(self, count: int) -> list[Record]:
        out = []
        for index in range(count):
            first, last, gender = fk.person_name(self.rng)
            created = self.when(SEED_START - 700 * DAY, SEED_NOW - 30 * DAY)
            addr = fk.address(self.rng)
            email = f"{fk.slug(first)}.{fk.slug(last.split()[0])}@tecnoiberica.es"
            born = self.rng.randint(1962, 2001)
            account_iban, _ = fk.iban(self.rng)
            out.append(
                {
                    "id": self.oid(created),
                    **blank_employee(),
                    "name": first,
                    "lastName": last,
                    "mainEmail": email,
                    "email": email,
                    "title": self.rng.choice(cat.EMPLOYEE_TITLES) if index else "Director general",
                    "code": fk.nif(self.rng),
                    "socialSecurityNum": f"{addr['postalCode'][:2]}{self.rng.randint(0, 10**10 - 1):010d}",
                    "nationality": "ES",
                    "phone": fk.landline(self.rng, "91"),
                    "mobile": fk.mobile(self.rng),
                    "dateOfBirth": f"{self.rng.randint(1, 28):02d}/{self.rng.randint(1, 12):02d}/{born}",
                    "gender": gender,
                    "iban": account_iban,
                    "address": {k: addr[k] for k in ("address", "city", "postalCode", "province", "country")},
                    "workplace": "Oficina Madrid",
                    "teams": [self.rng.choice(cat.TEAMS)[0]],
                    "holdedUserId": self.oid(created + 60) if index == 0 or self.rng.random() < 0.75 else "",
                }
            )
        out = self.save_all("employees", out)
        for employee in out[1:]:
            employee["reportingTo"] = out[0]["id"]
        return out

    # --- contacts -------------------------------------------------------------------------

    def gen_contacts(self, count: int) -> list[Record]:
        rng = self.rng
        groups = self.ids("contactgroups")
        users = self.user_ids()
        out = []
        for _ in range(count):
            created = self.when(SEED_START - 365 * DAY, SEED_NOW - 20 * DAY)
            is_person = rng.random() < 0.35
            kind = rng.choice(KINDS)
            addr = fk.address(rng)
            info = addr.pop("info", "")
            if is_person:
                first, last, _ = fk.person_name(rng)
                name = f"{first} {last}"
                email = (
                    f"{fk.slug(first)}.{fk.slug(last.split()[0])}{rng.randint(1, 99)}@{rng.choice(fk.EMAIL_DOMAINS)}"
                )
                code, trade = fk.nif(rng), ""
            else:
                name = fk.company_name(rng)
                domain = fk.slug(" ".join(name.split()[:-1]))[:24] + rng.choice([".es", ".com", ".es"])
                email = f"{rng.choice(['info', 'administracion', 'contabilidad', 'hola'])}@{domain}"
                code = fk.cif(rng, "A" if name.endswith("S.A.") else ("F" if name.endswith("Coop.") else "B"))
                roll = rng.random()
                trade = fk.brand(rng) if roll < 0.55 else ("" if roll < 0.85 else 0)  # Holded serves 0 when unset
            has_bank = rng.random() < 0.6
            account_iban, swift = fk.iban(rng) if has_bank else ("", "")
            record: Record = {
                "id": self.oid(created),
                "customId": self._next_custom_id() if rng.random() < 0.25 else "",
                "name": name,
                "code": code,
                "tradeName": trade,
                "email": email,
                "mobile": fk.mobile(rng) if is_person or rng.random() < 0.5 else "",
                "phone": fk.landline(rng, fk.phone_prefix(addr["province"]))
                if not is_person or rng.random() < 0.3
                else "",
                "type": kind,
                "iban": account_iban,
                "swift": swift,
                "groupId": rng.choice(groups) if rng.random() < 0.4 else "",
                "clientRecord": self._ledger_record("client", name)
                if kind in ("client", "debtor") and rng.random() < 0.85
                else 0,
                "supplierRecord": self._ledger_record("supplier", name) if kind in ("supplier", "creditor") else 0,
                "billAddress": {**addr, "info": info},
                "customFields": self._custom_fields() if rng.random() < 0.2 else [],
                "defaults": {
                    "salesChannel": 0,
                    "expensesAccount": 0,
                    "dueDays": rng.choice([0, 15, 30, 30, 60]),
                    "paymentMethod": 0,
                    "discount": rng.choice([0] * 8 + [5, 10]),
                    "language": "es",
                    "currency": "eur",
                    "tax": "default",
                    "retention": "default",
                },
                "socialNetworks": {"website": "" if is_person else f"www.{email.split('@')[1]}"},
                "tags": rng.sample(cat.CONTACT_TAGS, rng.randint(1, 2)) if rng.random() < 0.3 else [],
                "notes": [self._contact_note(created, users)] if rng.random() < 0.1 else [],
                "contactPersons": [] if is_person else self._contact_persons(domain),
                "shippingAddresses": self._shipping() if not is_person and rng.random() < 0.15 else [],
                "isperson": int(is_person),
                "createdAt": created,
            }
            stamp(record, rng.randint(created, SEED_NOW - DAY))
            out.append(record)
        return self.save_all("contacts", out)

    def _next_custom_id(self) -> str:
        self._customid += 1
        return f"ERP-{self._customid:06d}"

    def _ledger_record(self, kind: str, name: str) -> dict[str, Any]:
        self._records[kind] += 1
        base = 43000000 if kind == "client" else 40000000
        return {"num": base + self._records[kind], "name": name}

    def _custom_fields(self) -> list[dict[str, str]]:
        fields = self.rng.sample(sorted(cat.CUSTOM_FIELD_VALUES), self.rng.randint(1, 2))
        return [{"field": f, "value": self.rng.choice(cat.CUSTOM_FIELD_VALUES[f])} for f in fields]

    def _contact_note(self, created: int, users: list[str]) -> dict[str, Any]:
        ts = self.rng.randint(created, SEED_NOW - DAY)
        return {
            "noteId": self.oid(ts),
            "name": self.rng.choice(cat.NOTE_TITLES),
            "description": self.rng.choice(cat.NOTE_TEXTS),
            "color": self.rng.choice(["primary", "#ee575d", "#10cf91"]),
            "updatedAt": ts,
            "userId": self.rng.choice(users),
        }

    def _contact_persons(self, domain: str) -> list[dict[str, Any]]:
        persons = []
        for _ in range(self.rng.choice([1, 1, 2, 2, 3])):
            first, last, _ = fk.person_name(self.rng)
            persons.append(
                {
                    "personId": self.oid(self.when()),
                    "name": f"{first} {last.split()[0]}",
                    "job": self.rng.choice(fk.JOBS),
                    "phone": fk.mobile(self.rng),
                    "email": f"{fk.slug(first)}@{domain}",
                    "sendDocumentsByDefault": not persons,
                    "linkedin": "",
                }
            )
        return persons

    def _shipping(self) -> list[dict[str, Any]]:
        addr = fk.address(self.rng)
        return [
            {
                "shippingId": self.oid(self.when()),
                "name": self.rng.choice(["Almacén", "Oficina central", "Tienda"]),
                **addr,
                "notes": "",
                "privateNotes": "",
            }
        ]

    # --- catalogue ------------------------------------------------------------------------

    def gen_products(self, count: int) -> list[Record]:
        rng = self.rng
        suppliers = [
            c for c in self.store.all("contacts") if c["type"] in ("supplier", "creditor") and not c["isperson"]
        ]
        channels = self.ids("saleschannels")
        expense_accounts = self.ids("expensesaccounts")
        warehouses = self.ids("warehouses")
        categories = {tag: object_id(SEED_START - 300 * DAY, random.Random(tag)) for *_, tag in cat.PRODUCTS}
        out = []
        for index in range(count):
            name, desc, (low, high), tax, weight, tag = cat.PRODUCTS[index % len(cat.PRODUCTS)]
            suffix = cat.VARIANT_SUFFIXES[(index // len(cat.PRODUCTS)) % len(cat.VARIANT_SUFFIXES)]
            if index >= len(cat.PRODUCTS) * len(cat.VARIANT_SUFFIXES):
                suffix += f" #{index // (len(cat.PRODUCTS) * len(cat.VARIANT_SUFFIXES)) + 1}"
            pack = 5 if "5 uds" in suffix else (10 if "10 uds" in suffix else 1)
            price = fk.money(rng.uniform(low, high) * pack * (0.75 if "reacondicionado" in suffix else 1))
            cost = fk.money(price * rng.uniform(0.55, 0.8))
            supplier = rng.choice(suppliers) if suppliers else None
            created = self.when(SEED_START - 300 * DAY, SEED_START + 200 * DAY)
            out.append(
                {
                    "id": self.oid(created),
                    "kind": "simple",
                    "name": name + suffix,
                    "desc": desc,
                    "typeId": "",
                    "contactId": supplier["id"] if supplier else "",
                    "contactName": supplier["name"] if supplier else "",
                    "price": price,
                    "tax": tax,
                    "total": fk.money(price * (1 + tax / 100)),
                    "rates": [],
                    "hasStock": 1 if weight else 0,
                    "stock": rng.randint(0, 120) if weight else 0,
                    "barcode": _ean13(rng),
                    "sku": f"{fk.slug(tag)[:4].upper()}-{index + 1:05d}",
                    "cost": cost,
                    "purchasePrice": cost,
                    "weight": weight * pack,
                    "tags": [tag],
                    "categoryId": categories[tag],
                    "factoryCode": f"{rng.randint(100000, 999999)}",
                    "attributes": [],
                    "forSale": 1,
                    "forPurchase": 1,
                    "salesChannelId": channels[0] if channels else "",
                    "expAccountId": expense_accounts[0] if expense_accounts else "",
                    "warehouseId": warehouses[0] if warehouses else "",
                    "variants": [],
                }
            )
        return self.save_all("products", out)

    def gen_services(self, count: int) -> list[Record]:
        channels = self.ids("saleschannels")
        out = []
        for index in range(count):
            name, desc, (low, high), tax, tag = cat.SERVICES[index % len(cat.SERVICES)]
            suffix = cat.SERVICE_SUFFIXES[(index // len(cat.SERVICES)) % len(cat.SERVICE_SUFFIXES)]
            if index >= len(cat.SERVICES) * len(cat.SERVICE_SUFFIXES):
                suffix += f" #{index // (len(cat.SERVICES) * len(cat.SERVICE_SUFFIXES)) + 1}"
            price = fk.money(self.rng.uniform(low, high) * (1.3 if "urgente" in suffix else 1))
            created = self.when(SEED_START - 300 * DAY, SEED_START + 200 * DAY)
            out.append(
                {
                    "id": self.oid(created),
                    "name": name + suffix,
                    "desc": desc,
                    "tags": [tag],
                    "tax": tax,
                    "subtotal": price,
                    "total": fk.money(price * (1 + tax / 100)),
                    "salesChannelId": channels[1] if len(channels) > 1 else "",
                    "cost": fk.money(price * 0.35),
                }
            )
        return self.save_all("services", out)

    # --- documents and payments -------------------------------------------------------------

    def gen_documents(self, count: int, doc_type: str) -> list[Record]:
        rng = self.rng
        purchase = doc_type in PURCHASE_TYPES
        contacts = [
            c
            for c in self.store.all("contacts")
            if c["type"] in (("supplier", "creditor") if purchase else ("client", "debtor"))
        ] or self.store.all("contacts")
        products = self.store.all("products")
        services = self.store.all("services")
        series = next((s for s in self.store.all("numberingseries") if s["type"] == doc_type), None)
        channels = self.ids("saleschannels")
        methods = self.ids("paymentmethods")
        # Calendar days, as Holded keeps them: 00:00 in Madrid (a fiscal year is a Madrid year).
        dates = sorted(day_start(self.when(SEED_START, SEED_NOW - 2 * DAY)) for _ in range(count))
        counters: dict[int, int] = {}
        out = []
        for date in dates:
            contact = rng.choice(contacts)
            year = day_year(date)
            counters[year] = counters.get(year, 0) + 1
            if doc_type == "purchase":  # a supplier's own invoice number
                number = f"{rng.choice(['FAC', 'F', 'A'])}-{year}-{rng.randint(1, 9999):04d}"
            else:
                number = format_number(series["format"] if series else "D%%%%", counters[year], year)
            lines = self._lines(doc_type, contact, products, services)
            age = SEED_NOW - date
            draft = doc_type == "invoice" and age < 45 * DAY and rng.random() < 0.15
            due_days = contact["defaults"]["dueDays"] or 30
            doc: Record = {
                "id": self.oid(date + rng.randint(0, 3600)),
                "contact": contact["id"],
                "contactName": contact["name"],
                "desc": "",
                "date": date,
                "dueDate": add_days(date, due_days),
                "notes": "",
                "products": lines,
                "tax": 0,
                "subtotal": 0,
                "discount": 0,
                "total": 0,
                "language": "es",
                "status": 0,
                "customFields": [{"field": "Pedido cliente", "value": f"PO-{rng.randint(1000, 99999)}"}]
                if rng.random() < 0.05
                else [],
                "docNumber": number,
                "currency": "eur",
                "currencyChange": 1,
                "paymentsTotal": 0,
                "paymentsPending": 0,
                "paymentsRefunds": 0,
                "salesChannelId": "" if purchase or not channels else rng.choice(channels),
                "paymentMethodId": rng.choice(methods) if methods else "",
                "tags": [],
                "draft": int(draft),
                "paymentsDetail": [],
                "numSerieId": series["id"] if series else "",
                "_docType": doc_type,
                "_billed": int(doc_type in BILLABLE_TYPES and age > 60 * DAY and rng.random() < 0.6),
            }
            for index, line in enumerate(lines):
                line["_lineId"] = seeded_line_id(doc["id"], index)
            compute_totals(doc)
            if doc_type in PAYABLE_TYPES and not draft:
                self._pay_seeded(doc, contact, age)
            out.append(doc)
        if series is not None and counters:
            series["last"] = counters[max(counters)]
            self.store.save("numberingseries", series)
        return self.save_all(doc_type, out)

    def _lines(
        self, doc_type: str, contact: Record, products: list[Record], services: list[Record]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        sign = -1 if doc_type in REFUND_TYPES else 1
        freelancer = bool(contact.get("isperson"))
        lines = []
        for _ in range(rng.choice(LINE_COUNTS)):
            if doc_type in ("purchase", "purchaserefund") and rng.random() < 0.6:
                name, desc, (low, high), tax, _, irpf = rng.choice(cat.EXPENSES)
                price, units, sku, pid, cost, weight = fk.money(rng.uniform(low, high)), 1, "", "", 0.0, 0
                retention = 15 if irpf and freelancer else 0
                line_kind = {}
            elif products and (not services or rng.random() < 0.6):
                product = rng.choice(products)
                name, desc, tax, sku, pid = (
                    product["name"],
                    product["desc"],
                    product["tax"],
                    product["sku"],
                    product["id"],
                )
                cost, weight, retention = product["cost"], product["weight"], 0
                price = product["cost"] if doc_type in PURCHASE_TYPES else product["price"]
                units = rng.choice(UNITS)
                line_kind = {}
            else:
                service = rng.choice(services)
                name, desc, tax, sku, pid = service["name"], service["desc"], service["tax"], "", ""
                price, cost, weight = service["subtotal"], service["cost"], 0
                units = rng.choice([1, 1, 1, 2, 3, 4, 6, 8, 10, 12])
                retention = 15 if doc_type in PURCHASE_TYPES and freelancer else 0
                line_kind = {"serviceId": service["id"]}
            discount = rng.choice(DISCOUNTS)
            prefix = "p" if doc_type in PURCHASE_TYPES else "s"
            taxes = [f"{prefix}_iva_{tax}"] + ([f"{prefix}_ret_{retention}"] if retention else [])
            lines.append(
                {
                    "name": name,
                    "desc": desc,
                    "price": price,
                    "units": sign * units,
                    "tax": tax,
                    "taxes": taxes,
                    "discount": discount,
                    "retention": retention,
                    "weight": intish(weight),
                    "costPrice": cost,
                    "sku": sku,
                    "productId": pid,
                    **line_kind,
                }
            )
        return lines

    def _pay_seeded(self, doc: Record, contact: Record, age: int) -> None:
        rng = self.rng
        roll = rng.random()
        if doc["_docType"] in ("salesreceipt", "receiptnote"):
            plan = [1.0]  # tickets are paid on the spot
        elif age > 75 * DAY:
            plan = [1.0] if roll < 0.9 else ([0.5] if roll < 0.95 else [])
        else:
            plan = [1.0] if roll < 0.45 else ([0.3] if roll < 0.55 else [])
        banks = [t for t in self.store.all("treasury") if t["type"] != "credit"]
        purchase = doc["_docType"] in PURCHASE_TYPES
        for share in plan:
            amount = fk.money(doc["total"] * share)
            date = day_start(
                min(SEED_NOW - DAY, doc["date"] + rng.randint(0, max(1, doc["dueDate"] - doc["date"]) + 20 * DAY))
            )
            bank = rng.choice(banks)
            payment = {
                "id": self.oid(date),
                "bankId": bank["id"],
                "contactId": contact["id"],
                "contactName": contact["name"],
                "amount": intish(-amount if purchase else amount),
                "desc": f"{'Pago' if purchase else 'Cobro'} {doc['docNumber']}",
                "date": date,
                "documentId": doc["id"],
                "docType": doc["_docType"],
            }
            self.store.save("payments", payment)
            doc["paymentsDetail"].append(
                {
                    "paymentId": payment["id"],
                    "date": date,
                    "amount": amount,
                    "bankId": bank["id"],
                    "desc": payment["desc"],
                }
            )
        refresh_payments(doc)

    def gen_remittances(self, count: int) -> list[Record]:
        """SEPA direct-debit batches of paid invoices (shape unconfirmed: Holded documents none)."""
        invoices = [d for d in self.store.all("invoice") if d["status"] == 1 and d["paymentsDetail"]]
        banks = [t for t in self.store.all("treasury") if t["type"] == "bank"]
        out = []
        for index in range(count if invoices and banks else 0):
            batch = self.rng.sample(invoices, min(len(invoices), self.rng.randint(3, 12)))
            date = max(d["paymentsDetail"][0]["date"] for d in batch)
            bank = self.rng.choice(banks)
            out.append(
                {
                    "id": self.oid(date),
                    "name": f"Remesa {index + 1:03d}",
                    "date": date,
                    "type": "sepa_core",
                    "status": "sent",
                    "bankId": bank["id"],
                    "bankName": bank["name"],
                    "total": fk.money(sum(d["total"] for d in batch)),
                    "documents": [
                        {
                            "documentId": d["id"],
                            "docType": "invoice",
                            "docNumber": d["docNumber"],
                            "contactId": d["contact"],
                            "contactName": d["contactName"],
                            "amount": d["total"],
                        }
                        for d in batch
                    ],
                }
            )
        return self.save_all("remittances", out)

    def gen_payments(self, count: int) -> list[Record]:
        """Stand-alone payments (no document), for `fill`."""
        contacts = self.store.all("contacts")
        banks = self.ids("treasury")
        out = []
        for _ in range(count):
            date = day_start(self.when())
            contact = self.rng.choice(contacts) if contacts else {"id": "", "name": ""}
            out.append(
                {
                    "id": self.oid(date),
                    "bankId": self.rng.choice(banks) if banks else "",
                    "contactId": contact["id"],
                    "contactName": contact["name"],
                    "amount": fk.money(self.rng.uniform(20, 3000)),
                    "desc": "Cobro a cuenta",
                    "date": date,
                }
            )
        return self.save_all("payments", out)

    # --- CRM ------------------------------------------------------------------------------

    def gen_funnels(self) -> list[Record]:
        out = []
        for index, (name, stages) in enumerate(cat.FUNNELS):
            created = SEED_START - (60 - index) * DAY
            out.append(
                {
                    "id": self.oid(created),
                    "name": name,
                    "stages": [
                        {"stageId": self.oid(created + i), "key": fk.slug(s), "name": s, "desc": ""}
                        for i, s in enumerate(stages)
                    ],
                    "labels": [{"labelId": self.oid(created), "labelName": "Prioritario", "labelColor": "#ee585d"}],
                    "preferences": {"emails": []},
                    "customFields": [],
                }
            )
        return self.save_all("funnels", out)

    def gen_leads(self, count: int) -> list[Record]:
        rng = self.rng
        funnels = self.store.all("funnels")
        contacts = [c for c in self.store.all("contacts") if c["type"] in ("client", "lead")] or self.store.all(
            "contacts"
        )
        users = self.user_ids()
        out = []
        for _ in range(count):
            funnel = rng.choices(funnels, [6, 3, 1][: len(funnels)] + [1] * max(0, len(funnels) - 3))[0]
            contact = rng.choice(contacts)
            created = self.when(SEED_START + 90 * DAY, SEED_NOW - 5 * DAY)
            stage_index = rng.randrange(len(funnel["stages"]))
            last = stage_index == len(funnel["stages"]) - 1
            status = (1 if rng.random() < 0.6 else 2) if last else (2 if rng.random() < 0.1 else 0)
            person = contact["contactPersons"][0]["name"] if contact["contactPersons"] else ""
            notes = [self._lead_note(created, users) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]
            record: Record = {
                "id": self.oid(created),
                "userId": rng.choice(users),
                "funnelId": funnel["id"],
                "contactId": contact["id"],
                "contactName": contact["name"],
                "name": f"{rng.choice(cat.LEAD_NAMES)} - {contact['name']}",
                "person": contact["isperson"],
                "personName": person,
                "value": rng.randrange(5, 600) * 100,
                "potential": rng.randrange(1, 11) * 10,
                "dueDate": add_days(created, rng.randint(15, 120)),
                "stageId": funnel["stages"][stage_index]["stageId"],
                "createdAt": created,
                "customFields": [],
                "status": status,
                "events": sorted(notes, key=lambda e: e["createdAt"]),
                "tasks": [
                    {
                        "taskId": self.oid(created + 1),
                        "taskName": rng.choice(cat.TASK_NAMES),
                        "taskStatus": rng.choice([0, 1]),
                    }
                    for _ in range(rng.choice([0, 1, 1, 2]))
                ],
                "files": [],
            }
            stamp(record, max([created] + [e["createdAt"] for e in record["events"]]))
            out.append(record)
        return self.save_all("leads", out)

    def _lead_note(self, created: int, users: list[str]) -> dict[str, Any]:
        ts = self.rng.randint(created, SEED_NOW - DAY)
        return {
            "eventId": self.oid(ts),
            "type": "note",
            "title": self.rng.choice(cat.NOTE_TITLES),
            "desc": self.rng.choice(cat.NOTE_TEXTS),
            "createdAt": ts,
            "userId": self.rng.choice(users),
        }

    def gen_events(self, count: int) -> list[Record]:
        rng = self.rng
        leads = self.store.all("leads")
        contacts = self.store.all("contacts")
        users = self.user_ids()
        out = []
        for _ in range(count):
            lead = rng.choice(leads) if leads and rng.random() < 0.5 else None
            contact = self.store.get("contacts", lead["contactId"]) if lead else rng.choice(contacts)
            start = self.when(SEED_START + 90 * DAY, SEED_NOW + 30 * DAY) // 900 * 900  # quarter hours
            kind, title = rng.choice(cat.EVENT_KINDS)
            out.append(
                {
                    "id": self.oid(min(start, SEED_NOW) - rng.randint(DAY, 10 * DAY)),
                    "name": f"{title} - {contact['name']}",
                    "contactId": contact["id"],
                    "contactName": contact["name"],
                    "kind": kind,
                    "desc": rng.choice(cat.NOTE_TEXTS),
                    "startDate": start,
                    "endDate": start + rng.choice([15, 30, 45, 60, 90, 120]) * 60,
                    "status": 1 if start < SEED_NOW and rng.random() < 0.8 else 0,
                    "tags": rng.sample(["comercial", "soporte", "seguimiento", "urgente"], rng.randint(0, 2)),
                    "locationDesc": rng.choice(cat.EVENT_PLACES),
                    "leadId": lead["id"] if lead else "",
                    "userId": rng.choice(users),
                }
            )
        return self.save_all("events", out)

    def gen_bookings(self, count: int) -> list[Record]:
        rng = self.rng
        services = self.store.all("services")[:4]
        if not self.store.coll("bookinglocations").records:
            for index, name in enumerate(
                ["Oficina Madrid - Sala de formación", "Oficina Barcelona - Soporte presencial"]
            ):
                self.store.save(
                    "bookinglocations",
                    {
                        "id": self.oid(SEED_START + index),
                        "name": name,
                        "description": "Cita previa para clientes",
                        "active": True,
                        "availableServices": [s["id"] for s in services],
                    },
                )
        locations = self.store.all("bookinglocations")
        out = []
        for _ in range(count):
            start = self.when(SEED_NOW - 120 * DAY, SEED_NOW + 30 * DAY) // 1800 * 1800
            service = (
                rng.choice(services) if services else {"id": "", "name": "", "desc": "", "subtotal": 0, "total": 0}
            )
            location = rng.choice(locations)
            created = start - rng.randint(DAY, 20 * DAY)
            first, last, _ = fk.person_name(rng)
            status = (
                rng.choices(["confirmed", "canceled", "completed"], [6, 1, 3])[0] if start < SEED_NOW else "confirmed"
            )
            out.append(
                {
                    "id": self.oid(created),
                    "startTime": start,
                    "endTime": start + 3600,
                    "duration": 3600,
                    "createdAt": created,
                    "updatedAt": created,
                    "status": status,
                    "service": {
                        "id": service["id"],
                        "name": service["name"],
                        "description": service.get("desc", ""),
                        "duration": 3600,
                        "subtotal": {"amount": service["subtotal"], "currency": "EUR"},
                        "total": {"amount": service["total"], "currency": "EUR"},
                    },
                    "space": {"id": location["id"], "name": location["name"]},
                    "outcome": {"documentId": "", "type": "", "exportedAt": 0},
                    "customFieldsValues": [
                        {"key": "name", "label": "Nombre", "type": "text", "value": f"{first} {last}"},
                        {
                            "key": "email",
                            "label": "E-mail",
                            "type": "email",
                            "value": f"{fk.slug(first)}@{rng.choice(fk.EMAIL_DOMAINS)}",
                        },
                    ],
                    "_locationId": location["id"],
                }
            )
        return self.save_all("bookings", out)

    # --- projects -------------------------------------------------------------------------

    def gen_projects(self, count: int) -> list[Record]:
        rng = self.rng
        clients = [c for c in self.store.all("contacts") if c["type"] == "client"] or self.store.all("contacts")
        estimates = _by_contact(self.store.all("estimate"))
        invoices = _by_contact([d for d in self.store.all("invoice") if not d["draft"]])
        purchases = self.store.all("purchase")
        out = []
        for _ in range(count):
            contact = rng.choice(clients)
            created = self.when(SEED_START + 30 * DAY, SEED_NOW - 20 * DAY)
            lists = [{"id": self.oid(created), "key": key, "name": name, "desc": ""} for key, name in cat.PROJECT_LISTS]
            labels = [{"id": self.oid(created), "name": name, "color": color} for name, color in cat.PROJECT_LABELS]
            docs = estimates.get(contact["id"], [])[:2]
            sales = invoices.get(contact["id"], [])[:3]
            out.append(
                {
                    "id": self.oid(created),
                    "name": f"{rng.choice(cat.PROJECT_KINDS)} - {contact['name']}",
                    "desc": f"Proyecto para {contact['name']} ({contact['billAddress']['city']})",
                    "tags": rng.sample(["interno", "cliente", "2024", "prioritario"], rng.randint(0, 2)),
                    "category": 0,
                    "contactId": contact["id"],
                    "contactName": contact["name"],
                    "date": day_start(created),
                    "dueDate": add_days(created, rng.randint(30, 180)),
                    "status": rng.choice([0, 1, 1, 2]),
                    "lists": lists,
                    "billable": rng.choice([0, 1, 1]),
                    "expenses": _doc_ref(rng.choice(purchases)) if purchases and rng.random() < 0.4 else {},
                    "estimates": [_doc_ref(d) for d in docs],
                    "sales": [_doc_ref(d) for d in sales],
                    "timeTracking": {},
                    "price": rng.randrange(20, 400) * 100,
                    "labels": labels,
                }
            )
        projects = self.save_all("projects", out)
        self.gen_tasks(self.n(240, 4))
        self._gen_project_times()
        return projects

    def gen_tasks(self, count: int) -> list[Record]:
        rng = self.rng
        projects = self.store.all("projects")
        users = self.user_ids()
        out = []
        for _ in range(count if projects else 0):
            project = rng.choice(projects)
            created = rng.randint(project["date"], min(SEED_NOW - DAY, project["date"] + 90 * DAY))
            listed = rng.choice(project["lists"])
            done = listed["key"] == "done"
            comments = [
                {
                    "commentId": self.oid(created + 3600),
                    "createdAt": created + 3600,
                    "userId": rng.choice(users),
                    "message": rng.choice(cat.COMMENTS),
                }
                for _ in range(rng.choice([0, 0, 1, 2]))
            ]
            out.append(
                {
                    "id": self.oid(created),
                    "projectId": project["id"],
                    "listId": listed["id"],
                    "name": rng.choice(cat.PROJECT_TASKS),
                    "desc": "",
                    "labels": [rng.choice(project["labels"])["id"]] if rng.random() < 0.3 else [],
                    "comments": comments,
                    "date": created,
                    "dueDate": add_days(created, rng.randint(2, 30)),
                    "userId": rng.choice(users),
                    "createdAt": created,
                    "updatedAt": min(SEED_NOW - DAY, created + rng.randint(0, 20) * DAY),
                    "status": 1 if done else 0,
                    "billable": project["billable"],
                    "featured": int(rng.random() < 0.1),
                }
            )
        return self.save_all("tasks", out)

    def _gen_project_times(self) -> None:
        rng = self.rng
        users = self.user_ids()
        tasks_by_project: dict[str, list[Record]] = {}
        for task in self.store.all("tasks"):
            tasks_by_project.setdefault(task["projectId"], []).append(task)
        for project in self.store.all("projects"):
            latest = None
            for _ in range(rng.randint(0, 6)):
                task = rng.choice(tasks_by_project[project["id"]]) if project["id"] in tasks_by_project else None
                date = rng.randint(project["date"], SEED_NOW - DAY)
                duration = rng.randint(2, 32) * 900
                cost = rng.choice([25, 30, 35, 40, 45])
                time_id = self.oid(date)
                entry = {
                    "timeId": time_id,
                    "duration": duration,
                    "desc": rng.choice(cat.PROJECT_TASKS),
                    "costHour": cost,
                    "userId": rng.choice(users),
                    "taskId": task["id"] if task else "",
                    "total": round(duration / 3600 * cost, 2),
                    "id": time_id,  # the store's key; reads show only timeId
                    "_projectId": project["id"],
                    "_date": date,
                }
                self.store.save("projecttimes", entry)
                if latest is None or date > latest["_date"]:
                    latest = entry
            if latest:
                project["timeTracking"] = {
                    "timeId": latest["timeId"],
                    "time": latest["duration"],
                    "desc": latest["desc"],
                    "costHour": latest["costHour"],
                    "userId": latest["userId"],
                    "taskId": latest["taskId"],
                    "total": latest["total"],
                }
                self.store.save("projects", project)

    def gen_employee_times(self, count: int) -> list[Record]:
        rng = self.rng
        employees = self.store.all("employees")
        out = []
        for _ in range(count if employees else 0):
            employee = rng.choice(employees)
            day = self.when(SEED_NOW - 120 * DAY, SEED_NOW - DAY) // DAY * DAY
            start = day + rng.randint(7 * 4, 10 * 4) * 900 - 3600  # 07:00-10:00 local (UTC+1)
            end = start + rng.randint(6 * 4, 9 * 4) * 900
            pause = rng.random() < 0.7
            pauses = [{"startTmp": start + 4 * 3600, "endTmp": start + 4 * 3600 + 1800}] if pause else []
            out.append(
                {
                    "id": self.oid(start),
                    "employeeId": employee["id"],
                    "startTmp": start,
                    "endTmp": end,
                    "duration": end - start - (1800 if pause else 0),
                    "pauses": pauses,
                    "location": rng.choice(["Oficina Madrid", "Teletrabajo", "Cliente"]),
                }
            )
        return self.save_all("employeetimes", out)

    # --- accounting -----------------------------------------------------------------------

    def gen_accounts(self) -> list[Record]:
        rows: list[tuple[int, str]] = list(cat.PGC_ACCOUNTS)
        rows += [(t["accountNumber"], t["name"]) for t in self.store.all("treasury")]
        rows += [(e["accNum"], e["name"]) for e in self.store.all("expensesaccounts")]
        rows += [(s["accNum"], s["name"]) for s in self.store.all("saleschannels")]
        for contact in self.store.all("contacts"):
            for key in ("clientRecord", "supplierRecord"):
                if isinstance(contact[key], dict):
                    rows.append((contact[key]["num"], contact[key]["name"]))
        out = []
        for index, (number, name) in enumerate(sorted(set(rows))):  # served in account-number order
            record = {
                "id": object_id(SEED_START - 400 * DAY + index, self.rng),
                "color": "",
                "num": number,
                "name": name,
                "group": cat.PGC_GROUPS[str(number)[0]],
            }
            out.append(self.store.save("accounts", record))
        self.store.coll("entries")  # manual journal entries (POST /entry) start empty
        return out


def _doc_ref(doc: Record) -> dict[str, Any]:
    return {
        "docId": doc["id"],
        "type": doc["_docType"],
        "subtotal": doc["subtotal"],
        "desc": doc["desc"],
        "invoiceNum": doc["docNumber"],
        "total": doc["total"],
        "contactId": doc["contact"],
        "contactName": doc["contactName"],
        "date": doc["date"],
        "dueDate": doc["dueDate"],
    }


def _by_contact(docs: list[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for doc in docs:
        out.setdefault(doc["contact"], []).append(doc)
    return out


def _ean13(rng: random.Random) -> str:
    digits = "84" + "".join(str(rng.randint(0, 9)) for _ in range(10))  # 84: GS1 Spain
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def seed_store(store: Store, seed: int = 1, scale: float = 1.0) -> Store:
    return Seeder(store, seed, scale).run()


def fingerprint(store: Store) -> str:
    """A hash of every collection's content (determinism checks)."""
    parts = []
    for name in sorted(store.names()):
        parts.append(name + ":" + ",".join(content_hash(r) + r["id"] for r in store.all(name)))
    return content_hash({"all": "|".join(parts)})
