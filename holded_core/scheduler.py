"""Parallel writes where order does not matter, in order where it does.

Records of different keys run concurrently (up to `concurrency`); two records of the same key, or
two children of the same parent (stages of a funnel, lines of an invoice), run one after the other;
a record waits for the in-flight records of the streams it refers to (pipelines before stages and
opportunities, invoices before their lines, contacts before invoices and leads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
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
PARENT_FIELD = {"crmStage": ("crmPipeline", "pipeline"), "accountingInvoiceItem": ("accountingInvoice", "invoice")}


def order_key(stream: str, record: Mapping[str, Any]) -> str:
    key = str(record.get("id") or "")
    if stream in PARENT_FIELD:  # children rewrite their parent's list: one at a time per parent
        parent_stream, field = PARENT_FIELD[stream]
        return f"{parent_stream}:{record.get(field) or key.split(':', 1)[0]}"
    return f"{stream}:{key}"


class Scheduler:
    def __init__(self, writer: Writer, concurrency: int, max_pending: int = 1_000) -> None:
        """`max_pending`: records submitted but not yet collected; past it `submit` waits for the oldest,
        so memory stays flat however fast records arrive."""
        self.writer = writer
        self.max_pending = max_pending
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="holded-write")
        self._last: dict[str, Future[WriteResult]] = {}
        self._streams: dict[str, set[Future[WriteResult]]] = defaultdict(set)
        self._pending: list[tuple[Future[WriteResult], Mapping[str, Any]]] = []

    def submit(self, stream: str, record: Mapping[str, Any], op: str) -> None:
        if len(self._pending) >= self.max_pending:
            wait([self._pending[0][0]])  # collected by the caller's next finished()
        waits = {f for dep in DEPENDS_ON.get(stream, ()) for f in self._streams[dep] if not f.done()}
        key = order_key(stream, record)
        if key in self._last:
            waits.add(self._last[key])
        if waits:
            wait(waits)
        future = self.pool.submit(self.writer.apply, stream, record, op)
        self._last[key] = future
        self._streams[stream].add(future)
        self._pending.append((future, record))

    def finished(self) -> Iterator[tuple[WriteResult, Mapping[str, Any]]]:
        """Results that are ready, in submission order (stops at the first still running)."""
        while self._pending and self._pending[0][0].done():
            future, record = self._pending.pop(0)
            yield future.result(), record
        for futures in self._streams.values():
            futures.difference_update({f for f in futures if f.done()})
        self._last = {k: f for k, f in self._last.items() if not f.done()}

    def drain(self) -> Iterator[tuple[WriteResult, Mapping[str, Any]]]:
        """Every submitted record, applied; for a state message to be echoed after."""
        wait([f for f, _ in self._pending])
        yield from self.finished()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
