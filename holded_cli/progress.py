"""What a sync shows while it runs and when it ends.

On a terminal: a live table per stream (rows, pages, rate, state) with the client's requests and
retry waits, redrawn a few times a second from the engine's counters. Elsewhere (a pipe, a log
file, CI): plain lines, one when a stream finishes and one every few seconds. At the end, a summary
table: per stream the new, changed and deleted rows, the rows now in the table, the requests its
listing made (`*`: one listing fed several streams, counted once in the total), and the time taken.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table

from holded_core.client import ClientStats
from holded_core.sync import StreamReport


def make_console(out: TextIO | None = None, force_terminal: bool | None = None) -> Console:
    """A rich console; off a terminal it would wrap at 80 columns, and log files are wider than that."""
    out = out or sys.stdout
    return Console(file=out, force_terminal=force_terminal, highlight=False, width=None if out.isatty() else 120)


@dataclass
class StreamTiming:
    started: float | None = None
    finished: float | None = None

    def seconds(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


@dataclass
class RunView:
    """The counters a display reads: the engine's reports, the client's stats, per-stream timings."""

    reports: Mapping[str, StreamReport]
    stats: ClientStats
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, StreamTiming] = field(default_factory=dict)

    def timing(self, stream: str) -> StreamTiming:
        return self.timings.setdefault(stream, StreamTiming())


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}/s" if seconds > 0.05 and rows else "-"


class Progress:
    """Live display or plain lines, chosen by whether `stream` is a terminal (or forced)."""

    def __init__(
        self, out: TextIO | None = None, live: bool | None = None, every: float = 5.0, quiet: bool = False
    ) -> None:
        """`quiet`: warnings only (for commands with a one-line report of their own, like `holded events`)."""
        self.out = out or sys.stderr
        self.quiet = quiet
        self.live_mode = not quiet and (self.out.isatty() if live is None else live)
        self.console = make_console(self.out, force_terminal=self.live_mode)
        self.every = every
        self.view: RunView | None = None
        self._live: Live | None = None
        self._last_line = 0.0

    def start(self, view: RunView) -> None:
        self.view = view
        self._last_line = time.monotonic()
        if self.live_mode:
            self._live = Live(console=self.console, get_renderable=self._table, refresh_per_second=4, transient=True)
            self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def log(self, level: str, message: str) -> None:
        """A warning or note from the sync; printed above the live table or as a line."""
        self.console.print(f"{level}: {message}", markup=False, highlight=False, soft_wrap=not self.live_mode)

    def stream_status(self, stream: str, status: str, error: BaseException | None = None) -> None:
        assert self.view is not None
        timing = self.view.timing(stream)
        now = time.monotonic()
        if status == "started" and timing.started is None:
            timing.started = now
        if status in ("complete", "incomplete"):
            timing.finished = now
            if not self.live_mode and not self.quiet:
                rep = self.view.reports.get(stream)
                rows = rep.emitted if rep else 0
                why = error or (rep.error if rep else None)  # changeEvents: its reason is another stream's failure
                detail = f": {why}" if why else ""
                line = f"{stream}: {status}, {rows} rows in {timing.seconds(now):.1f}s{detail}"
                self.console.print(line, markup=False, soft_wrap=True)  # one line, whatever its length

    def tick(self) -> None:
        """Called as outputs arrive; prints a progress line every few seconds when not live."""
        if self.live_mode or self.quiet or self.view is None:
            return
        now = time.monotonic()
        if now - self._last_line < self.every:
            return
        self._last_line = now
        rows = sum(r.emitted for r in self.view.reports.values())
        stats = self.view.stats
        self.console.print(
            f"progress: {rows} rows, {stats.requests} requests, {stats.retries} retries "
            f"({stats.retry_wait_seconds:.1f}s waited), {now - self.view.started:.0f}s",
            markup=False,
        )

    def _table(self) -> Table:
        assert self.view is not None
        now = time.monotonic()
        stats = self.view.stats
        table = Table(
            box=box.SIMPLE,
            title=f"holded sync: {now - self.view.started:.0f}s",
            caption=f"{stats.requests} requests, {stats.retries} retries, "
            f"{stats.retry_wait_seconds:.1f}s waited on retries, {stats.budget_wait_seconds:.1f}s on the rate budget",
        )
        table.add_column("stream", no_wrap=True, min_width=21)
        for name in ("rows", "pages", "rate"):
            table.add_column(name, justify="right")
        table.add_column("state")
        for stream, rep in self.view.reports.items():
            seconds = self.view.timing(stream).seconds(now)
            state = rep.status if rep.status != "pending" else ("listing" if seconds else "waiting")
            table.add_row(stream, f"{rep.emitted:,}", str(rep.pages), _rate(rep.emitted, seconds), state)
        return table


def summary_table(
    view: RunView,
    totals: Mapping[str, int],
    title: str,
    outside: int | None = None,
    *,
    from_webhooks: Sequence[tuple[str, int, str]] = (),
    notes: Sequence[str] = (),
    skipped: Mapping[str, str] | None = None,
) -> Table:
    """Per stream: new / changed / deleted rows this run, rows now in the table, requests, seconds.

    Args:
        view: the run's reports and client stats.
        totals: rows in each stream's table after the run.
        title: the table's title.
        outside: requests the run made outside the streams' listings (the basics check, the quota read),
            said in the caption with the total.
        from_webhooks: streams not listed this run because Holded's webhooks keep them (`holded sync` with
            webhooks on): (name, rows in its table, when it is listed again), a row each (when: in `notes`).
        notes: more caption sentences.
        skipped: streams not read this run, with the reason (`holded sync --fit-quota`): a row each,
            status `skipped: <reason>`.
    """
    now = time.monotonic()
    shared = sorted({tuple(sorted((stream, *rep.shared))) for stream, rep in view.reports.items() if rep.shared})
    caption = [f"{view.stats.requests} {_plural(view.stats.requests, 'request')} in all"]
    if outside:
        caption.append(f"{outside} outside the streams (basics check, quota)")
    if shared:
        groups = "; ".join(" + ".join(group) for group in shared)
        caption.append(f"* one listing feeds several streams, its requests counted once: {groups}")
    caption.extend(notes)
    table = Table(box=box.SIMPLE, title=title, caption=". ".join(caption), caption_justify="left")
    table.add_column("stream", no_wrap=True, min_width=21)
    for name in ("new", "changed", "deleted", "rows in table", "requests", "seconds"):
        table.add_column(name, justify="right")
    table.add_column("status")
    for stream, rep in view.reports.items():
        status = rep.status + (f": {rep.error}" if rep.error else "") + (f" ({rep.bad} bad records)" if rep.bad else "")
        table.add_row(
            stream,
            str(rep.counts.get("created", 0)),
            str(rep.counts.get("updated", 0)),
            str(rep.counts.get("deleted", 0)),
            f"{totals.get(stream, 0):,}",
            f"{rep.requests:,}" + ("*" if rep.shared else ""),
            f"{view.timing(stream).seconds(now):.1f}",
            status,
        )
    for stream, rows, _next_listing in from_webhooks:
        table.add_row(stream, "-", "-", "-", f"{rows:,}", "0", "-", "from webhooks")
    for stream, why in (skipped or {}).items():
        table.add_row(stream, "-", "-", "-", f"{totals.get(stream, 0):,}", "0", "-", f"skipped: {why}")
    return table


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
