"""The local DuckDB database: one table per stream, the sync state, change events and their deliveries.

Writes are batched: `Store.commit` merges every buffered stream by primary key (a deleted record's
row is removed), appends new change events, and saves the sync state, all in one transaction, so
the state on disk never covers rows that are not there: a killed run resumes from its last commit.
Rows reach DuckDB in bulk (one array of JSON texts per batch, typed by DuckDB), never an INSERT per row.
`_holded_listed` keeps when each stream's last complete listing started (`holded sync` with webhooks on lists
a stream Holded's webhooks keep only once `reconcile_every` has passed since); it is written after the run,
so a run killed before it only makes the next one list again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson

from holded_cli.saved_state import DDL as STATE_DDL
from holded_cli.saved_state import SavedStates
from holded_cli.tables import ORIGIN, SYNCED_AT, TableSpec, quote
from holded_core.errors import HoldedConfigError
from holded_core.own_writes import CONNECTOR, HOLDED, WINDOW, OwnWrite, is_echo
from holded_core.streams import DELETED_AT, EVENTS_STREAM

RUNS = "_holded_runs"
WEBHOOKS = "_holded_webhooks"
DELIVERIES = "_holded_deliveries"
EVENT_SEQ = "_holded_event_seq"
OWN_WRITES = "_holded_own_writes"  # what `holded push` wrote, so it is recognised coming back (own_writes.py)
INBOX = "_holded_inbox"  # Holded's webhook deliveries, stored before they are answered (holded_cli/receiver.py)
LISTED = "_holded_listed"  # each stream's last complete listing (`holded sync` with webhooks on reconciles by it)
REGISTERED = "_holded_registered_webhooks"  # what `holded webhooks register` registered (webhook_setup.py)
# Text columns retyped when the schema now says day or instant: how each old value converts.
_RETYPED = {
    "DATE": "CASE WHEN length({0}) = 10 THEN TRY_CAST({0} AS DATE) END",  # `YYYY-MM-DD` only
    "TIMESTAMPTZ": "TRY_CAST({0} AS TIMESTAMPTZ)",
}
LOCK_WAIT = 10.0  # seconds a command waits for the file while another process (the receiver) holds it
# DuckDB's own cap (it evicts and spills what it can below it). It was 512MB while the change-events state of
# every model was one value rewritten on each commit (a 64 MiB value at 30x scale did not fit 128MB). With one
# row per model, written only when it changed (`holded_cli.saved_state`), a first sync at 30x scale completes
# at 112MB (one 3 MB spill to the `.tmp` directory next to the file) and fails at 96MB, v1, measured
# 2026-11-30: writing the largest state row (invoice lines' change events, an 8.4 MiB JSON text at 30x, linear
# in the account) asks DuckDB for one 16 MiB allocation; without automatic checkpoints (a 16MB WAL) it fails at
# 256MB too. The stream tables have no index (no PRIMARY KEY: the merge deletes then inserts by key), so no
# index grows with the account either. 256MB keeps over twice the 30x need for larger accounts. A lower cap
# cuts peak RSS, DuckDB otherwise filling it with cached blocks of the rows it wrote: a 30x first sync peaked
# at 512-551 MiB at 256MB, 485-504 at 192MB, 435-440 at 128MB (v1/v2), 438 at 112MB (below 128MB the rest is
# not DuckDB's cache); 10x: 366-431, 380, 324. 128MB would leave 1.15x the 30x need.
MEMORY_LIMIT_MB = 256
# ...and above it when one state row needs it: writing a row of n MiB asks DuckDB for about 2n MiB at once, on
# top of a working set that also grows with the account (30x: an 8.4 MiB row, 96-112MB needed). A larger account
# gets its cap raised to `STATE_ROOM_MB + STATE_ROOM_PER_MB x` its largest row's MiB (30x: 272MB), rather than a
# sync that fails on DuckDB's out-of-memory error at every run (the state rows grow until the work is committed).
STATE_ROOM_MB = 128
STATE_ROOM_PER_MB = 16

META_DDL = (
    *STATE_DDL,
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (
        run_id BIGINT, command VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR,
        requests BIGINT, retries BIGINT, summary JSON)""",
    f"CREATE SEQUENCE IF NOT EXISTS {EVENT_SEQ}",
    f"CREATE TABLE IF NOT EXISTS {WEBHOOKS} (url VARCHAR PRIMARY KEY, baseline_seq BIGINT, created_at TIMESTAMPTZ)",
    f"""CREATE TABLE IF NOT EXISTS {DELIVERIES} (
        url VARCHAR, event_id VARCHAR, attempts INTEGER, last_status VARCHAR, last_error VARCHAR,
        last_attempt_at TIMESTAMPTZ, delivered_at TIMESTAMPTZ, PRIMARY KEY (url, event_id))""",
    f"""CREATE TABLE IF NOT EXISTS {INBOX} (
        account_id VARCHAR, webhook_id VARCHAR, event VARCHAR, record_id VARCHAR, received_at TIMESTAMPTZ,
        status VARCHAR, attempts INTEGER, last_error VARCHAR, processed_at TIMESTAMPTZ, body JSON,
        PRIMARY KEY (account_id, webhook_id))""",
    f"ALTER TABLE {INBOX} ADD COLUMN IF NOT EXISTS next_attempt_at TIMESTAMPTZ",  # a failed read's next try
    f"""CREATE TABLE IF NOT EXISTS {REGISTERED} (
        id VARCHAR, url VARCHAR, events JSON, registered_at TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS {OWN_WRITES} (
        model VARCHAR, record_id VARCHAR, op VARCHAR, fields JSON, written_at TIMESTAMPTZ)""",
    f"CREATE TABLE IF NOT EXISTS {LISTED} (stream VARCHAR PRIMARY KEY, listed_at TIMESTAMPTZ)",
)


