"""Compact snapshot state, change tracking, deletions and events."""

from __future__ import annotations

import random

from holded_core.changes import (
    ChangeTracker,
    build_event,
    bytes_per_record,
    decode_snapshot,
    encode_snapshot,
    events_width,
    field_hashes,
    fingerprint,
)


def _oid(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def test_fingerprint_ignores_key_order_and_sees_values():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert len(fingerprint({"a": 1})) == 4


def test_snapshot_round_trips_every_id_shape():
    rng = random.Random(1)
    entries = {_oid(rng): fingerprint({"i": i}) for i in range(300)}
    parent = _oid(rng)
    entries |= {f"{parent}:{i}": fingerprint({"line": i}) for i in range(5)}  # invoice lines
    entries |= {f"{parent}:{_oid(rng)}": b"abcd" for _ in range(3)}  # stages, contact persons
    entries |= {"s_iva_21": b"wxyz", "12:1": b"1234", "12:2": b"5678"}  # natural and composite keys
    assert decode_snapshot(encode_snapshot(entries)) == entries


def test_plain_ids_take_sixteen_bytes_a_record():
    rng = random.Random(2)
    state = {"snapshot": encode_snapshot({_oid(rng): b"\x00\x01\x02\x03" for _ in range(1000)})}
    assert bytes_per_record(state) == 16.0


def test_children_share_their_parent():
    rng = random.Random(3)
    parents = [_oid(rng) for _ in range(100)]
    entries = {f"{parent}:{i}": b"abcd" for parent in parents for i in range(5)}
    assert bytes_per_record({"snapshot": encode_snapshot(entries)}) < 16


def test_tracker_first_run_then_no_change_then_changes_and_deletions():
    first = ChangeTracker(None)
    for key, value in [("a" * 24, b"0001"), ("b" * 24, b"0002"), ("c" * 24, b"0003")]:
        assert first.observe(key, value).kind == "created"
    state = first.complete()

    again = ChangeTracker(state)
    assert again.observe("a" * 24, b"0001") is None
    assert again.observe("b" * 24, b"0002") is None
    assert again.observe("c" * 24, b"0003") is None
    assert again.deletions() == []

    later = ChangeTracker(again.complete())
    assert later.observe("a" * 24, b"9999").kind == "updated"
    assert later.observe("d" * 24, b"0004").kind == "created"
    assert later.observe("c" * 24, b"0003") is None
    assert later.missing() == ["b" * 24]  # a candidate only
    assert later.deletions() == []
    later.confirm_deleted("b" * 24)  # Holded said 404
    assert [c.key for c in later.deletions()] == ["b" * 24]
    final = later.complete()
    assert set(decode_snapshot(final["snapshot"])) == {"a" * 24, "c" * 24, "d" * 24}


def test_given_a_missing_record_nobody_confirmed_when_completing_then_it_stays_with_its_old_value():
    first = ChangeTracker(None)
    first.observe("a" * 24, b"0001")
    first.observe("b" * 24, b"0002")
    nxt = ChangeTracker(first.complete())
    nxt.observe("a" * 24, b"0001")
    state = nxt.complete()
    assert decode_snapshot(state["snapshot"]) == {"a" * 24: b"0001", "b" * 24: b"0002"}
    assert nxt.deletions() == []


def test_given_no_route_by_id_when_two_listings_lack_a_record_then_the_second_confirms_it():
    first = ChangeTracker(None)
    for key in ("k1", "k2", "k3"):
        first.observe(key, b"0001")
    second = ChangeTracker(first.complete())
    second.observe("k1", b"0001")
    second.observe("k2", b"0001")
    assert second.missing() == ["k3"] and not second.missing_before("k3")
    second.hold("k3", note_missing=True)
    state = second.complete()
    assert "missing" in state and "k3" in decode_snapshot(state["snapshot"])
    # Seen again: no longer a candidate, the note is dropped.
    back = ChangeTracker(state)
    for key in ("k1", "k2", "k3"):
        back.observe(key, b"0001")
    assert back.missing() == [] and "missing" not in back.complete()
    # Missing twice in a row: the second listing confirms it.
    third = ChangeTracker(state)
    third.observe("k1", b"0001")
    third.observe("k2", b"0001")
    assert third.missing_before("k3")
    assert third.checkpoint()["missing"] == state["missing"]  # a resumed pass keeps the note


def test_resume_does_not_re_emit_what_was_emitted_before_the_kill():
    base = ChangeTracker(None)
    base.observe("a" * 24, b"0001")
    base.observe("b" * 24, b"0002")
    state = base.complete()

    interrupted = ChangeTracker(state)
    assert interrupted.observe("a" * 24, b"1111").kind == "updated"
    checkpoint = interrupted.checkpoint()  # killed after this

    resumed = ChangeTracker(checkpoint)
    assert resumed.resumed
    assert resumed.observe("a" * 24, b"1111") is None  # already emitted before the kill
    assert resumed.observe("b" * 24, b"0002") is None
    assert resumed.deletions() == []


def test_incomplete_listing_keeps_unseen_records_known():
    tracker = ChangeTracker(None)
    tracker.observe("a" * 24, b"0001")
    tracker.observe("b" * 24, b"0002")
    cut = ChangeTracker(tracker.complete())
    cut.observe("a" * 24, b"0001")
    # The listing failed here: only a checkpoint is written, never deletions.
    after = ChangeTracker(cut.checkpoint())
    assert set(after.known) == {"a" * 24, "b" * 24}


def test_keep_protects_an_unreadable_record_from_deletion():
    tracker = ChangeTracker(None)
    tracker.observe("a" * 24, b"0001")
    nxt = ChangeTracker(tracker.complete())
    nxt.keep("a" * 24)
    assert nxt.deletions() == []


def test_event_ids_are_stable_and_changed_fields_are_told():
    fields = ("id", "name", "email")
    old = {"id": "x", "name": "Ana", "email": "a@x.es"}
    new = {"id": "x", "name": "Ana", "email": "ana@x.es"}
    tracker = ChangeTracker(None, width=events_width(fields), versioned=True)
    tracker.observe("x", fingerprint(old) + field_hashes(old, fields))
    nxt = ChangeTracker(tracker.complete(), width=events_width(fields), versioned=True)
    change = nxt.observe("x", fingerprint(new) + field_hashes(new, fields))
    event = build_event("genericContact", change, new, fields, "2026-01-01T00:00:00Z")
    assert event["event"] == "genericContact::updated" and event["changedFields"] == ["email"]
    again = build_event("genericContact", change, new, fields, "2026-02-02T00:00:00Z")
    assert again["id"] == event["id"]


def test_a_state_with_one_byte_field_hashes_reads_without_false_updates_and_unknown_changed_fields():
    """An older release kept 1 hash byte per field (a changed field missed once in 256): its state must
    neither turn every record into an update nor guess changedFields after the upgrade."""
    fields = ("id", "name", "email")
    same = {"id": "a" * 24, "name": "Ana", "email": "a@x.es"}
    edited_before = {"id": "b" * 24, "name": "Bea", "email": "b@x.es"}
    edited_now = {**edited_before, "email": "bea@x.es"}
    one_byte = {r["id"]: fingerprint(r) + bytes(len(fields)) for r in (same, edited_before)}
    old_state = {"v": 1, "snapshot": encode_snapshot(one_byte, 4 + len(fields))}

    tracker = ChangeTracker(old_state, width=events_width(fields), versioned=True)
    assert tracker.observe(same["id"], fingerprint(same) + field_hashes(same, fields)) is None
    change = tracker.observe(edited_now["id"], fingerprint(edited_now) + field_hashes(edited_now, fields))
    assert change is not None and change.kind == "updated"
    event = build_event("genericContact", change, edited_now, fields, "2026-01-01T00:00:00Z")
    assert event["changedFields"] is None  # not known from a 1-byte state: not guessed

    # The next sync reads what this one stored: 2-byte hashes, exact changedFields.
    nxt = ChangeTracker(tracker.complete(), width=events_width(fields), versioned=True)
    renamed = {**same, "name": "Ana María"}
    change = nxt.observe(same["id"], fingerprint(renamed) + field_hashes(renamed, fields))
    assert build_event("genericContact", change, renamed, fields, "t")["changedFields"] == ["name"]
    assert nxt.observe(edited_now["id"], fingerprint(edited_now) + field_hashes(edited_now, fields)) is None


def test_a_record_going_back_and_forth_gets_a_new_event_id_each_time_and_a_resume_the_same():
    """A -> B -> A -> B: four contents, two of them seen before. Each change is a new event for a consumer
    de-duplicating on the id (it used to get B's first id again, and drop the change); the same change
    detected again after a resume keeps its id."""
    fields = ("id", "description")
    contents = [{"id": "x", "description": d} for d in ("Alpha", "Beta", "Alpha", "Beta")]
    state, ids = None, []
    for record in contents:
        tracker = ChangeTracker(state, width=events_width(fields), versioned=True)
        change = tracker.observe("x", fingerprint(record) + field_hashes(record, fields))
        assert change is not None
        event = build_event("accountingInvoice", change, record, fields, "t")
        if ids:
            assert event["changedFields"] == ["description"]
            again = ChangeTracker(state, width=events_width(fields), versioned=True)  # a resumed pass
            redo = again.observe("x", fingerprint(record) + field_hashes(record, fields))
            assert build_event("accountingInvoice", redo, record, fields, "t")["id"] == event["id"]
        ids.append(event["id"])
        state = tracker.complete()
    assert len(set(ids)) == 4
    unchanged = ChangeTracker(state, width=events_width(fields), versioned=True)
    assert unchanged.observe("x", fingerprint(contents[-1]) + field_hashes(contents[-1], fields)) is None


def test_unreadable_state_is_a_clear_config_error():
    import pytest

    from holded_core.changes import UnreadableState

    corrupt = {"v": 1, "snapshot": {"fmt": "hex+parts", "n": 1, "nh": 1, "w": 4, "data": "not base64 !"}}
    with pytest.raises(UnreadableState, match=r"genericCompany.*reset that stream's state"):
        ChangeTracker(corrupt, stream="genericCompany")
    with pytest.raises(UnreadableState, match="state version 99"):
        ChangeTracker({"v": 99}, stream="genericCompany")


def test_given_raw_fingerprints_then_an_unchanged_record_is_carried_with_its_children_and_a_changed_one_is_not():
    from holded_core.changes import raw_fingerprint

    a, b = "a" * 24, "b" * 24
    listed = {a: {"id": a, "lines": [1, 2]}, b: {"id": b, "lines": [3]}}
    first = ChangeTracker(None, raw_context="ctx1")
    for hid, record in listed.items():
        for i, _ in enumerate(record["lines"]):
            first.observe(f"{hid}:{i}", fingerprint({"line": i, "of": hid}))
        first.note_raw(hid, raw_fingerprint(record))
    state = first.complete()

    second = ChangeTracker(state, raw_context="ctx1")
    edited = {**listed[b], "lines": [4]}
    assert second.carry([a, b], [raw_fingerprint(listed[a]), raw_fingerprint(edited)]) == [True, False]
    assert second.missing() == [f"{b}:0"]  # a's two lines were carried; b is mapped and compared as before
    assert second.observe(f"{b}:0", fingerprint({"line": 0, "of": "edited"})).kind == "updated"
    second.note_raw(b, raw_fingerprint(edited))
    assert second.missing() == []
    third = ChangeTracker(second.complete(), raw_context="ctx1")
    assert third.carry([a, b], [raw_fingerprint(listed[a]), raw_fingerprint(edited)]) == [True, True]
    assert third.missing() == []


def test_given_a_state_kept_under_another_context_or_before_raw_fingerprints_then_nothing_is_carried_or_reemitted():
    from holded_core.changes import raw_fingerprint

    a = "a" * 24
    old = ChangeTracker(None)  # an older release: no raw fingerprints in its state
    old.observe(a, b"0001")
    state = old.complete()
    assert "raw" not in state
    upgraded = ChangeTracker(state, raw_context="ctx1")
    assert upgraded.carry([a], [raw_fingerprint({"id": a})]) == [False]
    assert upgraded.observe(a, b"0001") is None  # mapped and compared: no false change
    upgraded.note_raw(a, raw_fingerprint({"id": a}))
    kept = upgraded.complete()
    assert ChangeTracker(kept, raw_context="ctx1").carry([a], [raw_fingerprint({"id": a})]) == [True]
    assert ChangeTracker(kept, raw_context="ctx2").carry([a], [raw_fingerprint({"id": a})]) == [False]


def test_given_a_child_held_as_missing_then_its_parent_is_mapped_again_next_pass_not_carried():
    from holded_core.changes import raw_fingerprint

    a = "a" * 24
    first = ChangeTracker(None, raw_context="c")
    first.observe(f"{a}:0", b"0000")
    first.observe(f"{a}:1", b"1111")
    first.note_raw(a, raw_fingerprint({"id": a, "n": 2}))
    second = ChangeTracker(first.complete(), raw_context="c")
    shrunk = raw_fingerprint({"id": a, "n": 1})
    assert second.carry([a], [shrunk]) == [False]
    second.observe(f"{a}:0", b"0000")
    second.note_raw(a, shrunk)
    assert second.missing() == [f"{a}:1"]
    second.hold(f"{a}:1")  # Holded did not confirm it: kept, and its parent is not trusted unchanged
    third = ChangeTracker(second.complete(), raw_context="c")
    assert third.carry([a], [shrunk]) == [False]


def test_given_a_pass_that_changed_nothing_then_its_state_is_the_saved_one_and_a_change_re_encodes_it():
    from holded_core.changes import raw_fingerprint

    rng = random.Random(7)
    records = {_oid(rng): {"n": n} for n in range(50)} | {"natural-key": {"n": 50}}
    first = ChangeTracker(None, raw_context="ctx")
    for key, record in records.items():
        first.observe(key, fingerprint(record))
        first.note_raw(key, raw_fingerprint(record))
    first.listed = len(records)
    saved = first.complete()

    again = ChangeTracker(saved, raw_context="ctx")
    assert all(again.carry(list(records), [raw_fingerprint(r) for r in records.values()]))
    again.listed = len(records)
    same = again.complete()
    assert same == saved  # so the store writes nothing (`holded_cli.saved_state`)
    assert same["snapshot"] is saved["snapshot"] and same["raw"] is saved["raw"]  # kept, not re-encoded

    changed = ChangeTracker(saved, raw_context="ctx")
    key = next(iter(records))
    fresh = [raw_fingerprint({"n": "edited"} if k == key else r) for k, r in records.items()]
    assert changed.carry(list(records), fresh) == [k != key for k in records]
    assert changed.observe(key, fingerprint({"n": "edited"})).kind == "updated"
    changed.note_raw(key, fresh[0])
    state = changed.complete()
    assert decode_snapshot(state["snapshot"]) == decode_snapshot(saved["snapshot"]) | {
        key: fingerprint({"n": "edited"})
    }
    assert state["raw"] != saved["raw"]
