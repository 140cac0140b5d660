"""`holded sync`: the core's sync engine into the local DuckDB database.

Every stream is read incrementally against the state kept in the database (the first run sees
everything as new). Records are buffered per stream and committed in bulk together with the
latest state checkpoints, every `flush_rows` rows or `flush_seconds` seconds, when a stream
completes, and at the end; an interrupted run keeps what it committed and the next run resumes from
there.

The read is the core's `ReadRun` (`holded_core.adapter`), with the job as its output handler. The
basics check runs first: a refused key, a base URL that is not Holded's API or an unreachable host stop
the run with one `HoldedBasicsError`. So does a credential refused mid-run: its per-stream failures are
not shown one by one. Holded's monthly request quota running out (`HoldedQuotaError`, API v2 and v1
alike) ends the run too, but as a result: what completed is committed with its state, the result says
`quota` (one line for the user), and the next run resumes the streams that did not complete.

Requests: the result carries the run's request count, per stream (the listing that fed it, its
deletion confirmations included; streams fed by one listing share its count) and per listing, the
rest being what the run spent outside the streams (the basics check, the quota read); `as_json` is
what `holded sync --json` prints and what `_holded_runs.summary` keeps for the next run's estimate.

Before a sync on an API v2 token (`QuotaCheck`, `holded_core.quota`): the month's usage is read
(`GET /v2/usage`, one request; without `developers:usage.read` one line says so and the sync goes on)
and the sync's requests are estimated from the last runs' listings. When the estimate passes what is
left, the sync stops before any listing (`QuotaTooSmall`, exit 2), or with `fit` reads only the
listings that fit and names the streams it skipped.

With Holded's webhooks on (`webhooks: {enabled: true, reconcile_every: "24h"}` in the config, or `holded
sync --webhooks`; `holded_core.webhook_plan`), the job is given a `Reconciliation`: the selection lists
the streams Holded sends no events for, and those kept by webhooks only when due (their last complete
listing, kept in `_holded_listed`, older than `reconcile_every`). A stream left to the webhooks is not
read at all: its table, its state and its models' change-event state stay exactly as they were, and the
change events come only from the models listed. Every run (webhooks on or off) records when each stream
it listed completely started, so switching webhooks on later knows what is fresh.
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
from holded_core.client import HoldedClient, Usage
from holded_core.errors import (
    HoldedAuthError,
    HoldedConfigError,
    HoldedError,
    HoldedMissingPermissionError,
    HoldedQuotaError,
)
from holded_core.quota import Estimate, estimate, fit, next_reset
from holded_core.settings import Settings
from holded_core.streams import EVENTS_STREAM
from holded_core.sync import ListingCost, LogOut, RecordOut, StateOut, StatusOut, StreamReport, SyncEngine
from holded_core.webhook_plan import FromWebhooks, Reconciliation, WebhookSync, listing_key


@dataclass
class SyncResult:
    view: RunView
    merged: dict[str, MergeCounts] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # rows in each table after the run
    seconds: float = 0.0
    interrupted: bool = False
    quota: HoldedQuotaError | None = None  # the monthly quota ran out and ended the run
    costs: list[ListingCost] = field(default_factory=list)  # each listing's requests
    skipped: dict[str, str] = field(default_factory=dict)  # stream -> why it was not read (`--fit-quota`)
    quota_check: QuotaCheck | None = None  # what the check before the sync read and estimated
    webhooks: WebhookSync | None = None  # the webhooks setting (None or off: every stream was listed)
    reconciliation: Reconciliation | None = None  # with webhooks on: what was left to them this run
    held: dict[str, int] = field(default_factory=dict)  # rows in the tables of the streams left to the webhooks

    @property
    def reports(self) -> dict[str, StreamReport]:
        return dict(self.view.reports)

    @property
    def failed(self) -> list[str]:
        return [name for name, rep in self.view.reports.items() if rep.status != "complete"]

    @property
    def status(self) -> str:
        """The run's outcome: `complete`; `partial` (`--fit-quota` skipped streams, the rest completed);
        `failed` (streams did not complete); `quota_spent` (Holded's monthly quota ran out mid-run);
        `interrupted`. What `--json` says and `_holded_runs.status` keeps."""
        if self.interrupted:
            return "interrupted"
        if self.quota is not None:
            return "quota_spent"
        if self.failed:
            return "failed"
        return "partial" if self.skipped else "complete"

    def title(self, db: object) -> str:
        """The summary's title, a sentence: `holded sync partial: 3 streams skipped to fit the monthly quota,
        in 2.5s: 40 requests into holded.duckdb`, `holded sync stopped: monthly quota spent, in 2.5s: ...`."""
        status, count = self.status, len(self.failed)
        what = {
            "complete": "complete",
            "partial": f"partial: {_streams(len(self.skipped))} skipped to fit the monthly quota,",
            "failed": f"incomplete: {_streams(count)} did not complete,",
            "quota_spent": "stopped: monthly quota spent,",
            "interrupted": "interrupted",
        }[status]
        return f"holded sync {what} {'after' if status == 'interrupted' else 'in'} {self.seconds:.1f}s: " + (
            f"{self.requests} {'request' if self.requests == 1 else 'requests'} into {db}"
        )

    @property
    def requests(self) -> int:
        """Every request the run sent (what Holded counts against its windows)."""
        return self.view.stats.requests

    @property
    def requests_outside(self) -> int:
        """Requests sent outside the streams' listings: the basics check, the quota read."""
        return self.requests - sum(cost.requests for cost in self.costs)

    @property
    def from_webhooks(self) -> list[FromWebhooks]:
        """The streams (and `changeEvents:<model>`) left to Holded's webhooks this run, not listed."""
        return list(self.reconciliation.from_webhooks) if self.reconciliation is not None else []

    def webhooks_json(self) -> dict[str, Any]:
        """With webhooks on: the setting, what came from the webhooks (with when it is next listed) and what
        was listed because it was due; `{"enabled": false}` otherwise."""
        if self.webhooks is None or not self.webhooks.enabled:
            return {"enabled": False}
        return {
            "enabled": True,
            "reconcile_every": self.webhooks.shown_every,
            "reconciled": list(self.reconciliation.reconciling) if self.reconciliation is not None else [],
            "from_webhooks": {
                item.name: {"last_listed": _instant(item.last_listed), "next_listing": _instant(item.next_listing)}
                for item in self.from_webhooks
            },
            "unregistered": list(self.reconciliation.unregistered) if self.reconciliation is not None else [],
        }

    def webhook_rows(self) -> list[tuple[str, int, str]]:
        """The summary table's rows for the streams left to the webhooks: (name, rows held, next listing)."""
        return [
            (item.name, self.held.get(item.name, 0), _shown(item.next_listing))
            for item in self.from_webhooks
            if not item.name.startswith(f"{EVENTS_STREAM}:")
        ]

    def webhook_notes(self) -> list[str]:
        """The summary table's caption sentences about the webhooks (none when they are off)."""
        if self.webhooks is None or not self.webhooks.enabled:
            return []
        notes = [f"webhooks on: streams Holded sends events for are listed every {self.webhooks.shown_every}"]
        when: dict[str, list[str]] = {}
        for item in self.from_webhooks:
            name = item.name
            if name.startswith(f"{EVENTS_STREAM}:"):
                name = f"{EVENTS_STREAM} of {name.split(':', 1)[1]}"
            when.setdefault(_shown(item.next_listing), []).append(name)
        for shown, names in when.items():
            notes.append(f"from webhooks this run, listed again from {shown}: {', '.join(names)}")
        if self.reconciliation is not None and self.reconciliation.reconciling:
            notes.append(f"listed this run to reconcile: {', '.join(self.reconciliation.reconciling)}")
        if self.reconciliation is not None and self.reconciliation.unregistered:
            notes.append(
                f"listed as usual, their Holded events not registered (`holded webhooks register`, or "
                f"`webhooks.events` for a webhook made in Holded's UI): {', '.join(self.reconciliation.unregistered)}"
            )
        return notes

    def as_json(self) -> dict[str, Any]:
        """The run's summary: `requests` in all, `requests_outside_streams`, per stream its listing's
        `requests` (and the streams it shares that listing with) and `source` (`listing`, or `webhooks` for a
        stream left to Holded's webhooks this run, with when it is next listed), per listing its route and
        requests, `webhooks` (the setting and what it decided), and `status` (complete, partial, failed,
        quota_spent, interrupted): a stream skipped to fit the monthly quota is `skipped`, with its reason."""
        streams: dict[str, Any] = {
            name: {
                "status": rep.status,
                "source": "listing",
                "new": rep.counts.get("created", 0),
                "changed": rep.counts.get("updated", 0),
                "deleted": rep.counts.get("deleted", 0),
                "rows": self.totals.get(name, 0),
                "bad_records": rep.bad,
                "error": rep.error,
                "requests": rep.requests,
                "requests_shared_with": list(rep.shared),
            }
            for name, rep in self.view.reports.items()
        }
        for item in self.from_webhooks:
            if item.name.startswith(f"{EVENTS_STREAM}:"):
                continue  # a model's events: said in `webhooks.from_webhooks`
            streams[item.name] = {
                "status": "from webhooks",
                "source": "webhooks",
                "new": 0,
                "changed": 0,
                "deleted": 0,
                "rows": self.held.get(item.name, 0),
                "requests": 0,
                "last_listed": _instant(item.last_listed),
                "next_listing": _instant(item.next_listing),
            }
        for name, why in self.skipped.items():  # not read this run (`--fit-quota`): said, with the reason
            streams[name] = {
                "status": "skipped",
                "source": "listing",
                "reason": why,
                "new": 0,
                "changed": 0,
                "deleted": 0,
                "rows": self.totals.get(name, 0),
                "bad_records": 0,
                "error": None,
                "requests": 0,
                "requests_shared_with": [],
            }
        return {
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "requests_outside_streams": self.requests_outside,
            "retries": self.view.stats.retries,
            "interrupted": self.interrupted,
            "quota_spent": self.quota is not None,
            "skipped": dict(self.skipped),
            "quota": self.quota_check.as_json() if self.quota_check is not None else None,
            "listings": [
                {"path": c.path, "streams": list(c.streams), "requests": c.requests, "complete": c.complete}
                for c in self.costs
            ],
            "streams": streams,
            "webhooks": self.webhooks_json(),
        }


def _shown(seconds: float) -> str:
    """Unix seconds as the summary table shows a time (UTC, to the minute)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _instant(seconds: float) -> str:
    """Unix seconds as an ISO 8601 UTC instant to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class QuotaTooSmall(HoldedConfigError):
    """The sync's estimated requests pass what is left of Holded's monthly quota (exit 2: nothing was read)."""


class QuotaCheck:
    """`ReadRun.plan` for `holded sync` on an API v2 token: read the month's usage, estimate the sync's
    requests from the last runs (`Store.last_listing_costs`, rows held for listings never completed),
    and stop or fit the selection when the estimate passes what is left.

    Attributes:
        usage: what `GET /v2/usage` said (None: not read: a v1 key, or the permission missing).
        estimate: the estimate of the selection asked for (None: not made).
        skipped: streams `fit` left out, with the reason.
    """

    def __init__(
        self, settings: Settings, store: Store, *, fit_quota: bool = False, say: Callable[[str], None] = print
    ) -> None:
        """
        Args:
            settings: the connector settings.
            store: the DuckDB store (the last runs' listing costs, the rows held).
            fit_quota: when the estimate passes what is left, read only the listings that fit (else stop).
            say: where the check's one-line notes go.
        """
        self.settings = settings
        self.store = store
        self.fit_quota = fit_quota
        self.say = say
        self.usage: Usage | None = None
        self.estimate: Estimate | None = None
        self.skipped: dict[str, str] = {}

    def __call__(self, client: HoldedClient, selection: StreamSelection) -> StreamSelection:
        """The selection to read (see the class).

        Raises:
            QuotaTooSmall: the estimate passes what is left and `fit_quota` is off, or nothing is left.
            HoldedQuotaError: the quota is already spent (the usage read itself was refused).
        """
        if client.config.dialect != "v2":
            return selection  # a v1 key cannot read /v2/usage
        try:
            self.usage = usage = client.usage()
        except HoldedMissingPermissionError:
            self.say("note: the API token lacks developers:usage.read, so the monthly quota was not checked "
                     "before syncing; tick it on the token to have it checked")  # fmt: skip
            return selection
        except HoldedQuotaError:
            raise
        except HoldedError as exc:
            self.say(f"note: Holded's monthly quota could not be read ({exc}); syncing without checking it")
            return selection
        names = [c.name for c in selection.chosen]
        self.estimate = planned = estimate(
            self.settings, selection, self.store.last_listing_costs(), self.store.row_counts(names)
        )
        remaining = usage.remaining
        if remaining is None:
            return selection
        where = f"{usage.used:,} of {usage.limit:,} used in {usage.period}" + (
            f", resets {next_reset(usage)}" if next_reset(usage) else ""
        )
        unknown = f" (plus {', '.join(planned.unknown)}, never read before)" if planned.unknown else ""
        if planned.known <= remaining and remaining > 0:
            need = f"about {planned.known:,} requests{unknown}"
            if not planned.known and planned.unknown:
                need = "requests not known yet (no run completed these listings into this database)"
            self.say(f"quota: {remaining:,} requests left ({where}); this sync: {need}")
            return selection
        if not self.fit_quota or remaining == 0:
            fix = "add --fit-quota to read only the streams that fit, pass fewer --streams, or wait for the reset"
            if remaining == 0:
                fix = "wait for the reset, or raise the plan's quota in Holded"
            raise QuotaTooSmall(
                f"this sync needs about {planned.known:,} requests{unknown} and Holded's monthly quota has "
                f"{remaining:,} left ({where}): {fix}"
            )
        fitted = fit(selection, planned, remaining)
        self.skipped = fitted.skipped
        self.say(
            f"quota: {remaining:,} requests left ({where}): reading what fits (about {fitted.requests:,}); "
            f"skipped: {', '.join(f'{name} ({why})' for name, why in fitted.skipped.items())}"
        )
        return fitted.selection

    def as_json(self) -> dict[str, Any] | None:
        """What the check read and estimated (None: the usage was not read)."""
        if self.usage is None:
            return None
        planned = self.estimate
        return {
            "period": self.usage.period,
            "used": self.usage.used,
            "limit": self.usage.limit,
            "estimate": planned.known if planned is not None else None,
            "unknown": planned.unknown if planned is not None else [],
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
        flush_rows: int = 10_000,
        flush_seconds: float = 2.0,
        preflight: bool = True,
        quota: QuotaCheck | None = None,
        reconciliation: Reconciliation | None = None,
        webhooks: WebhookSync | None = None,
    ) -> None:
        """A sync of `selection` (its streams, and the change events into `changeEvents` when selected) into `store`.

        Args:
            settings: the connector settings (client config, sync options).
            store: the DuckDB store (tables and saved state).
            selection: the streams to sync (`streams_of`, or `holded_core.adapter.select_streams`).
            progress: the display; plain lines by default.
            on_refresh_token: called with a rotated OAuth refresh token (a `TokenHandBack`).
            flush_rows: commit once this many rows are buffered (each row is in memory twice until then: the
                record and its JSON text for DuckDB; 10,000 rather than 25,000: some 30 MiB less at 10x scale).
            flush_seconds: commit state at least this often.
            preflight: run the basics check first (`holded events --every` does it on its first run only).
            quota: the check of Holded's monthly quota before the listings (`holded sync`); None: none.
            reconciliation: with webhooks on, what is left to them this run (`webhook_plan.reconcile`); its
                `selection` is what is read, and replaces `selection`.
            webhooks: the webhooks setting, for the summary.
        """
        self.settings = settings
        self.reconciliation = reconciliation
        self.webhooks = webhooks
        if reconciliation is not None:
            selection = reconciliation.selection
        self.quota = quota
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
        self._engine: SyncEngine | None = None

    def run(self) -> SyncResult:
        """Sync the streams into the store; what arrived before a failure or an interruption is kept.

        Returns:
            The run's result (per-stream reports, counts, rows in each table, time taken).

        Holded's monthly quota running out mid-run is not raised: the result's `quota` says it.

        Raises:
            HoldedBasicsError: the basics check failed, or Holded refused the credential mid-run.
            QuotaTooSmall: the quota check found the estimate passes what is left (nothing was read).
            HoldedQuotaError: the quota was spent before the listings started.
            HoldedError: another failure that stops the whole sync.
            KeyboardInterrupt: interrupted before the sync started (during the basics check).
        """
        tables = [table_for(spec) for spec in self.selection.specs]
        for table in tables:
            self.store.ensure_table(table)
        begun = time.time()
        read = ReadRun(
            self.settings,
            self.selection,
            self,
            saved=self._saved_states(),
            tokens=self.on_refresh_token,
            preflight=self.preflight,
            plan=self.quota,
        )
        started = time.monotonic()
        interrupted = False
        quota: HoldedQuotaError | None = None
        try:
            read.drive()
        except KeyboardInterrupt:
            if self.result is None:
                raise
            interrupted = True
        except HoldedQuotaError as exc:  # the streams that completed stand; the next run resumes the others
            if self.result is None:
                raise
            quota = exc
        finally:
            self.progress.stop()
            self._flush()  # what arrived is consistent with the states received: keep it
        assert self.result is not None  # on_start ran: the engine was built
        result = self.result
        result.interrupted = interrupted
        result.quota = quota
        result.quota_check = self.quota
        result.skipped = dict(self.quota.skipped) if self.quota is not None else {}
        if self._engine is not None:
            result.costs = self._engine.costs()
        result.merged = self.merged
        result.seconds = time.monotonic() - started
        result.totals = self._totals([t.name for t in tables])
        result.webhooks = self.webhooks
        result.reconciliation = self.reconciliation
        result.held = self.store.row_counts([item.name for item in result.from_webhooks])
        self.store.mark_listed(self._listed_completely(read.selection, result), begun)
        return result

    def _saved_states(self) -> dict[str, dict[str, Any]]:
        """The saved states this run reads, and only those decoded: its streams' and its models' change-events
        states (a model not read keeps its saved state: a commit writes only the models it names)."""
        events = self.selection.event_specs(self.settings.unified())
        names = [c.name for c in self.selection.chosen]
        return self.store.states(names, [spec.name for spec in events or ()])

    def _listed_completely(self, selection: StreamSelection, result: SyncResult) -> list[str]:
        """The `listing_key`s of what this run listed completely: each stream that completed, and each unified
        model listed for the change events alone whose listing completed."""
        reports = result.reports
        keys = [name for name, rep in reports.items() if name != EVENTS_STREAM and rep.status == "complete"]
        events = reports.get(EVENTS_STREAM)
        if events is not None and events.status == "complete":  # every model it follows was listed completely
            for spec in selection.event_specs(self.settings.unified()) or ():
                if spec.name not in selection.names:
                    keys.append(listing_key(spec, events_only=True))
        return keys

    # --- the output handler (holded_core.adapter.OutputHandler) --------------------------------

    def on_start(self, engine: SyncEngine, client: HoldedClient) -> None:
        self._engine = engine
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
        # A refused credential or the quota spent: the engine raises it once every listing ended, said once.
        if not isinstance(out.error, (HoldedAuthError, HoldedQuotaError)):
            self.progress.stream_status(out.stream, out.status, out.error)
        self.progress.tick()

    def on_log(self, out: LogOut) -> None:
        if out.level != "INFO" and not isinstance(out.error, (HoldedAuthError, HoldedQuotaError)):
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


def _streams(count: int) -> str:
    return f"{count} stream" if count == 1 else f"{count} streams"


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
