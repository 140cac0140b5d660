"""Holded's signed webhooks sent by the sandbox, over real HTTP on loopback (a receiver per test)."""

from __future__ import annotations

import pytest
import requests

from holded_sandbox.cli import main as sandbox_main
from holded_sandbox.webhook_events import EVENTS
from holded_sandbox.webhooks import WebhookError, v2_create, verify

from .webhook_receiver import receiving

CONTACTS = "/invoicing/v1/contacts"
INVOICES = "/invoicing/v1/documents/invoice"
JAN_1_2024_MADRID = 1704063600
HEADERS = (
    "x-holded-webhook-event",
    "x-holded-webhook-id",
    "x-holded-webhook-account-id",
    "x-holded-webhook-date",
    "x-holded-webhook-version",
    "x-holded-webhook-signature",
)


def register(api, url, **body):
    resp = requests.post(api.sb.control_url + "/webhooks", json={"url": url, **body}, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def create_contact(api, **body):
    resp = api.post(CONTACTS, json={"name": "Webhook Pruebas SL", "email": "hola@pruebas.es", **body})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def create_invoice(api, **body):
    item = {"name": "Soporte", "units": 2, "subtotal": 50, "tax": 21}
    body = {"date": JAN_1_2024_MADRID, "contactName": "Cliente Hook SL", "items": [item], **body}
    resp = api.post(INVOICES, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def settle(api):
    assert api.sb.webhooks.wait_idle(10), api.sb.webhooks.list()


def test_given_a_webhook_when_a_contact_is_created_through_v1_then_a_signed_contact_create_arrives(api):
    with receiving() as rx:
        hook = register(api, rx.url, events=["contact.create"], version="2")
        assert hook["secret"].startswith("whsec_") and len(hook["id"]) == 24
        contact_id = create_contact(api)
        (call,) = rx.wait_for(1)
        settle(api)
    assert set(HEADERS) <= set(call.headers) and call.headers["content-type"] == "application/json"
    assert call.event == "contact.create" and call.headers["x-holded-webhook-version"] == "2"
    assert call.headers["x-holded-webhook-account-id"] == api.sb.webhooks.account_id
    assert call.headers["x-holded-webhook-date"].endswith("Z")
    assert verify(hook["secret"], call.body, call.headers["x-holded-webhook-signature"])
    assert not verify(hook["secret"].removeprefix("whsec_"), call.body, call.headers["x-holded-webhook-signature"])
    payload = call.json()
    assert payload == {
        "id": contact_id,
        "name": "Webhook Pruebas SL",
        "email": "hola@pruebas.es",
        "isPerson": False,
        "createdAt": payload["createdAt"],
    }
    assert payload["createdAt"].endswith("Z")
    stats = api.control("GET", f"webhooks/{hook['id']}")["stats"]
    assert stats["delivered"] == 1 and stats["attempts"] == 1 and stats["pending"] == 0


def test_given_a_contact_when_updated_then_deleted_then_update_and_delete_with_deleted_at_arrive(api):
    with receiving() as rx:
        register(api, rx.url)
        contact_id = create_contact(api)
        api.put(f"{CONTACTS}/{contact_id}", json={"name": "Renombrada SL", "isperson": 1})
        api.delete(f"{CONTACTS}/{contact_id}")
        calls = rx.wait_for(3)
        settle(api)
    assert [c.event for c in calls] == ["contact.create", "contact.update", "contact.delete"]
    assert len({c.id for c in calls}) == 3  # one id per event
    update, delete = calls[1].json(), calls[2].json()
    assert update["name"] == "Renombrada SL" and update["isPerson"] is True and "deletedAt" not in update
    assert delete["id"] == contact_id and delete["deletedAt"].endswith("Z")


def test_given_a_draft_invoice_when_its_draft_flag_goes_to_0_then_invoice_approve_arrives(api):
    with receiving() as rx:
        register(api, rx.url, events=["invoice.create", "invoice.update", "invoice.approve"])
        doc_id = create_invoice(api)
        api.put(f"{INVOICES}/{doc_id}", json={"notes": "revisada"})
        with api.sb.store.lock:  # how the v2 dialect's POST /invoices/{id}/approve changes the store
            doc = api.sb.store.get("invoice", doc_id)
            doc["draft"] = 0
            api.sb.store.save("invoice", doc)
        create_invoice(api, approveDoc=True)  # created approved: create only
        calls = rx.wait_for(4)
        settle(api)
    assert [c.event for c in calls] == ["invoice.create", "invoice.update", "invoice.approve", "invoice.create"]
    created, approved = calls[0].json(), calls[2].json()
    assert created == {
        "id": doc_id,
        "type": "invoice",
        "documentNumber": created["documentNumber"],
        "date": "2024-01-01",  # the Madrid day, not 2023-12-31 as in UTC
        "dueDate": created["dueDate"],
        "contactId": created["contactId"],
        "contactName": "Cliente Hook SL",
        "total": 121,
        "subtotal": 100,
        "isDraft": True,
    }
    assert approved["id"] == doc_id and approved["isDraft"] is False
    assert calls[3].json()["isDraft"] is False


def test_given_a_receiver_failing_twice_when_an_event_is_sent_then_the_third_attempt_delivers_it(api):
    api.sb.faults.update(webhook_retry_base_ms=10, webhook_retry_max_ms=50)
    with receiving(statuses=[500, 503]) as rx:
        hook = register(api, rx.url)
        create_contact(api)
        calls = rx.wait_for(3)
        settle(api)
    assert [c.status for c in calls] == [500, 503, 200]
    assert len({c.id for c in calls}) == 1 and len({c.body for c in calls}) == 1  # same event, same bytes
    stats = api.control("GET", f"webhooks/{hook['id']}")["stats"]
    assert stats == {**stats, "delivered": 1, "attempts": 3, "failed": 0, "pending": 0, "lastStatus": 200}
    assert stats["lastError"] == "HTTP 503"


def test_given_a_receiver_that_never_accepts_when_attempts_run_out_then_the_event_is_given_up(api):
    api.sb.faults.update(webhook_retry_base_ms=1, webhook_max_attempts=3)
    with receiving(default=500) as rx:
        hook = register(api, rx.url)
        create_contact(api)
        settle(api)
        assert len(rx.calls) == 3
    stats = api.control("GET", f"webhooks/{hook['id']}")["stats"]
    assert stats["failed"] == 1 and stats["delivered"] == 0 and stats["pending"] == 0
    assert stats["lastError"] == "HTTP 500"


def test_given_the_duplicate_switch_when_an_event_is_delivered_then_it_arrives_twice_with_the_same_id(api):
    api.control("PATCH", "faults", webhook_duplicate_rate=1)
    with receiving() as rx:
        hook = register(api, rx.url)
        create_contact(api)
        first, second = rx.wait_for(2)
        settle(api)
    assert first.id == second.id and first.body == second.body and first.event == "contact.create"
    stats = api.control("GET", f"webhooks/{hook['id']}")["stats"]
    assert stats["delivered"] == 1 and stats["duplicates"] == 1


def test_given_the_shuffle_switch_and_a_seed_when_events_burst_then_they_arrive_out_of_order_the_same_way(api):
    orders = []
    for _ in range(2):
        api.sb.faults.update(seed=11, webhook_shuffle=5, webhook_shuffle_wait_ms=10_000)
        with receiving() as rx:
            hook = register(api, rx.url, events=["contact.create"])
            ids = [create_contact(api, name=f"Orden {n} SL") for n in range(5)]
            calls = rx.wait_for(5)
            settle(api)
        api.sb.webhooks.remove(hook["id"])
        arrived = [c.json()["id"] for c in calls]
        assert sorted(arrived) == sorted(ids) and arrived != ids
        orders.append([ids.index(i) for i in arrived])
    assert orders[0] == orders[1]  # same seed, same order


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "https://10.0.0.7/hook", "http://127.0.0.2/hook", "ftp://127.0.0.1/x", "", None],
)
def test_given_a_url_off_loopback_when_registering_then_it_is_refused(api, url):
    resp = requests.post(api.sb.control_url + "/webhooks", json={"url": url}, timeout=10)
    assert resp.status_code == 400 and "url" in resp.json()["error"]
    with pytest.raises(WebhookError, match="url"):
        v2_create(api.sb.webhooks, {"url": url, "events": ["*"]})
    assert api.sb.webhooks.list() == [] and api.sb.store.observer is None


