"""`holded sync`: the core's sync engine into the local DuckDB database.

Every stream is read incrementally against the state kept in the database (the first run sees
everything as new). Records are buffered per stream and committed in bulk together with the
latest state checkpoints, every `flush_rows` rows or `flush_seconds` seconds, when a stream
completes, and at the end; an interrupted run keeps what it committed and the next run resumes from
there.

The read is the core's `ReadRun` (`holded_core.adapter`), with the job as its output handler. The
basics check runs first: a refused key, a base URL that is not Holded's API or an unreachable host stop
the run with one `HoldedBasicsError`. So does a credential refused mid-run: its per-stream failures are
not shown one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from holded_cli.progress import Progress, RunView
from holded_cli.store import MergeCounts, Store
from holded_cli.tables import quote, table_for
from holded_core.adapter import Handler, ReadRun, StreamSelection, select_streams
from holded_core.client import HoldedClient
from holded_core.errors import HoldedAuthError
from holded_core.settings import Settings
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut, StreamReport, SyncEngine


@dataclass
class SyncResult:
    view: RunView
    merged: dict[str, MergeCounts] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # rows in each table after the run
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def reports(self) -> dict[str, StreamReport]:
        return dict(self.view.reports)

    @property
    def failed(self) -> list[str]:
        return [name for name, rep in self.view.reports.items() if rep.status != "complete"]

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "requests": self.view.stats.requests,
            "retries": self.view.stats.retries,
            "interrupted": self.interrupted,
            "streams": {
                name: {
                    "status": rep.status,
                    "new": rep.counts.get("created", 0),
                    "changed": rep.counts.get("updated", 0),
                    "deleted": rep.counts.get("deleted", 0),
                    "rows": self.totals.get(name, 0),
                    "bad_records": rep.bad,
                    "error": rep.error,
                }
                for name, rep in self.view.reports.items()
            },
        }


class SyncJob(Handler[None]):
    def __init__(
        self,
        settings: Settings,
        store: Store,
        selection: StreamSelection,
        *,
        progress: Progress | None = None,
        on_refresh_token: Callable[[str], None] | None = None,
        flush_rows: int = 25_000,
        flush_seconds: float = 2.0,
        preflight: bool = True,
    ) -> None:
        """A sync of `selection` (its streams, and the change events into `changeEvents` when selected) into `store`.

        Args:
            settings: the connector settings (client config, sync options).
            store: the DuckDB store (tables and saved state).
            selection: the streams to sync (`streams_of`, or `holded_core.adapter.select_streams`).
            progress: the display; plain lines by default.
            on_refresh_token: called with a rotated OAuth refresh token (a `TokenHandBack`).
            flush_rows: commit once this many rows are buffered.
            flush_seconds: commit state at least this often.
            preflight: run the basics check first (`holded events --every` does it on its first run only).
        """
        self.settings = settings
        self.store = store
        self.selection = selection
        self.progress = progress or Progress(live=False)
        self.on_refresh_token = on_refresh_token
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._states: dict[str, dict[str, Any]] = {}
        self._buffered = 0
        self._last_flush = time.monotonic()
        self.merged: dict[str, MergeCounts] = {}
        self.preflight = preflight
        self.result: SyncResult | None = None

    def run(self) -> SyncResult:
        """Sync the streams into the store; what arrived before a failure or an interruption is kept.

        Returns:
            The run's result (per-stream reports, counts, rows in each table, time taken).

        Raises:
            HoldedBasicsError: the basics check failed, or Holded refused the credential mid-run.
            HoldedError: another failure that stops the whole sync.
            KeyboardInterrupt: interrupted before the sync started (during the basics check).
        """
        tables = [table_for(spec) for spec in self.selection.specs]
        for table in tables:
            self.store.ensure_table(table)
        read = ReadRun(
            self.settings,
            self.selection,
            self,
            saved=self.store.states(),
            tokens=self.on_refresh_token,
            preflight=self.preflight,
        )
        started = time.monotonic()
        interrupted = False
        try:
            read.drive()
        except KeyboardInterrupt:
            if self.result is None:
                raise
            interrupted = True
        finally:
            self.progress.stop()
            self._flush()  # what arrived is consistent with the states received: keep it
        assert self.result is not None  # on_start ran: the engine was built
        result = self.result
        result.interrupted = interrupted
        result.merged = self.merged
        result.seconds = time.monotonic() - started
        result.totals = self._totals([t.name for t in tables])
        return result

    # --- the output handler (holded_core.adapter.OutputHandler) --------------------------------

    def on_start(self, engine: SyncEngine, client: HoldedClient) -> None:
        view = RunView(engine.reports, client.stats)
        self.result = SyncResult(view)
        self.progress.start(view)

    def on_record(self, out: RecordOut) -> None:
        self._buffers.setdefault(out.stream, []).append(out.data)
        self._buffered += 1
        if self._buffered >= self.flush_rows:
            self._flush()
        self.progress.tick()

    def on_state(self, out: StateOut) -> None:
        self._states[out.stream] = out.state
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self._flush()
        self.progress.tick()

    def on_status(self, out: StatusOut) -> None:
        if out.status == "complete":
            self._flush()  # a stream shown complete is on disk
        # A refused credential: the engine raises it once every listing ended, and run() says it once.
        if not isinstance(out.error, HoldedAuthError):
            self.progress.stream_status(out.stream, out.status, out.error)
        self.progress.tick()

    def on_log(self, out: LogOut) -> None:
        if out.level != "INFO" and not isinstance(out.error, HoldedAuthError):
            self.progress.log(out.level, out.message)  # (INFO is the engine's own summary)
        self.progress.tick()

    def _flush(self) -> None:
        if self._buffered or self._states:
            for name, counts in self.store.commit(self._buffers, self._states).items():
                total = self.merged.setdefault(name, MergeCounts())
                total.upserted += counts.upserted
                total.deleted += counts.deleted
        self._buffers = {}
        self._states = {}
        self._buffered = 0
        self._last_flush = time.monotonic()

    def _totals(self, names: Sequence[str]) -> dict[str, int]:
        totals = {}
        for name in names:
            totals[name] = self.store.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
        return totals


def streams_of(settings: Settings, names: Sequence[str] | None) -> StreamSelection:
    """The streams `holded sync --streams` names (default: the ten unified ones and changeEvents; `all`:
    every stream offered).

    Raises:
        UnknownStreams: a name this config does not offer (exit 2, naming the ones it does).
    """
    offered = [spec.name for spec in settings.streams()]
    if names == ["all"]:
        names = offered
    selection = select_streams(settings, names, fix=f"pick from {', '.join(offered)} (or `all`); see `holded streams`")
    selection.refuse_unknown()
    return selection