@dataclass
class MergeCounts:
    upserted: int = 0
    deleted: int = 0


class DatabaseBusy(HoldedConfigError):
    """Another process holds the DuckDB file (DuckDB lets one process write a file at a time)."""


def connect(path: str | Path, *, read_only: bool = False, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `path`, waiting up to `wait` seconds while another process holds the file
    (`holded webhooks serve` holds it only for milliseconds at a time, so a command started meanwhile waits).

    Raises:
        DatabaseBusy: the file was still held after `wait` seconds.
        HoldedConfigError: the file is not a DuckDB database.
    """
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{path}: cannot open the database ({str(exc).splitlines()[0]}); "
                    "is another `holded` command using it? Wait for it or pass another --db"
                ) from None
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.25)
        except duckdb.Error as exc:
            raise HoldedConfigError(f"{path}: not a DuckDB database ({exc}); pass another --db") from None


class Store:
    def __init__(self, path: str | Path, *, wait: float = LOCK_WAIT) -> None:
        """Open (or create) the database; `wait`: seconds to wait while another process holds the file."""
        self.path = Path(path)
        self.con = connect(self.path, wait=wait)
        # DuckDB would take up to 80% of RAM for its buffers; a sync's batches need far less, and past the
        # limit DuckDB spills to disk: the runner's memory stays flat as the account grows.
        self._cap_mb = 0
        self._make_room(0)
        self._lock = threading.Lock()
        self._tables: dict[str, TableSpec] = {}
        self._saved = SavedStates()
        for ddl in META_DDL:
            self.con.execute(ddl)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")

    # --- tables ----------------------------------------------------------------------------

    def ensure_table(self, table: TableSpec) -> None:
        """Create the stream's table, or add the columns a newer schema has (never drops any).

        A text column that the schema now types as a day or an instant (a file written before calendar
        days became `DATE`) is retyped in place: an ISO day or instant keeps its value, anything else
        (such as a day an earlier version wrote as a UTC instant) is NULL until the next sync rewrites
        the row, which it does because the record's value changed.
        """
        extra = ["seq BIGINT DEFAULT nextval('" + EVENT_SEQ + "')"] if table.kind == "events" else []
        ddl = [c.ddl for c in table.columns] + extra + [f"{SYNCED_AT} TIMESTAMPTZ"]
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {quote(table.name)} ({', '.join(ddl)})")
        existing = {
            row[0].lower(): row[1]
            for row in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = 'main'",
                [table.name],
            ).fetchall()
        }
        for column in table.columns:
            if column.name.lower() not in existing:
                self.con.execute(f"ALTER TABLE {quote(table.name)} ADD COLUMN {column.ddl}")
            elif existing[column.name.lower()] == "VARCHAR" and column.sql_type in _RETYPED:
                name = quote(column.name)
                self.con.execute(
                    f"ALTER TABLE {quote(table.name)} ALTER COLUMN {name} TYPE {column.sql_type} "
                    f"USING {_RETYPED[column.sql_type].format(name)}"
                )
        self._tables[table.name] = table

    def states(
        self, streams: Collection[str] | None = None, models: Collection[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The saved states, stream -> state, `changeEvents` as `{"v": 1, "models": {model: state}}`
        (`holded_cli.saved_state`: its layout, an older file's migrated on this read).

        Args:
            streams: the streams whose states to read and decode (None: all).
            models: with `changeEvents` among `streams`, the unified models whose change-events states to
                read (None: all).

        Returns:
            The states found; a stream (or model) without one is absent.
        """
        while True:
            try:
                with self.transaction() as con:
                    return self._saved.read(con, streams, models)
            except duckdb.OutOfMemoryException:
                # Rows a run wrote under a raised cap (`_make_room`) are read under the floor by the next run,
                # and reading a row costs DuckDB more than its size (no size is known without reading it).
                if not self._double_cap():
                    raise

    def forget_state(self, streams: Sequence[str] | None = None) -> None:
        """Full refresh: the next sync treats everything as new (the rows stay until replaced)."""
        with self.transaction() as con:
            self._saved.forget(con, streams)

    # --- the one write path ----------------------------------------------------------------

    def commit(
        self,
        batches: Mapping[str, list[dict[str, Any]]],
        states: Mapping[str, Mapping[str, Any]],
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> dict[str, MergeCounts]:
        """Merge each stream's records and save the states, atomically. Returns per-stream counts.

        `states`: stream -> state; a state row is written only when its content changed, and a `changeEvents`
        state replaces the models it names, leaving the others' as they are (`holded_cli.saved_state`).
        `also`: more writes for the same transaction (the receiver marks the deliveries it processed)."""
        counts: dict[str, MergeCounts] = {}
        with self.transaction() as con:
            if also is not None:
                also(con)
            if batches.get(EVENTS_STREAM):
                self._mark_origins(con, batches[EVENTS_STREAM])
            for name, records in batches.items():
                if records:
                    counts[name] = self._merge(con, self._tables[name], records)
            written = self._saved.write(con, states, self._make_room)  # only the state rows whose content changed
        self._saved.written(written)
        return counts

    def _make_room(self, row_bytes: int) -> None:
        """Raise DuckDB's cap (never lower it) so that a state row of `row_bytes` fits (see `MEMORY_LIMIT_MB`)."""
        needed = max(MEMORY_LIMIT_MB, STATE_ROOM_MB + STATE_ROOM_PER_MB * -(-row_bytes // 2**20))
        if needed > self._cap_mb:
            self.con.execute(f"SET memory_limit = '{needed}MB'")
            self._cap_mb = needed

    def _double_cap(self) -> bool:
        """Double DuckDB's cap, up to 80% of the machine's memory (DuckDB's own default). False: at the ceiling."""
        try:
            ceiling = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 8 // 10 >> 20
        except (ValueError, OSError, AttributeError):
            ceiling = 4096
        if self._cap_mb >= ceiling:
            return False
        self._cap_mb = min(2 * self._cap_mb, ceiling)
        self.con.execute(f"SET memory_limit = '{self._cap_mb}MB'")
        return True

    def record_own_writes(self, writes: Sequence[OwnWrite]) -> None:
        """Keep what the connector wrote (`holded push`), so its changes are told apart when they come back;
        writes past `own_writes.WINDOW` are forgotten meanwhile."""
        if not writes:
            return
        dump = orjson.dumps
        rows = [[w.model, w.record_id, w.op, dump(w.fields, default=str).decode(), w.written_at] for w in writes]
        with self.transaction() as con:
            con.executemany(f"INSERT INTO {OWN_WRITES} VALUES (?, ?, ?, ?, ?)", rows)
            con.execute(f"DELETE FROM {OWN_WRITES} WHERE written_at < ?", [datetime.now(UTC) - WINDOW])

    @staticmethod
    def _mark_origins(con: duckdb.DuckDBPyConnection, events: list[dict[str, Any]]) -> None:
        """Each event's `origin`: `connector` when it is one of the connector's own writes coming back."""
        pairs = sorted({(str(e.get("model")), str(e.get("recordId"))) for e in events})
        rows = con.execute(
            f"""SELECT model, record_id, op, fields, written_at FROM {OWN_WRITES}
                WHERE [model, record_id] IN (SELECT unnest(?::VARCHAR[][]))""",
            [[list(p) for p in pairs]],
        ).fetchall()
        writes: dict[tuple[str, str], list[OwnWrite]] = {}
        for model, record_id, op, fields, written_at in rows:
            write = OwnWrite(model, record_id, op, orjson.loads(fields) if fields else {}, written_at)
            writes.setdefault((model, record_id), []).append(write)
        for event in events:
            mine = writes.get((str(event.get("model")), str(event.get("recordId"))), [])
            event[ORIGIN] = CONNECTOR if mine and is_echo(event, mine) else HOLDED

    def _merge(self, con: duckdb.DuckDBPyConnection, table: TableSpec, records: list[dict[str, Any]]) -> MergeCounts:
        dump = orjson.dumps
        batch = {
            "j": np.array([dump(r, option=orjson.OPT_NON_STR_KEYS).decode() for r in records], dtype=object),
            "_ord": np.arange(len(records)),
        }
        deletes = sum(1 for r in records if r.get(DELETED_AT))
        con.register("_batch", batch)
        try:
            self._merge_batch(con, table)
        finally:
            con.unregister("_batch")
        return MergeCounts(upserted=len(records) - deletes, deleted=deletes)

    @staticmethod
    def _merge_batch(con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        target = quote(table.name)
        selects = ", ".join(c.select() for c in table.columns)
        names = ", ".join(quote(c.name) for c in table.columns)
        pk = [f"s.{quote(k)}" for k in table.primary_key]
        structure = table.structure().replace("'", "''")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _rows AS SELECT json_transform(j, '{structure}') AS s, j, _ord FROM _batch"
        )
        try:
            if table.kind == "events":  # append-only: an event already stored (same stable id) is not added again
                con.execute(
                    f"INSERT INTO {target} ({names}, {SYNCED_AT}) SELECT {selects}, now() FROM _rows "
                    # Only the batch's ids are looked up in the table: a hash of every stored event id would
                    # grow with the account (DuckDB's memory then outgrew its limit at 30x scale).
                    f"WHERE s.id NOT IN (SELECT id FROM {target} WHERE id IN (SELECT s.id FROM _rows)) "
                    "QUALIFY row_number() OVER (PARTITION BY s.id) = 1 "
                    "ORDER BY _ord"
                )
                return
            # The last occurrence of a key in the batch wins; a tombstone removes the row.
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _last AS SELECT * FROM _rows "
                f"QUALIFY row_number() OVER (PARTITION BY {', '.join(pk)} ORDER BY _ord DESC) = 1"
            )
            match = " AND ".join(f"{target}.{quote(k)} = l.s.{quote(k)}" for k in table.primary_key)
            con.execute(f"DELETE FROM {target} USING _last l WHERE {match}")
            con.execute(
                f"INSERT INTO {target} ({names}, {SYNCED_AT}) SELECT {selects}, now() FROM _last "
                f"WHERE s.{quote(DELETED_AT)} IS NULL"
            )
            con.execute("DROP TABLE _last")
        finally:
            con.execute("DROP TABLE _rows")

    # --- runs ------------------------------------------------------------------------------

    def record_run(self, command: str, started: float, status: str, requests: int, retries: int, summary: Any) -> None:
        with self._lock:
            run_id = self.con.execute(f"SELECT coalesce(max(run_id), 0) + 1 FROM {RUNS}").fetchone()[0]
            self.con.execute(
                f"INSERT INTO {RUNS} VALUES (?, ?, to_timestamp(?), now(), ?, ?, ?, ?)",
                [run_id, command, started, status, requests, retries, orjson.dumps(summary).decode()],
            )

    def last_listing_costs(self, runs: int = 50) -> dict[str, int]:
        """Listing route -> the requests the most recent run that completed it made (`holded sync` and
        `holded events` runs keep their listings' costs in `summary.listings`), over the last `runs` runs."""
        rows = self.con.execute(
            f"SELECT summary FROM {RUNS} WHERE command IN ('sync', 'events') ORDER BY run_id DESC LIMIT ?", [runs]
        ).fetchall()
        costs: dict[str, int] = {}
        for (summary,) in rows:
            listings = orjson.loads(summary).get("listings") if summary else None
            for listing in listings if isinstance(listings, list) else []:
                if isinstance(listing, dict) and listing.get("complete") and isinstance(listing.get("requests"), int):
                    costs.setdefault(str(listing.get("path")), listing["requests"])
        return costs

    def row_counts(self, names: Sequence[str]) -> dict[str, int]:
        """Rows in each of these stream tables that exist."""
        present = set(self.table_names())
        return {
            name: self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
            for name in names
            if name in present
        }

    def table_names(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def has_events_state(self) -> bool:
        """Whether a change-events state is saved (the change events were synced before)."""
        return SavedStates.has_events(self.con)

    # --- complete listings -------------------------------------------------------------------

    def last_listed(self) -> dict[str, float]:
        """Stream (or `changeEvents:<model>`) -> unix seconds when its last complete listing started."""
        rows = self.con.execute(f"SELECT stream, epoch(listed_at) FROM {LISTED}").fetchall()
        return {stream: float(at) for stream, at in rows if at is not None}

    def mark_listed(self, streams: Sequence[str], started: float) -> None:
        """Record that a listing started at `started` (unix seconds) read each of `streams` completely."""
        if not streams:
            return
        with self.transaction() as con:
            con.executemany(
                f"INSERT OR REPLACE INTO {LISTED} VALUES (?, to_timestamp(?))", [[name, started] for name in streams]
            )