@pytest.mark.parametrize(
    ("events", "message"),
    [(["invoice.created"], "unknown event"), (["lead.create"], "unknown event"), ([], "empty"), ("*", "list")],
)
def test_given_bad_event_names_when_registering_then_they_are_refused(api, events, message):
    resp = requests.post(
        api.sb.control_url + "/webhooks", json={"url": "http://127.0.0.1:9/x", "events": events}, timeout=10
    )
    assert resp.status_code == 400 and message in resp.json()["error"]


def test_given_a_subscription_to_one_event_when_others_happen_then_only_that_one_is_sent(api):
    with receiving() as rx:
        hook = register(api, rx.url, events=["contact.delete"])
        contact_id = create_contact(api)
        api.put(f"{CONTACTS}/{contact_id}", json={"name": "Otra SL"})
        create_invoice(api)
        settle(api)
        assert rx.calls == []
        api.delete(f"{CONTACTS}/{contact_id}")
        rx.wait_for(1)
        settle(api)
    assert rx.events() == ["contact.delete"]
    assert api.control("GET", f"webhooks/{hook['id']}")["stats"]["queued"] == 1


def test_given_every_event_subscribed_when_crm_and_project_records_change_then_nothing_is_sent(api):
    with receiving() as rx:
        hook = register(api, rx.url, events=["*"])
        funnel = api.post("/crm/v1/funnels", json={"name": "Embudo Hook"}).json()
        contact_id = create_contact(api)
        lead = {"funnelId": funnel["id"], "contactId": contact_id, "name": "Oportunidad"}
        assert api.post("/crm/v1/leads", json=lead).json()["status"] == 1
        assert api.post("/projects/v1/projects", json={"name": "Proyecto Hook"}).json()["status"] == 1
        assert api.post("/crm/v1/events", json={"name": "Llamada", "duration": 600}).json()["status"] == 1
        rx.wait_for(1)
        settle(api)
    assert rx.events() == ["contact.create"]
    assert api.control("GET", f"webhooks/{hook['id']}")["stats"]["queued"] == 1


