"""`holded events`: detect changes now (or every N minutes) and hand the events on.

Detection is the sync engine with only the change-events stream: it lists the ten unified models,
compares them with the fingerprints saved in the database and stores new events in the
`changeEvents` table (the same table and state `holded sync` uses, so an event is detected once
whichever command sees it first). Then each event is delivered to the webhook, or printed as a JSON
line when there is none; a change this connector wrote itself (`holded push`, coming back: `origin:
"connector"`) only with `include_own_writes`.

A webhook registered for the first time gets the events detected from then on; on a database with
no saved fingerprints yet, the first detection only records the baseline (every record would be
"created"), unless `include_existing` asks for those too.

Each run is recorded in `_holded_runs` (command `events`) with its requests per listing, and its one-line
report ends with the requests it made, per listing (Holded counts every one against its quota).
"""

from __future__ import annotations

import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from holded_cli.progress import Progress
from holded_cli.store import Store
from holded_cli.sync_job import SyncJob, SyncResult
from holded_cli.webhooks import DeliveryReport, Webhook, body_of
from holded_core.adapter import select_streams
from holded_core.errors import HoldedAuthError, HoldedConfigError, HoldedError, HoldedQuotaError
from holded_core.own_writes import CONNECTOR
from holded_core.settings import Settings
from holded_core.streams import EVENTS_STREAM

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not match or float(match.group(1)) <= 0:
        raise HoldedConfigError(f"--every {text!r} is not a duration: use e.g. 30s, 5m, 1h")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


@dataclass
class EventsRun:
    detection: SyncResult
    new_events: int
    delivery: DeliveryReport | None


def _max_seq(store: Store) -> int:
    row = store.con.execute(f'SELECT coalesce(max(seq), 0) FROM "{EVENTS_STREAM}"').fetchone()
    return int(row[0]) if row else 0


def run_once(
    settings: Settings,
    store: Store,
    webhook: Webhook | None,
    *,
    include_existing: bool = False,
    progress: Progress | None = None,
    out: TextIO = sys.stdout,
    on_refresh_token: Callable[[str], None] | None = None,
    preflight: bool = True,
    include_own_writes: bool = False,
) -> EventsRun:
    """Detect changes once, then deliver the new events to `webhook` (or print them as JSON lines on `out`).

    Args:
        settings: the connector settings.
        store: the DuckDB store holding the fingerprints and the `changeEvents` table.
        webhook: where to deliver the events; None prints them on `out`.
        include_existing: on a database without fingerprints yet, send every record as created.
        progress: the display (warnings only for this command).
        out: where events are printed when there is no webhook.
        on_refresh_token: called with a rotated OAuth refresh token.
        preflight: run the basics check first (`--every` runs it on the first run only: a credential
            refused later still stops the loop with one line, from the detection itself).
        include_own_writes: print the events of the connector's own writes coming back too (a webhook is
            told by its own `include_own_writes`).

    Returns:
        The detection's result, the number of new events and the delivery report (None without webhook).

    Raises:
        HoldedBasicsError: the basics are wrong (refused credential, wrong base URL, unreachable host).
        HoldedError: the detection failed as a whole.
    """
    had_baseline = store.has_events_state()
    before = _max_seq(store) if EVENTS_STREAM in store.table_names() else 0
    events_only = select_streams(settings, [EVENTS_STREAM])
    started = time.time()
    detection = SyncJob(
        settings, store, events_only, progress=progress, on_refresh_token=on_refresh_token, preflight=preflight
    ).run()
    status = "interrupted" if detection.interrupted else "quota" if detection.quota else None
    status = status or ("failed" if detection.failed else "complete")
    store.record_run("events", started, status, detection.requests, detection.view.stats.retries, detection.as_json())
    after = _max_seq(store)
    delivery = None
    if webhook is not None:
        if not webhook.subscribed():
            webhook.subscribe(0 if include_existing else before if had_baseline else after)
        delivery = webhook.deliver_pending()
    else:
        rows = store.con.execute(
            f"""SELECT id, event, model, recordId, type,
                       strftime(detectedAt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS detectedAt,
                       changedFields, record, origin
                FROM "{EVENTS_STREAM}" WHERE seq > ? AND (? OR coalesce(origin, '') <> '{CONNECTOR}') ORDER BY seq""",
            [before if (had_baseline or include_existing) else after, include_own_writes],
        )
        names = [d[0] for d in rows.description]
        for row in rows.fetchall():
            out.write(body_of(dict(zip(names, row, strict=True))).decode() + "\n")
        out.flush()
    return EventsRun(detection, after - before, delivery)


def describe(run: EventsRun) -> str:
    counts = run.detection.view.reports.get(EVENTS_STREAM)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.counts.items())) if counts else ""
    line = f"events: {run.new_events} new" + (f" ({kinds})" if kinds and run.new_events else "")
    if run.delivery is not None:
        d = run.delivery
        line += f"; delivered {d.delivered}, {d.pending} queued"
        if d.pending:
            line += f" (last error: {d.last_error}; they are retried on the next run)"
    spent = ", ".join(f"{cost.path.rsplit('/', 1)[-1]} {cost.requests}" for cost in run.detection.costs)
    line += f"; {run.detection.requests} requests" + (f" ({spent})" if spent else "")
    if run.detection.quota is not None:
        line += "; Holded's monthly request quota is spent: the next run resumes"
    failed = run.detection.failed
    if failed:
        errors = {rep.error for name, rep in run.detection.view.reports.items() if rep.error}
        line += f"; detection incomplete: {'; '.join(sorted(errors)) or ', '.join(failed)}"
    return line


def run_every(interval: float, tick: Callable[[], Any], log: Callable[[str], None]) -> int:
    """Run `tick` now and every `interval` seconds until interrupted (Ctrl-C or SIGTERM): exits 0.
    A failure of Holded (unreachable, 5xx after retries) is logged and retried at the next tick; a
    refused credential, a config mistake or Holded's monthly quota spent stops the loop."""

    def _term(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _term)
    try:
        while True:
            started = time.monotonic()
            try:
                tick()
            except (HoldedAuthError, HoldedConfigError, HoldedQuotaError):
                raise
            except HoldedError as exc:
                log(f"events: this run failed ({exc}); trying again in {interval:.0f}s")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        log("events: stopped")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
