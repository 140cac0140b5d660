"""Parallel writes where order does not matter, in order where it does.

Records of different keys run concurrently (up to `concurrency`); two records that share a key run one
after the other: the same record key, two children of the same parent (stages of a funnel, lines of an
invoice), or one identity in the target's listing (the same `customId`, natural key or `matching_keys`
value once normalised: `Writer.order_keys`), so two rows naming one company by e-mail never both create
it. A record waits for the in-flight records of the streams it refers to (pipelines before stages and
opportunities, invoices before their lines, contacts before invoices and leads). A group (a document with
its lines, `Writer.apply_group`) is one job with one result per record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from holded_core.writes import Writer, WriteResult

CONTACTS = ("genericContact", "genericCompany")
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "crmStage": ("crmPipeline",),
    "crmOpportunity": ("crmPipeline", "crmStage", *CONTACTS),
    "crmEngagement": ("crmOpportunity", *CONTACTS),
    "accountingInvoice": CONTACTS,
    "accountingInvoiceItem": ("accountingInvoice",),
}
Job = Future[list[WriteResult]]


class Scheduler:
    def __init__(self, writer: Writer, concurrency: int, max_pending: int = 1_000) -> None:
        """`max_pending`: records submitted but not yet collected; past it `submit` waits for the oldest,
        so memory stays flat however fast records arrive."""
        self.writer = writer
        self.max_pending = max_pending
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="holded-write")
        self._last: dict[str, Job] = {}
        self._streams: dict[str, set[Job]] = defaultdict(set)
        self._pending: list[tuple[Job, list[Mapping[str, Any]]]] = []

    def submit(self, stream: str, record: Mapping[str, Any], op: str) -> None:
        """Apply one record (`Writer.apply`) once the records it must follow are done."""
        self._submit([stream], self.writer.order_keys(stream, record), [record],
                     lambda: [self.writer.apply(stream, record, op)])  # fmt: skip

    def submit_group(
        self, stream: str, record: Mapping[str, Any], op: str, lines: Sequence[tuple[str, Mapping[str, Any], str]]
    ) -> None:
        """Apply a document and its lines as one job (`Writer.apply_group`); one result per record, the
        document's first."""
        streams = [stream, *dict.fromkeys(s for s, _, _ in lines)]
        records = [record, *(r for _, r, _ in lines)]
        self._submit(streams, self.writer.order_keys(stream, record), records,
                     lambda: self.writer.apply_group(stream, record, op, lines))  # fmt: skip

    def _submit(
        self,
        streams: Sequence[str],
        keys: Sequence[str],
        records: list[Mapping[str, Any]],
        job: Callable[[], list[WriteResult]],
    ) -> None:
        if len(self._pending) >= self.max_pending:
            wait([self._pending[0][0]])  # collected by the caller's next finished()
        waits = {f for s in streams for dep in DEPENDS_ON.get(s, ()) for f in self._streams[dep] if not f.done()}
        waits |= {self._last[key] for key in keys if key in self._last}
        if waits:
            wait(waits)
        future = self.pool.submit(job)
        for key in keys:
            self._last[key] = future
        for s in streams:
            self._streams[s].add(future)
        self._pending.append((future, records))

    def finished(self) -> Iterator[tuple[WriteResult, Mapping[str, Any]]]:
        """Results that are ready, in submission order (stops at the first still running)."""
        while self._pending and self._pending[0][0].done():
            future, records = self._pending.pop(0)
            yield from zip(future.result(), records, strict=True)
        for futures in self._streams.values():
            futures.difference_update({f for f in futures if f.done()})
        self._last = {k: f for k, f in self._last.items() if not f.done()}

    def drain(self) -> Iterator[tuple[WriteResult, Mapping[str, Any]]]:
        """Every submitted record, applied; for a state message to be echoed after."""
        wait([f for f, _ in self._pending])
        yield from self.finished()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
