"""Fidelity of API v2: an ordinary third-party Holded v2 client (PyPI `misterpato-holded-client`) works
against the sandbox unchanged, as its README tells a user to use it: contacts listed through all their
cursor pages, searched, read, created, updated and deleted; invoices listed, created with items,
approved and read back with their lines; a webhook's signature verified with the client's own helper;
and what the v2 client made is the same record, same id, through v1 (the same package's v1 half).

The only configuration is the client's own `base_url` parameter (`HoldedClient(..., base_url=...)`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import requests
from misterpato_holded import VERSION_1, VERSION_2, HoldedClient, webhooks
from misterpato_holded.exceptions import HoldedNotFoundError, HoldedValidationError, HoldedWebhookSignatureError
from misterpato_holded.v2.models import CreateContactRequest, InvoiceStatus, UpdateContactRequest

from holded_sandbox import SandboxServer
from holded_sandbox.testing import running_sandbox
from unit_tests.sandbox.webhook_receiver import receiving

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
INVOICE_DAY = date(2026, 6, 29)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with running_sandbox(scale=0.05, seed=23) as server:
        yield server


@pytest.fixture(scope="module")
def client(sb: SandboxServer) -> HoldedClient:
    """The v2 client with the sandbox's all-permissions `pat_` token, as its README builds one."""
    return HoldedClient(api_key=sb.api_token, version=VERSION_2, base_url=sb.base_url)


@pytest.fixture(scope="module")
def v1_client(sb: SandboxServer) -> HoldedClient:
    """The same package's v1 client with the account's v1 API key (a `pat_` token is refused on v1)."""
    return HoldedClient(api_key=sb.api_key, version=VERSION_1, base_url=sb.base_url)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _new_contact(client: HoldedClient, name: str, **fields: object) -> str:
    created = client.contacts.create(CreateContactRequest(name=name, **fields))
    assert OBJECT_ID.match(created.id), created.raw
    return created.id


# --- contacts --------------------------------------------------------------------------------


def test_lists_every_contact_through_the_clients_cursor_pages(client, v1_client, sb):
    first = client.contacts.list()
    assert len(first) == 25  # Holded's default contacts page
    assert len(client.contacts.list(limit=7)) == 7
    everyone = client.contacts.list_all(limit=7)  # cursor after cursor until has_more is false
    ids = [c.id for c in everyone]
    assert len(ids) == len(set(ids)) == len(sb.store.all("contacts")) > 7
    assert ids == sorted(ids)  # creation order
    assert [c.id for c in first] == ids[:25]
    assert set(ids) == {c.id for c in v1_client.contacts.list_all()}  # the same account through v1
    by_id = {c.id: c for c in everyone}
    sample = v1_client.contacts.get(ids[10])
    assert by_id[ids[10]].name == sample.name and by_id[ids[10]].email == sample.raw["email"]


def test_searches_contacts_by_name_prefix_ignoring_case_and_accents(client):
    first = _new_contact(client, "Ñandú Fidelidad Norte SL")
    second = _new_contact(client, "ÑANDU Fidelidad Sur SA")
    hits = client.contacts.search("ñandu fid")
    assert [c.id for c in hits] == [first, second]
    assert [c.name for c in hits] == ["Ñandú Fidelidad Norte SL", "ÑANDU Fidelidad Sur SA"]
    # The client's search pager keeps `name` on every page.
    assert [c.id for c in client.contacts.search_all("Ñandú", limit=1)] == [first, second]
    # A prefix of the whole name: a word inside it matches nothing.
    assert client.contacts.search("Fidelidad Norte") == []
    seeded = client.contacts.list()[3]
    prefix = seeded.name[:5]
    expected = [c.id for c in client.contacts.list_all(limit=100) if _fold(c.name).startswith(_fold(prefix))]
    assert seeded.id in expected
    assert [c.id for c in client.contacts.search_all(prefix.upper())] == expected


