"""`holded push`: rows from DuckDB (a table or a query) or a CSV / JSONL file into Holded, through the
core's `Push` (the destination's own write path: matching, minimal updates, refusals with reasons).

Every input is read through DuckDB in chunks, so a large file never sits in memory whole. Values are
brought back to the shapes the unified model declares (JSON text to objects, timestamps to ISO
strings) before they are written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from holded_cli.store import LOCK_WAIT, DatabaseBusy, Store, connect
from holded_cli.tables import SYNCED_AT, quote
from holded_core.basics import check_basics
from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError
from holded_core.own_writes import OwnWrite
from holded_core.permissions import require
from holded_core.push import NOTABLE, Outcome, Push, PushOptions, conform
from holded_core.secrets import get_logger
from holded_core.settings import Settings
from holded_core.streams import StreamSpec

logger = get_logger(__name__)

CHUNK = 1_000
LOCAL_COLUMNS = (SYNCED_AT, "seq")  # the runner's own bookkeeping columns, never sent to Holded


@dataclass
class PushInput:
    table: str | None = None
    sql: str | None = None
    file: Path | None = None
    db: Path | None = None

    def describe(self) -> str:
        return f"table {self.table}" if self.table else f"file {self.file}" if self.file else "query"

    def relation(self, con: duckdb.DuckDBPyConnection | None = None) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A connection and the SELECT that yields the rows to push (`con`: the database, already open for
        writing, whose cursor reads a table or query input)."""
        if self.file is not None:
            if not self.file.exists():
                raise HoldedConfigError(f"{self.file}: no such file; check --file")
            suffix = self.file.suffix.lower()
            path = str(self.file).replace("'", "''")
            if suffix == ".csv":
                # Read as text: the model's types are applied afterwards (a phone number stays a string).
                return duckdb.connect(), f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true)"
            if suffix in (".jsonl", ".ndjson", ".json"):
                return duckdb.connect(), f"SELECT * FROM read_json('{path}', format = 'auto')"
            raise HoldedConfigError(f"{self.file}: push reads .csv, .jsonl or .json files; convert it or use --sql")
        if self.db is None or not self.db.exists():
            raise HoldedConfigError(f"{self.db}: no such database; run `holded sync` first or pass --db")
        reader = con.cursor() if con is not None else connect(self.db, read_only=True, wait=LOCK_WAIT)
        if self.table:
            return reader, f"SELECT * FROM {quote(self.table)}"
        return reader, str(self.sql)


