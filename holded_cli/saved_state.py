"""The sync state in the local database: one row per stream, and one per unified model for the change events.

Layout (what `Store.states` returns is the engine's shape, `{stream: state}`, whatever the layout):
- `_holded_state (stream, state, updated_at)`: each stream's state, `changeEvents` excepted;
- `_holded_event_state (model, state, updated_at)`: each unified model's change-events state, the
  `models[<model>]` of the `changeEvents` state the engine works with (`{"v": 1, "models": {...}}`).

Why per model: the change-events state of every model in one value grows with the account (~20 MB at 30x
scale) and a sync commits every ~2 s; rewriting it whole each time made DuckDB keep every replaced version
until a checkpoint, past its memory cap. Now a commit writes a row only when its content differs from what
this store read or last wrote (`==` on the decoded value: a checkpoint of a model that emitted nothing is
the same objects again, so comparing costs nothing), and a model's row is as large as that model alone.

A state handed to `write` replaces the rows it names and leaves the others as they are: a `changeEvents`
state naming some models (the webhook receiver's, or a sync reading only some models) keeps the others'.

Files written before this layout keep the `changeEvents` state as one row of `_holded_state`: the first
read moves its models into their rows (values unchanged, so nothing looks changed) and drops that row, in
the reader's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import duckdb
import orjson

from holded_core.streams import EVENTS_STREAM

STATE = "_holded_state"
EVENTS_STATE = "_holded_event_state"

DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE} (stream VARCHAR PRIMARY KEY, state JSON, updated_at TIMESTAMPTZ)",
    f"CREATE TABLE IF NOT EXISTS {EVENTS_STATE} (model VARCHAR PRIMARY KEY, state JSON, updated_at TIMESTAMPTZ)",
)

Key = tuple[str, str]  # (table, stream or model)
_ABSENT = object()


class SavedStates:
    """Reads and writes the states of one open database (see the module), remembering what is on disk.

    Not thread-safe on its own: `Store` calls it inside its transactions.
    """

    def __init__(self) -> None:
        self._on_disk: dict[Key, Any] = {}  # the value each row holds, as last read or written here

    def read(
        self,
        con: duckdb.DuckDBPyConnection,
        streams: Collection[str] | None = None,
        models: Collection[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """The saved states, stream -> state (`changeEvents`: `{"v": 1, "models": {model: state}}`, absent
        when no model has one). Only these are decoded:

        Args:
            con: a connection inside a transaction (an old-layout file is migrated in it).
            streams: the streams whose states to read (None: all).
            models: with `changeEvents` among `streams`, the models whose change-events states to read (None: all).

        Returns:
            The states found; a stream without one is absent.
        """
        self._migrate(con)
        out: dict[str, dict[str, Any]] = {}
        for stream, state in self._rows(con, STATE, "stream", streams):
            out[stream] = state
        if streams is None or EVENTS_STREAM in streams:
            found = dict(self._rows(con, EVENTS_STATE, "model", models))
            if found:
                out[EVENTS_STREAM] = {"v": 1, "models": found}
        return out

    def _rows(
        self, con: duckdb.DuckDBPyConnection, table: str, column: str, names: Collection[str] | None
    ) -> list[tuple[str, Any]]:
        if names is None:
            rows = con.execute(f"SELECT {column}, state FROM {table}").fetchall()
        else:
            rows = con.execute(
                f"SELECT {column}, state FROM {table} WHERE {column} IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(names)],
            ).fetchall()
        out = []
        for name, text in rows:
            if (table == STATE and name == EVENTS_STREAM) or not text:  # (an old-layout row: `_migrate` moved it)
                continue
            value = orjson.loads(text)
            self._on_disk[(table, name)] = value
            out.append((name, value))
        return out

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        """An old-layout `changeEvents` row (every model's state in one value) becomes one row per model (what is
        on disk is noted as `_rows` reads it back, in the same transaction: never a row a rollback undid)."""
        row = con.execute(f"SELECT state FROM {STATE} WHERE stream = ?", [EVENTS_STREAM]).fetchone()
        if row is None:
            return
        legacy = orjson.loads(row[0]) if row[0] else None
        models = (legacy or {}).get("models") or {}
        for model, state in models.items():  # the old row is the newer one if both exist (an older release ran last)
            con.execute(
                f"INSERT OR REPLACE INTO {EVENTS_STATE} VALUES (?, ?, now())", [model, orjson.dumps(state).decode()]
            )
        con.execute(f"DELETE FROM {STATE} WHERE stream = ?", [EVENTS_STREAM])

    def write(
        self,
        con: duckdb.DuckDBPyConnection,
        states: Mapping[str, Mapping[str, Any]],
        make_room: Callable[[int], None] | None = None,
    ) -> dict[Key, Any]:
        """Write the rows whose content changed (see the module). Returns what was written, for `written`
        once the transaction commits (a rolled-back write must not count as on disk). `make_room` is told
        each row's size in bytes before it is written (the store raises DuckDB's cap for a large one)."""
        wanted: list[tuple[Key, Any]] = []
        for stream, state in states.items():
            if stream == EVENTS_STREAM:
                wanted += [((EVENTS_STATE, model), value) for model, value in (state.get("models") or {}).items()]
            else:
                wanted.append(((STATE, stream), state))
        written: dict[Key, Any] = {}
        for key, value in wanted:
            if self._on_disk.get(key, _ABSENT) == value:
                continue
            table, name = key
            text = orjson.dumps(value)
            if make_room is not None:
                make_room(len(text))
            con.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, now())", [name, text.decode()])
            written[key] = value
        return written

    def written(self, rows: Mapping[Key, Any]) -> None:
        """`write`'s rows are on disk now (its transaction committed)."""
        self._on_disk.update(rows)

    def forget(self, con: duckdb.DuckDBPyConnection, streams: Collection[str] | None = None) -> None:
        """Drop the states of `streams` (None: all; `changeEvents`: every model's)."""
        if streams is None:
            con.execute(f"DELETE FROM {STATE}")
            con.execute(f"DELETE FROM {EVENTS_STATE}")
            self._on_disk.clear()
            return
        con.execute(f"DELETE FROM {STATE} WHERE stream IN (SELECT unnest(?::VARCHAR[]))", [list(streams)])
        if EVENTS_STREAM in streams:
            con.execute(f"DELETE FROM {EVENTS_STATE}")
        for key in list(self._on_disk):
            if (key[0] == STATE and key[1] in streams) or (key[0] == EVENTS_STATE and EVENTS_STREAM in streams):
                del self._on_disk[key]

    @staticmethod
    def has_events(con: duckdb.DuckDBPyConnection) -> bool:
        """Whether any change-events state is saved (either layout)."""
        row = con.execute(
            f"SELECT (SELECT count(*) FROM {EVENTS_STATE}) + (SELECT count(*) FROM {STATE} WHERE stream = ?)",
            [EVENTS_STREAM],
        ).fetchone()
        return bool(row and row[0])