def test_contact_create_get_update_delete(client):
    contact_id = _new_contact(
        client,
        "Fidelidad V2 Pruebas SL",
        email="hola@fidelidad-v2.es",
        code="B12345674",
        phone="+34 910 000 001",
        is_person=False,
        type="client",
        trade_name="Fidelidad",
    )
    got = client.contacts.get(contact_id)
    assert (got.id, got.name, got.email, got.code, got.phone) == (
        contact_id,
        "Fidelidad V2 Pruebas SL",
        "hola@fidelidad-v2.es",
        "B12345674",
        "+34 910 000 001",
    )
    assert got.is_person is False and got.type == "client" and got.trade_name == "Fidelidad"
    assert got.vat_number == "B12345674"  # v2 reads v1's tax id as vat_number until set apart
    assert got.raw["created_at"] == got.raw["updated_at"]

    # PUT is a full replace (the client's README warns): what is left out is reset.
    answer = client.contacts.update(
        contact_id,
        UpdateContactRequest(name="Fidelidad V2 Pruebas SL", email="hola@fidelidad-v2.es", phone="+34 911 222 333"),
    )
    assert answer.status == 1 and answer.raw == {"status": 1}
    got = client.contacts.get(contact_id)
    assert got.phone == "+34 911 222 333" and got.email == "hola@fidelidad-v2.es"
    assert got.code == "" and got.trade_name == ""  # left out of the replace

    deleted = client.contacts.delete(contact_id)
    assert deleted.status_code == 204
    with pytest.raises(HoldedNotFoundError) as missing:
        client.contacts.get(contact_id)
    assert missing.value.status_code == 404
    assert missing.value.response_json["type"] == "https://api.holded.com/problems/not-found"


# --- invoices --------------------------------------------------------------------------------


ITEMS = [
    {"name": "Consultoría", "units": 2, "price": "100.00", "tax": 21},
    {"name": "Licencia anual", "description": "Puesto adicional", "units": 1, "price": "50.00", "tax": 21},
]


def test_lists_every_invoice_through_the_clients_cursor_pages(client, v1_client, sb):
    page = client.invoices.list(limit=10)
    assert len(page) == 10
    everyone = client.invoices.list_all(limit=30)
    ids = [i.id for i in everyone]
    assert len(ids) == len(set(ids)) == len(sb.store.all("invoice")) > 30
    assert ids[:10] == [i.id for i in page]
    by_id = {d.id: d for d in v1_client.invoices.list_all()}
    assert set(ids) == set(by_id)
    one = everyone[5]
    assert one.document_number == by_id[one.id].doc_number
    assert Decimal(one.total) == Decimal(str(by_id[one.id].total))