def test_given_no_webhook_when_v1_writes_happen_then_no_work_is_queued(api):
    hub = api.sb.webhooks
    assert api.sb.store.observer is None
    create_contact(api)
    create_invoice(api)
    assert hub.pending() == 0 and hub.observer.wanted == frozenset()
    with receiving() as rx:
        hook = register(api, rx.url)
        assert api.sb.store.observer is hub.observer
        assert requests.delete(f"{api.sb.control_url}/webhooks/{hook['id']}", timeout=10).json()["deleted"]
    assert api.sb.store.observer is None  # the last webhook gone: writes are not observed any more
    create_contact(api)
    assert hub.pending() == 0 and rx.calls == []


def test_given_stock_and_product_changes_then_stock_update_and_product_update_are_told_apart(api):
    product = api.get("/invoicing/v1/products").json()[0]
    with receiving() as rx:
        register(api, rx.url, events=["stock.update", "product.update"])
        api.put(f"/invoicing/v1/products/{product['id']}/stock", json={"stock": {"w": {product["id"]: 4}}})
        api.put(f"/invoicing/v1/products/{product['id']}", json={"desc": "Nueva descripción"})
        calls = rx.wait_for(2)
        settle(api)
    assert [c.event for c in calls] == ["stock.update", "product.update"]
    stock = calls[0].json()
    assert stock["id"] == product["id"] and stock["stock"] == product["stock"] + 4 and stock["variation"] == 4


def test_given_a_payment_on_an_invoice_then_payment_create_and_invoice_update_arrive(api):
    doc_id = create_invoice(api)
    with receiving() as rx:
        register(api, rx.url)
        paid = api.post(f"{INVOICES}/{doc_id}/pay", json={"date": JAN_1_2024_MADRID, "amount": 21}).json()
        calls = rx.wait_for(2)
        settle(api)
    assert [c.event for c in calls] == ["payment.create", "invoice.update"]
    payment = calls[0].json()
    assert payment["id"] == paid["paymentId"] and payment["documentId"] == doc_id and payment["amount"] == 21
    assert payment["date"] == "2024-01-01" and payment["documentType"] == "invoice"


def test_given_a_webhook_when_the_sandbox_is_reset_or_filled_then_no_events_are_sent(api):
    with receiving() as rx:
        hook = register(api, rx.url)
        api.control("POST", "fill", collection="contacts", count=5)
        api.control("POST", "reset", seed=5, scale=0.05)
        settle(api)
        assert rx.calls == [] and api.sb.store.observer is not None
        doc = next(d for d in api.sb.store.all("invoice") if d["draft"])  # draft flags known again after reset
        with api.sb.store.lock:
            doc["draft"] = 0
            api.sb.store.save("invoice", doc)
        rx.wait_for(1)
        settle(api)
    assert rx.events() == ["invoice.approve"] and api.control("GET", "webhooks")["webhooks"][0]["id"] == hook["id"]


def test_given_a_receiver_that_hangs_when_the_sandbox_stops_then_the_worker_thread_ends(api):
    api.sb.faults.update(webhook_timeout_s=30)
    with receiving(delay=3) as rx:
        register(api, rx.url)
        create_contact(api)
        rx.wait_for(1)  # the attempt is in flight, its answer 3 s away
        api.sb.stop()
        assert not api.sb.webhooks.running and api.sb.webhooks.pending() == 0


def test_v2_entry_point_answers_id_and_secret_and_needs_events(api):
    with receiving() as rx:
        answer = v2_create(api.sb.webhooks, {"url": rx.url, "events": ["invoice.create"], "description": "ERP"})
    assert set(answer) == {"id", "secret"} and answer["secret"].startswith("whsec_")
    (listed,) = api.control("GET", "webhooks")["webhooks"]
    assert listed["id"] == answer["id"] and listed["events"] == ["invoice.create"]
    with pytest.raises(WebhookError, match="events needed"):
        v2_create(api.sb.webhooks, {"url": rx.url})
    assert api.sb.webhooks.remove(answer["id"]) and not api.sb.webhooks.remove(answer["id"])
    assert api.sb.store.observer is None