def rows(
    source: PushInput,
    *,
    where: str = "",
    params: list[Any] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Iterator[dict[str, Any]]:
    """The input's rows as dicts, read in chunks; `where` filters them (a SQL condition over its columns);
    `con`: the database already open (see `PushInput.relation`)."""
    con, sql = source.relation(con)
    if where:
        sql = f"SELECT * FROM ({sql}) WHERE {where}"
    try:
        try:
            cursor = con.execute(sql, params or [])
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise HoldedConfigError(f"cannot read the {source.describe()}: {first}") from None
        names = [d[0] for d in cursor.description]
        if "id" not in {n.lower() for n in names}:
            raise HoldedConfigError(
                f"the {source.describe()} has no `id` column: give each row Holded's id or a stable key of your own "
                "(kept in Holded's `holded-connector-id` custom field, so a re-run never creates twice)"
            )
        while chunk := cursor.fetchmany(CHUNK):
            for row in chunk:
                yield dict(zip(names, row, strict=True))
    finally:
        con.close()


class _OwnWrites:
    """What the push wrote, kept in the database (`holded_core.own_writes`), in batches; no store: not kept."""

    def __init__(self, store: Store | None) -> None:
        self.store = store
        self._buffer: list[OwnWrite] = []

    def add(self, outcome: Outcome) -> None:
        write = OwnWrite.of(outcome.result, outcome.record) if self.store is not None else None
        if write is not None:
            self._buffer.append(write)
            if len(self._buffer) >= CHUNK:
                self.flush()

    def flush(self) -> None:
        if self.store is not None and self._buffer:
            self.store.record_own_writes(self._buffer)
        self._buffer = []


@contextmanager
def _own_writes(source: PushInput, options: PushOptions) -> Iterator[_OwnWrites]:
    """The push's own writes, kept in `--db` when that database exists (so `holded sync`, `holded events` and
    `holded webhooks serve` on it recognise them coming back). The database stays open for the push: a
    receiver on it spools the deliveries meanwhile and reads them once the writes are known."""
    if options.dry_run or source.db is None or not source.db.exists():
        yield _OwnWrites(None)
        return
    try:
        store = Store(source.db)
    except DatabaseBusy:
        if source.file is None:
            raise  # a table or query input needs the file anyway
        logger.warning(
            "%s is held by another command: this push's writes are not kept there, so their change events "
            "will not be told apart as the connector's own (origin: connector)",
            source.db,
        )
        yield _OwnWrites(None)
        return
    with store:
        kept = _OwnWrites(store)
        try:
            yield kept
        finally:
            kept.flush()


PARENT = "invoice"  # the field of a line naming its document (accountingInvoiceItem.invoice)


def _chunks(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lines_of(
    lines: PushInput, parent_ids: list[str], con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The line rows of these documents, grouped by document id, in `position` order when there is one."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not parent_ids:
        return found
    try:
        where = f"CAST({quote(PARENT)} AS VARCHAR) IN (SELECT unnest(?))"
        selected = rows(lines, where=where, params=[parent_ids], con=con)
        for row in selected:
            found.setdefault(str(row[PARENT]), []).append(row)
    except HoldedConfigError as exc:
        raise HoldedConfigError(f"--lines: {exc} (lines need an `{PARENT}` column naming their invoice's id)") from None
    for children in found.values():
        children.sort(key=lambda r: (r.get("position") is None, r.get("position") or 0))
    return found


@dataclass
class PushReport:
    outcomes: list[Outcome] = field(default_factory=list)  # kept for the plan / rejection tables
    counts: dict[str, int] = field(default_factory=dict)
    failure: str | None = None
    summary: str = ""
    total: int = 0


def run_push(
    settings: Settings,
    options: PushOptions,
    stream: StreamSpec,
    source: PushInput,
    op: str,
    *,
    keep: int = 1_000,
    on_refresh_token: Callable[[str], None] | None = None,
    lines: PushInput | None = None,
    lines_stream: StreamSpec | None = None,
) -> PushReport:
    """Push every row; keeps the first `keep` notable outcomes (plans, refusals, invoices not approved,
    writes with a note) for the report.

    On an API v2 token the permissions the writes need are probed first (`.write` and `.read` of the
    streams' resources); then the basics check runs, before any row is read. `lines` (rows of `lines_stream`, e.g.
    accountingInvoiceItem) go right after the document they belong to (their `invoice` field names it),
    so a document asking to be approved is created approved with them in one request; lines of no
    document in the input go at the end. What was written is kept in `source.db` when that database exists
    (`holded_core.own_writes`: change events of it coming back are marked `origin: connector`).

    Raises:
        PermissionsLacking: the API v2 token lacks a permission the writes need (nothing was written).
        HoldedBasicsError: the basics are wrong (refused credential, wrong base URL, unreachable host).
        HoldedConfigError: the input cannot be read (no such file or table, no `id` column...).
    """
    report = PushReport()
    client = HoldedClient(settings.client, on_refresh_token=on_refresh_token)
    # An API v2 token lacking what these writes need: one line naming each permission, before any row is read.
    require(client, writes=[stream.name, *([lines_stream.name] if lines_stream is not None else [])])
    with client, Push(client, settings, options) as push, _own_writes(source, options) as kept:
        check_basics(client)
        con = kept.store.con if kept.store is not None else None

        def take(outcomes: Iterator[Outcome]) -> None:
            for outcome in outcomes:
                report.total += 1
                status = outcome.result.status
                report.counts[status] = report.counts.get(status, 0) + 1
                notable = status in NOTABLE or options.dry_run or bool(outcome.result.reason)
                if notable and len(report.outcomes) < keep:
                    report.outcomes.append(outcome)
                kept.add(outcome)

        def submit(spec: StreamSpec, row: dict[str, Any]) -> None:
            push.submit(spec.name, conform(row, spec, drop=LOCAL_COLUMNS), op)
            take(push.finished())

        if lines is None or lines_stream is None:
            for row in rows(source, con=con):
                submit(stream, row)
        else:
            parents: set[str] = set()
            for chunk in _chunks(rows(source, con=con), CHUNK):
                ids = [str(row["id"]) for row in chunk if row.get("id") is not None]
                parents.update(ids)
                by_parent = _lines_of(lines, ids, con)
                for row in chunk:
                    children = by_parent.get(str(row.get("id")), [])
                    if children and not row.get("lines"):  # declared: the document goes as its last line arrives
                        row = {**row, "lines": [str(child["id"]) for child in children]}
                    submit(stream, row)
                    for child in children:
                        submit(lines_stream, child)
            for row in rows(lines, where=f"CAST({quote(PARENT)} AS VARCHAR) NOT IN (SELECT unnest(?))",
                            params=[sorted(parents)], con=con):  # fmt: skip
                submit(lines_stream, row)
        take(push.drain())
        kept.flush()
        report.failure = push.failure()
        report.summary = push.summary()
    return report