def test_invoice_created_with_items_then_approved_gets_its_number_and_keeps_its_line_ids(client, v1_client):
    contact_id = _new_contact(client, "Cliente Factura V2 SL", email="facturas@cliente-v2.es")
    (series,) = [s for s in client.numbering_series.list("invoice") if s.name == "Facturas"]  # the default
    assert series.format == "F[YY]%%%%"

    created = client.invoices.create({"contact_id": contact_id, "date": INVOICE_DAY, "items": ITEMS})
    assert OBJECT_ID.match(created.id) and created.raw == {"id": created.id}

    draft = client.invoices.get(created.id)
    assert draft.raw["draft"] is True and draft.raw["document_number"] is None and draft.document_number == ""
    assert draft.contact_id == contact_id and draft.contact_name == "Cliente Factura V2 SL"
    assert draft.date == "2026-06-29" and draft.status == "pending"
    assert (draft.subtotal, draft.tax, draft.total) == ("250.00", "52.50", "302.50")
    assert draft.payments_pending == "302.50"
    lines = draft.raw["lines"]
    assert [(ln["name"], ln["price"], ln["units"], ln["tax"]) for ln in lines] == [
        ("Consultoría", "100.00", 2, 21),
        ("Licencia anual", "50.00", 1, 21),
    ]
    assert lines[1]["description"] == "Puesto adicional"
    line_ids = [ln["line_id"] for ln in lines]
    assert all(OBJECT_ID.match(lid) for lid in line_ids) and len(set(line_ids)) == 2
    pending = client.invoices.list(contact_id=contact_id, status=InvoiceStatus.PENDING)
    assert [i.id for i in pending] == [created.id]
    assert client.invoices.list(contact_id=contact_id, approval_status="draft")[0].id == created.id

    approved = client.invoices.approve(created.id)
    number = f"F{INVOICE_DAY.year % 100:02d}{series.last + 1:04d}"  # the series' next number, its format
    assert approved.id == created.id and approved.raw["document_number"] == number
    (after,) = [s for s in client.numbering_series.list("invoice") if s.id == series.id]
    assert after.last == series.last + 1

    final = client.invoices.get(created.id)
    assert final.document_number == number and final.raw["draft"] is False
    assert final.raw["approved_at"] and final.raw["number_line_id"] == series.id
    assert [ln["line_id"] for ln in final.raw["lines"]] == line_ids  # line ids survive approval
    assert (final.subtotal, final.tax, final.total) == ("250.00", "52.50", "302.50")
    assert client.invoices.list(contact_id=contact_id, approval_status="approved")[0].id == created.id

    # The same record through v1: same id, same number, same lines.
    v1_doc = v1_client.invoices.get(created.id)
    assert v1_doc.id == created.id and v1_doc.doc_number == number
    # (Its v1 `Document.contact_id` reads `contactId`; Holded's v1 documents answer `contact`.)
    assert v1_doc.raw["contact"] == contact_id and v1_doc.raw["draft"] == 0
    assert [(p["name"], p["price"], p["units"]) for p in v1_doc.raw["products"]] == [
        ("Consultoría", 100.0, 2),
        ("Licencia anual", 50.0, 1),
    ]
    assert any(d.id == created.id and d.doc_number == number for d in v1_client.invoices.list_all())


def test_a_contact_made_with_the_v2_client_is_the_same_record_through_v1(client, v1_client):
    contact_id = _new_contact(client, "Mismo Id V1 V2 SL", email="mismo@id.es", phone="+34 912 345 678")
    listed = {c.id: c for c in v1_client.contacts.list_all()}
    assert contact_id in listed
    assert listed[contact_id].name == "Mismo Id V1 V2 SL" and listed[contact_id].email == "mismo@id.es"
    assert v1_client.contacts.get(contact_id).raw["phone"] == "+34 912 345 678"
    client.contacts.delete(contact_id)
    assert contact_id not in {c.id for c in v1_client.contacts.list_all()}


def test_the_v2_token_is_refused_on_v1_routes(sb):
    misplaced = HoldedClient(api_key=sb.api_token, version=VERSION_1, base_url=sb.base_url)
    with pytest.raises(HoldedValidationError) as refused:
        misplaced.contacts.list()
    assert refused.value.status_code == 400 and refused.value.response_json == {"status": 0, "info": "Invalid key"}


def test_a_numbering_series_keeps_the_documented_fields_the_client_reads(client):
    (refunds,) = client.numbering_series.list("creditnote")
    body = {
        "name": "Tienda",
        "format": "PT[YY]%%%",
        "refund_numbering_series_id": refunds.id,
        "verifactu_excluded": True,
    }
    created = client.numbering_series.create("proform", body)
    (series,) = [s for s in client.numbering_series.list("proform") if s.id == created.id]
    assert (series.name, series.format, series.last, series.type) == ("Tienda", "PT[YY]%%%", 0, "proform")
    assert series.refund_numbering_series_id == refunds.id and series.verifactu_excluded is True