def test_the_catalogue_has_18_objects_and_58_events():
    assert len(EVENTS) == 58 and len({e.split(".")[0] for e in EVENTS}) == 18
    assert "stock.update" in EVENTS and "proform.approve" not in EVENTS and "lead.create" not in EVENTS


def test_webhook_switches_are_validated_and_settable_from_the_cli(api, capsys):
    resp = requests.patch(api.sb.control_url + "/faults", json={"webhook_duplicate_rate": 2}, timeout=10)
    assert resp.status_code == 400 and "webhook_duplicate_rate" in resp.json()["error"]
    assert api.control("PATCH", "faults", webhook_shuffle=True)["webhook_shuffle"] == 4
    assert sandbox_main(["--port", "0", "--webhook-max-attempts", "0"]) == 2
    assert "webhook_max_attempts" in capsys.readouterr().err
    assert sandbox_main(["--port", "0", "--webhook", "http://192.168.1.5/hook"]) == 2
    assert "127.0.0.1" in capsys.readouterr().err


def test_control_routes_list_show_and_delete_webhooks(api):
    assert register(api, "http://[::1]:9/hook")["events"] == ["*"]
    api.sb.webhooks.remove(api.sb.webhooks.hooks()[0].id)
    hook = register(api, "http://localhost:9/hook", events=["invoice.approve"], description="ERP")
    listed = api.control("GET", "webhooks")
    assert listed["accountId"] == api.sb.webhooks.account_id and [h["id"] for h in listed["webhooks"]] == [hook["id"]]
    assert api.control("GET", f"webhooks/{hook['id']}")["events"] == ["invoice.approve"]
    assert api.control("DELETE", f"webhooks/{hook['id']}") == {"id": hook["id"], "deleted": True}
    resp = requests.delete(f"{api.sb.control_url}/webhooks/{hook['id']}", timeout=10)
    assert resp.status_code == 404 and api.control("GET", "webhooks")["webhooks"] == []
    assert "webhooks" in api.control("GET", "")["routes"]


def test_given_a_webhook_when_v2_routes_write_then_the_same_events_arrive(v2):
    contact_id = v2.get("/contacts", params={"limit": 1}).json()["items"][0]["id"]
    with receiving() as rx:
        register(v2.v1, rx.url, events=["invoice.create", "invoice.approve", "contact.update", "contact.delete"])
        body = {"contact_id": contact_id, "date": "2024-01-01", "items": [{"name": "Soporte", "price": 100}]}
        doc_id = v2.post("/invoices", json=body).json()["id"]
        assert v2.post(f"/invoices/{doc_id}/approve").status_code == 200
        assert v2.delete(f"/contacts/{contact_id}").status_code == 204
        calls = rx.wait_for(3)
        settle(v2.v1)
    assert [c.event for c in calls] == ["invoice.create", "invoice.approve", "contact.delete"]
    assert calls[0].json()["documentNumber"] is None and calls[0].json()["isDraft"] is True  # v2 drafts: no number
    approved = calls[1].json()
    assert approved["id"] == doc_id and approved["documentNumber"].startswith("F24") and approved["isDraft"] is False
    assert calls[2].json()["id"] == contact_id and "deletedAt" in calls[2].json()


def test_given_the_v2_route_then_a_registration_needs_the_permission_and_its_secret_signs_the_events(v2):
    reader = v2.with_permissions("contacts:contacts.write")
    refused = reader.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["contact.create"]})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Insufficient permissions: developers:webhooks.write required."
    outside = v2.post("/webhooks", json={"url": "https://hooks.example.com/x", "events": ["contact.create"]})
    assert outside.status_code == 422 and outside.headers["Content-Type"].startswith("application/problem+json")
    with receiving() as rx:
        answer = v2.post("/webhooks", json={"url": rx.url, "events": ["contact.create"], "description": "crm"})
        assert answer.status_code == 201 and answer.json()["secret"].startswith("whsec_")
        created = v2.post("/contacts", json={"name": "Por Webhook SL", "is_person": False})
        assert created.status_code == 201, created.text
        (call,) = rx.wait_for(1)
        settle(v2.v1)
    assert call.event == "contact.create" and call.json()["id"] == created.json()["id"]
    assert verify(answer.json()["secret"], call.body, call.headers["x-holded-webhook-signature"])
    # Holded serves no list nor delete on v2 (not reported anywhere): the control routes do that here.
    assert v2.get("/webhooks").status_code == 404
    listed = requests.get(v2.sb.control_url + "/webhooks", timeout=10).json()["webhooks"]
    assert [hook["id"] for hook in listed] == [answer.json()["id"]]
