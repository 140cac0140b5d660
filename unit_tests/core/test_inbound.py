"""The receiver's core: signatures, deliveries, the webhook-object table, single-record state edits, and the
connector's own writes told apart when they come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from holded_core.changes import ChangeTracker, edited_state, encode_snapshot, known_values
from holded_core.dialects.v1 import V1
from holded_core.dialects.v2 import V2
from holded_core.dialects.webhooks import WEBHOOK_OBJECTS
from holded_core.inbound import BadDelivery, parse_delivery, verify_signature
from holded_core.own_writes import OwnWrite, is_echo
from holded_core.writes import WriteResult
from holded_sandbox.webhook_delivery import sign
from holded_sandbox.webhook_events import OBJECTS

SECRET = "whsec_unit-test-secret"
HEADERS = {
    "x-holded-webhook-event": "invoice.update",
    "x-holded-webhook-id": "6650f0c2a1b2c3d4e5f60718",
    "x-holded-webhook-account-id": "5f0000000000000000000001",
}


def test_given_holded_signature_then_verified_and_any_other_refused():
    body = b'{"id":"6650f0c2a1b2c3d4e5f60799"}'
    assert verify_signature(SECRET, body, sign(SECRET, body))
    assert not verify_signature(SECRET, body + b" ", sign(SECRET, body))
    assert not verify_signature(SECRET, body, sign(SECRET.removeprefix("whsec_"), body))  # the prefix is key
    assert not verify_signature(SECRET, body, None)


def test_given_a_delivery_then_its_object_action_and_record_id_are_read():
    delivery = parse_delivery(HEADERS, b'{"id":"6650f0c2a1b2c3d4e5f60799","isDraft":true}')
    assert (delivery.object, delivery.action, delivery.record_id) == ("invoice", "update", "6650f0c2a1b2c3d4e5f60799")
    with pytest.raises(BadDelivery, match="x-holded-webhook-id"):
        parse_delivery({k: v for k, v in HEADERS.items() if k != "x-holded-webhook-id"}, b"{}")
    with pytest.raises(BadDelivery, match="not a JSON object"):
        parse_delivery(HEADERS, b"[1]")


def test_every_holded_webhook_object_has_its_row_and_names_a_resource_v1_serves():
    assert set(WEBHOOK_OBJECTS) == set(OBJECTS)  # the sandbox's catalogue: Holded's 18 objects
    for name, row in WEBHOOK_OBJECTS.items():
        assert row.actions == OBJECTS[name]
        assert row.resource is None or row.resource in V1.resources, name
    assert WEBHOOK_OBJECTS["receipt"].resource is None
    assert "purchase_refunds" not in V2.resources  # so purchaserefund deliveries are ignored on v2


def test_given_single_records_edited_then_the_next_listing_finds_them_unchanged_and_gone_ones_gone():
    a, b, c = "6650f0c2a1b2c3d4e5f60701", "6650f0c2a1b2c3d4e5f60702", "6650f0c2a1b2c3d4e5f60703"
    state = {"v": 1, "snapshot": encode_snapshot({a: b"aaaa", b: b"bbbb"}), "pending": [encode_snapshot({c: b"cccc"})]}
    edited = edited_state(state, {a: b"AAAA", b: None, f"{c}:1": b"dddd"})
    assert known_values(edited) == {a: b"AAAA", c: b"cccc", f"{c}:1": b"dddd"}
    tracker = ChangeTracker(edited)
    assert tracker.observe(a, b"AAAA") is None and tracker.observe(c, b"cccc") is None
    assert tracker.observe(f"{c}:1", b"dddd") is None
    assert tracker.missing() == []  # `b` is not a deletion candidate any more: already deleted
    assert edited_state(None, {a: b"aaaa"}, scope=1_704_063_600)["scope"] == 1_704_063_600


def _event(kind: str, changed: list[str] | None, **record: object) -> dict:
    return {"model": "genericCompany", "recordId": "r1", "type": kind, "changedFields": changed, "record": record}


def test_given_an_update_the_connector_wrote_then_its_return_is_an_echo_and_another_change_is_not():
    result = WriteResult("genericCompany", "k", "upsert", "updated", "r1", changes={"name": ["Old SL", "New SL"]})
    write = OwnWrite.of(result, {"id": "k", "name": "New SL"})
    assert write is not None and write.fields == {"name": "New SL"}
    assert is_echo(_event("updated", ["updatedAt", "name"], name="New SL"), [write])
    assert not is_echo(_event("updated", ["updatedAt", "name", "email"], name="New SL"), [write])  # someone else too
    assert not is_echo(_event("updated", ["updatedAt", "name"], name="Renamed again SL"), [write])
    assert not is_echo(_event("updated", ["updatedAt"], name="New SL"), [write])  # nothing it wrote changed
    later = datetime.now(UTC) + timedelta(days=8)
    assert not is_echo(_event("updated", ["name"], name="New SL"), [write], now=later)


def test_given_a_create_or_delete_the_connector_wrote_then_only_that_kind_comes_back_as_echo():
    created = OwnWrite.of(WriteResult("genericCompany", "k", "create", "created", "r1"), {"id": "k", "name": "N"})
    deleted = OwnWrite.of(WriteResult("genericCompany", "k", "delete", "deleted", "r1"), {"id": "k"})
    assert created is not None and deleted is not None
    assert is_echo(_event("created", None, name="N"), [created])
    assert not is_echo(_event("deleted", None), [created])
    assert is_echo({**_event("deleted", None), "record": None}, [deleted])
    assert OwnWrite.of(WriteResult("genericCompany", "k", "upsert", "unchanged", "r1"), {"id": "k"}) is None
    assert OwnWrite.of(WriteResult("genericCompany", "k", "upsert", "rejected"), {"id": "k"}) is None
