"""Seeded data: deterministic from the seed, referentially sound, plausibly Spanish."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import requests

from holded_sandbox.fakedata import NIF_LETTERS, PROVINCES
from holded_sandbox.model import ACCOUNT_ZONE as MADRID
from holded_sandbox.model import DOC_TYPES, SEED_NOW
from holded_sandbox.seed import Seeder, fingerprint
from holded_sandbox.store import Store
from holded_sandbox.testing import running_sandbox

PROVINCE_CODES = {name: code for name, code, *_ in PROVINCES}


def _seeded(seed: int, scale: float = 0.1) -> Store:
    return Seeder(Store(), seed, scale).run()


def test_same_seed_same_data_different_seed_different_data():
    assert fingerprint(_seeded(11)) == fingerprint(_seeded(11))
    assert fingerprint(_seeded(11)) != fingerprint(_seeded(12))


def test_same_seed_serves_identical_bytes():
    bodies = []
    for _ in range(2):
        with running_sandbox(scale=0.05, seed=9) as sb:
            get = lambda path, sb=sb: requests.get(sb.base_url + path, headers={"key": sb.api_key}, timeout=10).content  # noqa: E731
            bodies.append(
                [get(p) for p in ("/invoicing/v1/contacts", "/invoicing/v1/documents/invoice", "/crm/v1/leads")]
            )
    assert bodies[0] == bodies[1]


@pytest.fixture(scope="module")
def store() -> Store:
    return _seeded(3, 0.2)


def test_leads_point_at_real_funnels_stages_contacts_and_users(store):
    funnels = {f["id"]: f for f in store.all("funnels")}
    users = {e["holdedUserId"] for e in store.all("employees")} - {""}
    assert len(funnels) == 3 and all(4 <= len(f["stages"]) <= 6 for f in funnels.values())
    for lead in store.all("leads"):
        assert lead["stageId"] in {s["stageId"] for s in funnels[lead["funnelId"]]["stages"]}
        assert store.get("contacts", lead["contactId"])["name"] == lead["contactName"]
        assert lead["userId"] in users


def test_documents_point_at_real_contacts_and_products(store):
    products = {p["id"]: p for p in store.all("products")}
    services = {s["id"] for s in store.all("services")}
    for doc_type in DOC_TYPES:
        docs = store.all(doc_type)
        assert docs, doc_type
        for doc in docs:
            assert store.get("contacts", doc["contact"])["name"] == doc["contactName"]
            for line in doc["products"]:
                assert not line["productId"] or products[line["productId"]]["sku"] == line["sku"]
                assert "serviceId" not in line or line["serviceId"] in services
            assert doc["date"] < SEED_NOW


def test_payments_match_paid_documents(store):
    payments = {p["id"]: p for p in store.all("payments")}
    for doc in store.all("invoice"):
        assert round(sum(p["amount"] for p in doc["paymentsDetail"]), 2) == doc["paymentsTotal"]
        assert doc["status"] == (0 if not doc["paymentsDetail"] else (1 if doc["paymentsPending"] == 0 else 2))
        for detail in doc["paymentsDetail"]:
            assert payments[detail["paymentId"]]["contactId"] == doc["contact"]
    assert {d["status"] for d in store.all("invoice")} == {0, 1, 2}


def test_spanish_tax_ids_phones_addresses_and_ibans(store):
    for contact in store.all("contacts"):
        code = contact["code"]
        if contact["isperson"]:
            assert NIF_LETTERS[int(code[:8]) % 23] == code[8]
        else:
            assert re.fullmatch(r"[ABF]\d{8}", code)
        for phone in (contact["phone"], contact["mobile"]):
            assert phone == "" or re.fullmatch(r"\+34 \d{3} \d{3} \d{3}", phone)
        address = contact["billAddress"]
        assert address["postalCode"].startswith(PROVINCE_CODES[address["province"]])
        if contact["iban"]:
            iban = contact["iban"]
            digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
            assert iban.startswith("ES") and len(iban) == 24 and int(digits) % 97 == 1


def test_amounts_have_cents_and_spanish_vat_rates(store):
    products = store.all("products")
    assert any(p["price"] != int(p["price"]) for p in products)
    rates = {line["tax"] for doc in store.all("invoice") for line in doc["products"]}
    assert {21, 10, 4} <= rates | {t["tax"] for t in store.all("services")} | {p["tax"] for p in products}
    retained = [line for doc in store.all("purchase") for line in doc["products"] if line["retention"]]
    assert retained and {line["retention"] for line in retained} == {15}


def test_counts_and_seed_time_at_scale_1():
    started = time.perf_counter()
    store = _seeded(1, 1.0)
    elapsed = time.perf_counter() - started
    counts = store.counts()
    assert counts["contacts"] == 1000 and counts["invoice"] == 2000 and counts["leads"] == 300
    assert counts["employees"] == 40 and counts["products"] + counts["services"] == 150
    assert elapsed < 3  # typically ~0.3 s


def _madrid_midnight(ts: int) -> bool:
    return dt.datetime.fromtimestamp(ts, MADRID).time() == dt.time(0)


def test_calendar_days_are_seeded_as_midnight_in_madrid_and_instants_are_not(store):
    """Holded keeps a day as 00:00 in Madrid (shared/holded-api/README.md: Calendar dates are midnight in Madrid)."""
    days = []
    for doc_type in DOC_TYPES:
        for doc in store.all(doc_type):
            days += [doc["date"], doc["dueDate"], *(p["date"] for p in doc["paymentsDetail"])]
    days += [p["date"] for p in store.all("payments")] + [r["date"] for r in store.all("remittances")]
    days += [lead["dueDate"] for lead in store.all("leads")] + [t["dueDate"] for t in store.all("tasks")]
    days += [d for p in store.all("projects") for d in (p["date"], p["dueDate"])]
    assert len(days) > 1000 and all(_madrid_midnight(d) for d in days)
    # Across the change to summer time too: a due date 30 days on is 00:00, not 01:00 or 23:00.
    assert {dt.datetime.fromtimestamp(d, MADRID).utcoffset() for d in days} == {
        dt.timedelta(hours=1), dt.timedelta(hours=2)
    }  # fmt: skip
    instants = [c["createdAt"] for c in store.all("contacts")] + [e["startDate"] for e in store.all("events")]
    assert sum(map(_madrid_midnight, instants)) < len(instants) / 10
