"""The runner's DuckDB store: typed tables, merge by key, tombstones, events appended once, atomic state."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from holded_cli.store import Store
from holded_cli.tables import table_for
from holded_core.settings import parse_settings
from holded_core.streams import DELETED_AT, events_stream
from unit_tests.runner.conftest import make_event

SETTINGS = parse_settings({"credentials": {"auth_type": "api_key", "api_key": "unit-test-key"}})
SPECS = {spec.name: spec for spec in SETTINGS.streams()}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "t.duckdb") as s:
        for name in ("crmOpportunity", "contacts", "daily_ledger"):
            s.ensure_table(table_for(SPECS[name]))
        s.ensure_table(table_for(events_stream()))
        yield s


def opp(i: str, amount: float | str | None = 10.0, **extra):
    record = {"id": i, "name": f"deal {i}", "amount": amount, "createdAt": "2024-05-01T10:00:00Z", "customFields": {}}
    return {**record, **extra}


def rows(store: Store, sql: str) -> list[tuple]:
    return store.con.execute(sql).fetchall()


def test_unified_columns_are_typed(store):
    store.commit({"crmOpportunity": [opp("a", 12.5, probability="0.4")]}, {})
    assert rows(store, "SELECT amount, probability, year(createdAt), customFields::VARCHAR FROM crmOpportunity") == [
        (12.5, 0.4, 2024, "{}")
    ]


def test_merge_by_key_last_wins_and_tombstones_remove(store):
    store.commit({"crmOpportunity": [opp("a"), opp("b"), opp("c")]}, {})
    counts = store.commit(
        {"crmOpportunity": [opp("a", 1.0), opp("a", 2.0), {"id": "b", DELETED_AT: "2024-06-01T00:00:00Z"}]}, {}
    )
    assert rows(store, "SELECT id, amount FROM crmOpportunity ORDER BY id") == [("a", 2.0), ("c", 10.0)]
    assert (counts["crmOpportunity"].upserted, counts["crmOpportunity"].deleted) == (2, 1)
    # A record deleted then re-created within one batch ends present (the last occurrence wins).
    store.commit({"crmOpportunity": [{"id": "c", DELETED_AT: "2024-06-01T00:00:00Z"}, opp("c", 3.0)]}, {})
    assert rows(store, "SELECT amount FROM crmOpportunity WHERE id = 'c'") == [(3.0,)]


def test_a_malformed_value_becomes_null_not_a_failed_batch(store):
    store.commit({"crmOpportunity": [opp("a", "not a number", createdAt="yesterday"), opp("b")]}, {})
    assert rows(store, "SELECT id, amount, createdAt IS NULL FROM crmOpportunity ORDER BY id") == [
        ("a", None, True),
        ("b", 10.0, False),
    ]


def test_native_streams_keep_the_whole_record_and_composite_keys(store):
    store.commit({"contacts": [{"id": "x1", "name": "Uno", "isperson": 1}]}, {})
    assert rows(store, "SELECT id, record->>'name' FROM contacts") == [("x1", "Uno")]
    ledger = [{"entryNumber": 1, "line": 1, "debit": 5}, {"entryNumber": 1, "line": 2, "debit": 6}]
    store.commit({"daily_ledger": ledger}, {})
    store.commit({"daily_ledger": [{"entryNumber": 1, "line": 2, "debit": 7}]}, {})
    assert rows(store, "SELECT line, (record->>'debit')::INT FROM daily_ledger ORDER BY line") == [("1", 5), ("2", 7)]


def test_events_are_appended_once_in_detection_order(store):
    store.commit({"changeEvents": [make_event("e2"), make_event("e1")]}, {})
    store.commit({"changeEvents": [make_event("e1"), make_event("e3")]}, {})  # e1 again after a resumed run
    assert [r[0] for r in rows(store, 'SELECT id FROM "changeEvents" ORDER BY seq')] == ["e2", "e1", "e3"]


def test_state_is_saved_with_the_rows_or_not_at_all(store, monkeypatch):
    store.commit({"crmOpportunity": [opp("a")]}, {"crmOpportunity": {"v": 1, "n": 1}})
    assert store.states() == {"crmOpportunity": {"v": 1, "n": 1}}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "_merge_batch", staticmethod(broken))
    with pytest.raises(RuntimeError):
        store.commit({"crmOpportunity": [opp("b")]}, {"crmOpportunity": {"v": 1, "n": 2}})
    assert store.states() == {"crmOpportunity": {"v": 1, "n": 1}}  # rolled back with the rows
    assert rows(store, "SELECT id FROM crmOpportunity") == [("a",)]


@pytest.mark.parametrize("make_room", [True, False])
def test_a_state_row_larger_than_duckdbs_cap_is_saved_not_a_crash(tmp_path, monkeypatch, make_room):
    # A large account's state rows outgrow a fixed cap (one row of n MiB needs ~2n at once): the store raises it.
    from holded_cli import store as store_module

    monkeypatch.setattr(store_module, "MEMORY_LIMIT_MB", 16)
    if not make_room:  # what a fixed cap did: the control case, failing as a large account's sync did
        monkeypatch.setattr(store_module, "STATE_ROOM_PER_MB", 0)
        monkeypatch.setattr(store_module, "STATE_ROOM_MB", 16)
    big = {"v": 1, "snapshot": "x" * (12 << 20)}
    with Store(tmp_path / "t.duckdb") as s:
        s.ensure_table(table_for(SPECS["crmOpportunity"]))
        if not make_room:
            with pytest.raises(duckdb.OutOfMemoryException):
                s.commit({"crmOpportunity": [opp("a")]}, {"crmOpportunity": big})
            return
        s.commit({"crmOpportunity": [opp("a")]}, {"crmOpportunity": big})
        assert s.states() == {"crmOpportunity": big}
        assert rows(s, "SELECT id FROM crmOpportunity") == [("a",)]


def test_a_state_row_saved_under_a_raised_cap_is_read_by_the_next_run(tmp_path, monkeypatch):
    from holded_cli import store as store_module

    monkeypatch.setattr(store_module, "MEMORY_LIMIT_MB", 16)
    monkeypatch.setattr(store_module, "STATE_ROOM_MB", 16)  # a floor of 16MB: reading 24 MiB of states needs more
    states = {name: {"v": 1, "snapshot": name * (8 << 20)} for name in ("a", "b", "c")}  # 24 MiB in all
    with Store(tmp_path / "t.duckdb") as s:
        s.commit({}, states)
    with Store(tmp_path / "t.duckdb") as s:  # a fresh run starts at the floor again
        assert s.states() == states


def test_a_newer_schema_adds_columns(tmp_path):
    path = tmp_path / "evolve.duckdb"
    with Store(path) as s:
        s.con.execute('CREATE TABLE "genericUser" (id VARCHAR, "_synced_at" TIMESTAMPTZ)')
        s.ensure_table(table_for(SPECS["genericUser"]))
        sql = "SELECT column_name FROM information_schema.columns WHERE table_name = 'genericUser'"
        columns = {r[0] for r in rows(s, sql)}
    assert {"firstName", "email", "customFields"} <= columns


def test_a_database_in_use_is_a_clear_error(tmp_path):
    path = tmp_path / "busy.duckdb"
    path.write_text("not a database")
    from holded_core.errors import HoldedConfigError

    with pytest.raises(HoldedConfigError, match="--db"):
        Store(path)


def test_calendar_days_are_date_columns(store):
    store.ensure_table(table_for(SPECS["accountingInvoice"]))
    invoice = {"id": "i1", "issueDate": "2024-01-01", "dueDate": "2024-01-31", "createdAt": None, "customFields": {}}
    store.commit({"accountingInvoice": [invoice]}, {})
    assert rows(store, "SELECT issueDate, dueDate, year(issueDate) FROM accountingInvoice") == [
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31), 2024)
    ]


def test_a_text_day_column_from_an_earlier_version_is_retyped_and_refilled_by_the_next_sync(tmp_path):
    with Store(tmp_path / "old.duckdb") as s:
        # Before days were days: issueDate was text holding a UTC instant (1 January in Madrid read as 31 December).
        s.con.execute('CREATE TABLE "accountingInvoice" (id VARCHAR, "issueDate" VARCHAR, _synced_at TIMESTAMPTZ)')
        s.con.execute("INSERT INTO \"accountingInvoice\" VALUES ('old', '2023-12-31T23:00:00Z', now()), "
                      "('day', '2024-01-01', now())")  # fmt: skip
        s.ensure_table(table_for(SPECS["accountingInvoice"]))
        types = dict(rows(s, "SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'accountingInvoice'"))  # fmt: skip
        assert types["issueDate"] == types["dueDate"] == "DATE"
        # The instant is not guessed into a day (it would be the wrong one); a day keeps its value.
        assert rows(s, "SELECT id, issueDate FROM accountingInvoice ORDER BY id") == [
            ("day", dt.date(2024, 1, 1)),
            ("old", None),
        ]
        s.commit({"accountingInvoice": [{"id": "old", "issueDate": "2024-01-01", "customFields": {}}]}, {})
        assert rows(s, "SELECT DISTINCT issueDate FROM accountingInvoice") == [(dt.date(2024, 1, 1),)]


def state_written(store: Store) -> dict[str, object]:
    """Each state row (`changeEvents:<model>` for a model's change-events state) -> when it was last written."""
    written = dict(rows(store, "SELECT stream, updated_at FROM _holded_state"))
    return written | dict(rows(store, "SELECT 'changeEvents:' || model, updated_at FROM _holded_event_state"))


def test_given_states_when_committed_again_then_only_the_changed_rows_are_written(store):
    events = {"v": 1, "models": {"genericContact": {"v": 1, "n": 1}, "crmOpportunity": {"v": 1, "n": 1}}}
    store.commit({}, {"crmOpportunity": {"v": 1, "n": 1}, "contacts": {"v": 1, "n": 1}, "changeEvents": events})
    first = state_written(store)
    assert set(first) == {"crmOpportunity", "contacts", "changeEvents:genericContact", "changeEvents:crmOpportunity"}
    events = {"v": 1, "models": {"genericContact": {"v": 1, "n": 1}, "crmOpportunity": {"v": 1, "n": 2}}}
    store.commit({}, {"crmOpportunity": {"v": 1, "n": 1}, "contacts": {"v": 1, "n": 2}, "changeEvents": events})
    second = state_written(store)
    assert {name for name in first if second[name] != first[name]} == {"contacts", "changeEvents:crmOpportunity"}
    # A change-events state naming one model leaves the others' as they are.
    store.commit({}, {"changeEvents": {"v": 1, "models": {"genericContact": {"v": 1, "n": 3}}}})
    assert store.states(["changeEvents"]) == {
        "changeEvents": {"v": 1, "models": {"genericContact": {"v": 1, "n": 3}, "crmOpportunity": {"v": 1, "n": 2}}}
    }
    assert store.states(["changeEvents"], ["crmOpportunity"]) == {
        "changeEvents": {"v": 1, "models": {"crmOpportunity": {"v": 1, "n": 2}}}
    }


def test_given_a_file_with_the_old_one_row_layout_then_it_reads_the_same_and_is_migrated(tmp_path):
    path = tmp_path / "old.duckdb"
    events = {"v": 1, "models": {"genericContact": {"v": 1, "n": 1}, "crmOpportunity": {"v": 1, "n": 2}}}
    with Store(path) as s:
        s.con.execute("DROP TABLE _holded_event_state")  # as an older release created the file
        s.con.execute("INSERT INTO _holded_state VALUES ('changeEvents', ?, now()), ('contacts', '{\"n\": 1}', now())",
                      [json.dumps(events)])  # fmt: skip
    with Store(path) as s:
        assert s.has_events_state()
        assert s.states() == {"changeEvents": events, "contacts": {"n": 1}}
        assert rows(s, "SELECT stream FROM _holded_state") == [("contacts",)]
        before = state_written(s)
        s.commit({}, {"changeEvents": events})  # the same content: nothing is written again
        assert state_written(s) == before
    with Store(path) as s:
        assert s.states() == {"changeEvents": events, "contacts": {"n": 1}}
        s.forget_state(["changeEvents"])
        assert s.states() == {"contacts": {"n": 1}} and not s.has_events_state()