@pytest.mark.xfail(
    strict=True,
    reason="the client's README invoice example sends items[].subtotal (v1's item field); Holded's v2 items "
    "take `price` (shared/holded-api/v2/README.md, Shapes: requests send `items`, lines carry `price`), so "
    "the sandbox, like v2, does not read `subtotal` and the line is priced 0",
)
def test_the_clients_readme_invoice_example_with_items_subtotal(client):
    contact_id = _new_contact(client, "Ejemplo README SL")
    example = {
        "contact_id": contact_id,
        "date": "2026-06-29",
        "items": [{"name": "Service", "units": 1, "subtotal": "120.00"}],
    }
    created = client.invoices.create(example)
    assert client.invoices.get(created.id).subtotal == "120.00"


# --- webhooks --------------------------------------------------------------------------------


def test_webhook_events_verify_with_the_clients_signature_helper(client, sb):
    bearer = {"Authorization": f"Bearer {sb.api_token}"}
    events = ["contact.create", "contact.update", "invoice.create", "invoice.approve", "contact.delete"]  # as sent
    with receiving() as rx:
        # The client has no webhook registration; Holded's `POST /api/v2/webhooks` answers the secret once.
        answer = requests.post(
            f"{sb.base_url}/v2/webhooks",
            json={"url": rx.url, "events": events, "description": "fidelity"},
            headers=bearer,
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        hook_id, secret = answer.json()["id"], answer.json()["secret"]
        assert secret.startswith("whsec_")

        contact_id = _new_contact(client, "Webhook Cliente SL", email="hooks@cliente.es", is_person=False)
        client.contacts.update(contact_id, UpdateContactRequest(name="Webhook Cliente SL", email="otra@cliente.es"))
        invoice_id = client.invoices.create({"contact_id": contact_id, "date": INVOICE_DAY, "items": ITEMS[:1]}).id
        number = client.invoices.approve(invoice_id).raw["document_number"]
        client.contacts.delete(contact_id)
        calls = rx.wait_for(5)
        assert sb.webhooks.wait_idle(10)
        # v2 has no delete (none reported): the sandbox's control route removes the registration.
        control_url = sb.base_url.rsplit("/api", 1)[0] + "/__sandbox__"
        assert requests.delete(f"{control_url}/webhooks/{hook_id}", timeout=30).status_code == 200

    for call in calls:
        signature = call.headers["x-holded-webhook-signature"]
        assert webhooks.verify_signature(call.body, signature, secret)
        assert not webhooks.verify_signature(call.body + b" ", signature, secret)
        assert not webhooks.verify_signature(call.body, signature, secret + "x")
    parsed = [webhooks.parse_event(call.body, call.headers, secret) for call in calls]
    assert [e.event for e in parsed] == events
    assert {e.account_id for e in parsed} == {sb.webhooks.account_id}
    assert len({e.idempotency_key for e in parsed}) == 5 and all(e.webhook_version == "1" for e in parsed)

    created, updated, made, approved, deleted = (e.payload for e in parsed)
    assert isinstance(created, webhooks.WebhookContactPayload) and isinstance(updated, webhooks.WebhookContactPayload)
    assert (created.id, created.name, created.email, created.is_person) == (
        contact_id,
        "Webhook Cliente SL",
        "hooks@cliente.es",
        False,
    )
    assert updated.id == contact_id and updated.email == "otra@cliente.es"
    assert isinstance(deleted, webhooks.WebhookDeletedContactPayload)
    assert deleted.id == contact_id and deleted.deleted_at
    assert isinstance(made, webhooks.WebhookDocumentPayload) and isinstance(approved, webhooks.WebhookDocumentPayload)
    assert (made.id, made.type, made.is_draft, made.document_number) == (invoice_id, "invoice", True, None)
    assert made.contact_id == contact_id and made.date == "2026-06-29"
    assert Decimal(made.subtotal) == Decimal("200") and Decimal(made.total) == Decimal("242")
    assert (approved.id, approved.is_draft, approved.document_number) == (invoice_id, False, number)
    # A delivery that is not signed with this secret is refused by the client's parser.
    with pytest.raises(HoldedWebhookSignatureError):
        webhooks.parse_event(calls[0].body, calls[0].headers, "whsec_not-the-secret")
