"""The sync engine: lists Holded once per listing, feeds every selected stream from it, and yields
plain outputs (records, state checkpoints, statuses, logs) that the Airbyte source and the local runner
turn into their own messages. No Airbyte import here.

- Listings run concurrently (`stream_concurrency`), pages with read-ahead (the client's `read_ahead`),
  which an incremental stream bounds by the last complete listing's size (kept in its state), so a
  listing costs exactly the pages it needs.
- A listed record whose own fingerprint (as Holded returned it, with what else its mapping reads) is the
  one the last complete pass kept is not translated nor mapped again: every tracker it feeds carries its
  records over (`ChangeTracker.carry`); a changed record is mapped and compared as before.
- Incremental streams emit only new or changed records, then tombstones for ids a complete listing
  no longer has and Holded confirms deleted (`holded_core.deletions`); state is checkpointed after
  every page that emitted something, and at the end.
- Outputs go through one bounded queue, so memory stays flat whatever the account's size.
- Requests are money (DESIGN.md rule 8): each listing's requests (its pages, the contacts it lists to
  tell persons from companies, its deletion confirmations) are counted under the listing
  (`HoldedClient.attributed`) and reported on every stream it fed (`StreamReport.requests`, `shared`:
  the other streams of that one listing) and in `costs()`; a listing that fed only the change events is
  counted on `changeEvents`. The client's total less the listings' is what the run spent outside them
  (the basics check, a quota read).
- Failure: a listing that fails fails its streams alone, except a refused credential and Holded's monthly
  quota running out (`HoldedQuotaError`, never retried): those end the whole sync once every stream has
  been told; listings not started by then fail at once with the same error, without a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import orjson

from holded_core.changes import (
    RAW_BYTES,
    ChangeTracker,
    build_event,
    bytes_per_record,
    events_width,
    field_hashes,
    fingerprint,
)
from holded_core.client import HoldedClient
from holded_core.dates import DEFAULT_TIMEZONE
from holded_core.deletions import DEFAULT_MAX_SHARE, DeletionCheck, Verdicts
from holded_core.dialects import Dialect
from holded_core.dialects.v1 import V1
from holded_core.errors import (
    HoldedAuthError,
    HoldedError,
    HoldedMissingPermissionError,
    HoldedPermissionError,
    HoldedQuotaError,
)
from holded_core.mappings import is_person
from holded_core.secrets import get_logger
from holded_core.streams import DELETED_AT, EVENTS_STREAM, Listing, StreamSpec

logger = get_logger(__name__)
QUEUED_BATCHES = 4  # page batches waiting for the reader (see `SyncEngine.__init__`)


# ------------------------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class RecordOut:
    stream: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StateOut:
    stream: str
    state: dict[str, Any]


@dataclass(frozen=True)
class StatusOut:
    stream: str
    status: str  # started | running | complete | incomplete
    error: BaseException | None = None


@dataclass(frozen=True)
class LogOut:
    level: str
    message: str
    error: BaseException | None = None  # the failure the line reports, if any (adapters may fold repeats)


Output = RecordOut | StateOut | StatusOut | LogOut | Any


@dataclass
class SyncOptions:
    default_currency: str = "EUR"
    include_raw: bool = False
    start_date: int | None = None  # unix seconds; documents dated before it are not listed
    stream_concurrency: int = 3
    mass_deletion_share: float = DEFAULT_MAX_SHARE  # see holded_core.deletions
    timezone: str = DEFAULT_TIMEZONE  # the account's zone: Holded's calendar days are days there


@dataclass
class Selected:
    spec: StreamSpec
    incremental: bool


@dataclass
class StreamReport:
    emitted: int = 0
    pages: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    bad: int = 0
    kept: int = 0  # missing from a complete listing, not confirmed deleted by Holded
    status: str = "pending"
    error: str | None = None
    bytes_per_record: float | None = None
    requests: int = 0  # requests of the listing that fed this stream (pages, kinds, deletion confirmations)
    shared: tuple[str, ...] = ()  # other streams fed by that same listing (its requests are counted once)


@dataclass(frozen=True)
class ListingCost:
    """What one listing of a sync cost.

    Attributes:
        path: the listing's route (`/v2/contacts`): the key a later run's estimate looks it up by.
        streams: the streams it fed; `(changeEvents,)` when it was read for the change events alone.
        requests: the requests it made: its pages, a contacts listing made for it, deletion confirmations.
        complete: it read everything (its count is then what the listing costs, for a later estimate).
    """

    path: str
    streams: tuple[str, ...]
    requests: int
    complete: bool = False


_stamp: tuple[int, str] = (0, "")


def now_iso() -> str:
    """The current UTC second as ISO 8601 (formatted once per second: events are stamped in bulk)."""
    global _stamp
    second = int(time.time())
    if _stamp[0] != second:
        _stamp = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _stamp[1]


class Extracted:
    """One record of a stream built from a listed Holded record, with what the consumers of the same
    listing share: its key, the fields that did not fit, and (computed once, on first use) the record
    without `raw` and its fingerprint."""

    __slots__ = ("_clean", "_fingerprint", "key", "problems", "record")

    def __init__(self, record: dict[str, Any], key: str | None, problems: str | None) -> None:
        self.record, self.key, self.problems = record, key, problems
        self._clean: dict[str, Any] | None = None
        self._fingerprint: bytes | None = None

    @property
    def clean(self) -> dict[str, Any]:
        if self._clean is None:
            self._clean = {k: v for k, v in self.record.items() if k != "raw"} if "raw" in self.record else self.record
        return self._clean

    @property
    def fingerprint(self) -> bytes:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.clean)
        return self._fingerprint


# ---------------------------------------------------------------------------------- consumers


class StreamConsumer:
    """Turns listed Holded records into one stream's outputs, tracking changes when incremental."""

    def __init__(self, engine: SyncEngine, selected: Selected, state: Mapping[str, Any] | None) -> None:
        self.engine = engine
        self.spec = selected.spec
        scope = engine.scope(self.spec)
        self.tracker = (
            ChangeTracker(state, stream=self.spec.name, scope=scope, raw_context=engine.raw_context(self.spec))
            if selected.incremental
            else None
        )
        self.report = engine.reports[self.spec.name]
        self.out: list[Output] = []  # the listing's batch for the current page (set by the engine)
        self._dirty = False
        self._started = False

    def feed(self, listed: Mapping[str, Any], extracted: list[Extracted]) -> None:
        for item in extracted:
            record, key = item.record, item.key
            if key is None:
                self._bad(listed, "no id: the record cannot be keyed and is skipped")
                continue
            if item.problems:
                self._bad(listed, item.problems, skipped=False)
            if self.tracker is not None:
                change = self.tracker.observe(key, item.fingerprint)
                if change is None:
                    continue
                self.report.counts[change.kind] += 1
                self._dirty = True
            self._emit_record(record)

    def note_raw(self, holded_id: Any, raw: bytes | None, extracted: list[Extracted]) -> None:
        """A listed record just mapped: its raw fingerprint is kept when all its records fit the model."""
        if self.tracker is not None and _fits(extracted):
            self.tracker.note_raw(holded_id, raw)

    def _emit_record(self, record: dict[str, Any]) -> None:
        if not self._started:
            self._started = True
            self.out.append(StatusOut(self.spec.name, "running"))
        self.report.emitted += 1
        self.out.append(RecordOut(self.spec.name, record))

    def _bad(self, listed: Mapping[str, Any], reason: str, skipped: bool = True) -> None:
        self.report.bad += 1
        ident = listed.get("id") or "?"
        action = "skipped" if skipped else "emitted with those fields null"
        self.out.append(
            LogOut("WARN", f"{self.spec.name}: Holded record {ident} does not fit the model ({reason}); {action}")
        )

    def end_page(self) -> None:
        self.report.pages += 1
        if self.tracker is not None and self._dirty:
            self._dirty = False
            self.out.append(StateOut(self.spec.name, self.tracker.checkpoint()))

    def finish(self, check: DeletionCheck | None = None) -> None:
        """The listing completed: confirmed deletions become tombstones, then this pass is the snapshot."""
        if self.tracker is not None:
            stamp = now_iso()
            verdicts = check.resolve(self.spec, self.tracker) if check else Verdicts(held=self.tracker.missing())
            for key, item in verdicts.present:
                change = self.tracker.observe(key, item.fingerprint)
                if change is not None:
                    self.report.counts[change.kind] += 1
                    self._emit_record(item.record)
            for key in verdicts.deleted:
                self.tracker.confirm_deleted(key)
                self.report.counts["deleted"] += 1
                self._emit_record(self._tombstone(key, stamp))
            for key in verdicts.held:
                self.tracker.hold(key, note_missing=verdicts.note_missing)
            self.report.kept += len(verdicts.held)
            if verdicts.warning:
                self.out.append(LogOut("WARN", f"{self.spec.name}: {verdicts.warning}"))
            state = self.tracker.complete()
            self.report.bytes_per_record = bytes_per_record(state)
            self.out.append(StateOut(self.spec.name, state))
        self.report.status = "complete"
        self.out.append(StatusOut(self.spec.name, "complete"))

    def fail(self, error: BaseException) -> None:
        self.end_page()  # what was emitted stays recorded; no deletions from a listing that failed
        self.report.status = "incomplete"
        self.report.error = str(error)
        self.out.append(StatusOut(self.spec.name, "incomplete", error))

    def _tombstone(self, key: str, stamp: str) -> dict[str, Any]:
        parts = key.split(":", len(self.spec.primary_key) - 1)
        record: dict[str, Any] = dict(zip(self.spec.primary_key, parts, strict=False))
        if self.spec.kind == "unified":
            record = {"id": key, "createdAt": None, "updatedAt": stamp, "customFields": {}}
        record[DELETED_AT] = stamp
        return record


class EventsHub:
    """The change-events stream: per unified model, a tracker of fingerprints plus a 2-byte hash per
    field (`changes.field_hashes`, so `changedFields` can be told), shared by the listings that feed the models."""

    def __init__(self, engine: SyncEngine, state: Mapping[str, Any] | None) -> None:
        self.engine = engine
        models_state = (state or {}).get("models", {})
        self.specs: dict[str, StreamSpec] = {}
        self.trackers: dict[str, ChangeTracker] = {}
        self._states = models_state
        self._lock = threading.Lock()
        self._dirty = False
        self._out: list[Output] = []  # events not yet handed over; flushed with each checkpoint
        self.finished: set[str] = set()
        self.failed: dict[str, BaseException] = {}  # model -> why its listing failed (no events for it)
        self.report = engine.reports[EVENTS_STREAM]

    def add_model(self, spec: StreamSpec) -> None:
        self.specs[spec.name] = spec
        self.trackers[spec.name] = ChangeTracker(
            self._states.get(spec.name),
            width=events_width(spec.fields),
            versioned=True,
            stream=f"{EVENTS_STREAM} ({spec.name})",
            scope=self.engine.scope(spec),
            raw_context=self.engine.raw_context(spec),
        )

    def feed(self, spec: StreamSpec, extracted: list[Extracted]) -> None:
        for item in extracted:
            if item.key is None:
                continue
            value = item.fingerprint + field_hashes(item.clean, spec.fields)
            with self._lock:  # observe and emit together: a checkpoint never covers an unsent event
                change = self.trackers[spec.name].observe(item.key, value)
                if change is not None:
                    self._dirty = True
                    self._emit(spec, change, item.clean)

    def note_raw(self, spec: StreamSpec, holded_id: Any, raw: bytes | None, extracted: list[Extracted]) -> None:
        """See `StreamConsumer.note_raw` (only this model's listing thread touches its raw fingerprints)."""
        if _fits(extracted):
            self.trackers[spec.name].note_raw(holded_id, raw)

    def _emit(self, spec: StreamSpec, change: Any, record: Mapping[str, Any] | None) -> None:
        self.report.counts[change.kind] += 1
        self.report.emitted += 1
        self._out.append(RecordOut(EVENTS_STREAM, build_event(spec.name, change, record, spec.fields, now_iso())))

    def end_page(self) -> None:
        with self._lock:  # events, then the state covering them, in one batch
            if self._dirty:
                self._dirty = False
                self._out.append(StateOut(EVENTS_STREAM, self._state(complete=None)))
                self._flush()

    def _flush(self) -> None:
        batch, self._out = self._out, []
        self.engine.send(batch)

    def finish(self, spec: StreamSpec, check: DeletionCheck | None = None, *, warn: bool = True) -> None:
        """`spec`'s listing completed: confirmed deletions become events. `warn`: say why records were
        kept (False when the model's own stream, fed by the same listing, says it already)."""
        tracker = self.trackers[spec.name]
        # Read outside the lock: only this listing's thread touches this model's tracker.
        verdicts = check.resolve(spec, tracker) if check else Verdicts(held=tracker.missing())
        with self._lock:
            for key, item in verdicts.present:
                change = tracker.observe(key, item.fingerprint + field_hashes(item.clean, spec.fields))
                if change is not None:
                    self._emit(spec, change, item.clean)
            for key in verdicts.deleted:
                self._emit(spec, tracker.confirm_deleted(key), None)
            for key in verdicts.held:
                tracker.hold(key, note_missing=verdicts.note_missing)
            if verdicts.warning and warn:
                self._out.append(LogOut("WARN", f"{EVENTS_STREAM} ({spec.name}): {verdicts.warning}"))
            self.finished.add(spec.name)
            self._out.append(StateOut(EVENTS_STREAM, self._state(complete=spec.name)))
            self._dirty = False
            self._flush()

    def missing_reason(self) -> str:
        """Why some models got no events this run, one clause per cause: `no events for crmOpportunity:
        its listing failed (crm:deals.read missing)`."""
        causes: dict[str, list[str]] = {}
        for name in self.trackers:
            if name in self.finished:
                continue
            error = self.failed.get(name)
            cause = f"failed ({_short(error)})" if error is not None else "did not complete"
            if isinstance(error, (HoldedAuthError, HoldedQuotaError)):  # the run's end says it, once
                cause = "stopped with the run"
            causes.setdefault(cause, []).append(name)
        parts = []
        for cause, names in causes.items():
            whose = "its listing" if len(names) == 1 else "their listings"
            parts.append(f"no events for {', '.join(names)}: {whose} {cause}")
        return "; ".join(parts)

    def _state(self, complete: str | None) -> dict[str, Any]:
        """The stream's state: each tracked model's, and as saved for a model not listed this run (kept as it was)."""
        models = dict(self._states)
        for name, tracker in self.trackers.items():
            models[name] = tracker.complete() if name == complete else tracker.checkpoint()
            self._states[name] = models[name]
        return {"v": 1, "models": models}


# ------------------------------------------------------------------------------------- engine


class SyncEngine:
    def __init__(
        self,
        client: HoldedClient,
        selected: list[Selected],
        states: Mapping[str, Mapping[str, Any]],
        options: SyncOptions,
        events_models: list[StreamSpec] | None = None,
        dialect: Dialect = V1,
    ) -> None:
        """`events_models`: the unified stream specs to derive change events from (None: no events);
        `dialect`: the Holded API the specs were built for (its `contacts` tell persons from companies)."""
        self.client = client
        self.options = options
        self.contacts = dialect.resource("contacts").listing
        self.reports: dict[str, StreamReport] = {s.spec.name: StreamReport() for s in selected}
        # Batches (one page's outputs each), bounded: memory stays flat, workers wait for the reader. Four
        # (16 until 2026-11-30) keep the reader fed as well (the same time at 10x scale) for ~20 MiB less.
        self._queue: queue.Queue[list[Output] | _Done] = queue.Queue(maxsize=QUEUED_BATCHES)
        self._stop = threading.Event()
        self._kinds: dict[str, bool] = {}
        self._kinds_ready = threading.Event()
        self._kinds_error: BaseException | None = None
        self._kinds_lock = threading.Lock()
        self._kinds_relisted = False
        self._kinds_incomplete = False  # this pass's contacts listing missed records Holded still has
        self._quota: HoldedQuotaError | None = None  # the monthly quota ran out: no listing starts after it
        self._events_lock = threading.Lock()  # changeEvents' request count, added to by several listings
        self._events_costs: dict[Listing, int] = {}  # the listings read for the change events alone
        self._completed: set[Listing] = set()  # listings that read everything
        self.groups: dict[Listing, list[StreamConsumer]] = {}
        for sel in selected:
            if sel.spec.listing is not None:
                consumer = StreamConsumer(self, sel, states.get(sel.spec.name))
                self.groups.setdefault(sel.spec.listing, []).append(consumer)
        self.events: EventsHub | None = None
        self._event_specs: dict[Listing, list[StreamSpec]] = {}
        if events_models is not None:
            self.reports.setdefault(EVENTS_STREAM, StreamReport())
            self.events = EventsHub(self, states.get(EVENTS_STREAM))
            for spec in events_models:
                assert spec.listing is not None
                self.events.add_model(spec)
                self._event_specs.setdefault(spec.listing, []).append(spec)
                self.groups.setdefault(spec.listing, [])
        self._kinds_shared = any(self._is_contacts(listing) for listing in self.groups)
        for consumers in self.groups.values():
            names = tuple(c.spec.name for c in consumers)
            for consumer in consumers:
                consumer.report.shared = tuple(n for n in names if n != consumer.spec.name)

    # --- requests ----------------------------------------------------------------------------

    def fed_by(self, listing: Listing) -> tuple[str, ...]:
        """The streams `listing` feeds (`changeEvents` alone when it is read for the change events only)."""
        names = tuple(c.spec.name for c in self.groups.get(listing, []))
        return names or (EVENTS_STREAM,)

    def costs(self) -> list[ListingCost]:
        """Each listing's requests so far (final once the run ended), in the order the listings started."""
        stats = self.client.stats
        return [
            ListingCost(listing.path, self.fed_by(listing), stats.requests_of(listing), listing in self._completed)
            for listing in self.groups
        ]

    def requests_outside(self) -> int:
        """Requests the client made outside every listing (the basics check, a quota read...)."""
        return self.client.stats.requests - sum(cost.requests for cost in self.costs())

    def _count_requests(self, listing: Listing) -> None:
        """Put `listing`'s requests on the reports of the streams it fed (changeEvents: its own listings)."""
        spent = self.client.stats.requests_of(listing)
        consumers = self.groups.get(listing, [])
        for consumer in consumers:
            consumer.report.requests = spent
        if not consumers and EVENTS_STREAM in self.reports:
            with self._events_lock:
                self._events_costs[listing] = spent
                self.reports[EVENTS_STREAM].requests = sum(self._events_costs.values())

    # --- helpers used by consumers ---------------------------------------------------------

    def send(self, batch: list[Output] | _Done) -> None:
        """Hand a batch to the reader; blocks while the queue is full (backpressure)."""
        if isinstance(batch, list) and not batch:
            return
        while not self._stop.is_set():
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Stopped

    def extract(
        self,
        spec: StreamSpec,
        listed: Mapping[str, Any],
        problems: list[str] | None,
        received: Mapping[str, Any] | None = None,
    ) -> Iterator[dict]:
        """`spec`'s records from one Holded record (`received`: as Holded returned it, when `listed` is
        its v1 translation: a unified record's `raw` is the record as received)."""
        return spec.extract(
            listed,
            default_currency=self.options.default_currency,
            is_person=self._is_person if self._reads_kinds(spec) else None,
            include_raw=self.options.include_raw,
            problems=problems,
            timezone=self.options.timezone,
            received=received if received is not listed else None,
        )

    @staticmethod
    def _reads_kinds(spec: StreamSpec) -> bool:
        """The stream's mapping reads whether a contact is a person (an invoice's customer or company)."""
        return spec.name in ("accountingInvoice",)

    def raw_context(self, spec: StreamSpec) -> str | None:
        """What a unified stream's records depend on besides the listed record (`ChangeTracker`'s raw
        fingerprints are kept under it): the mapping code and connector version, the stream's mappings,
        fields and field mappings, the settings its conversions read, the listing. None for a native or
        custom stream (its records are Holded's own: nothing to skip)."""
        if spec.kind != "unified" or spec.listing is None:
            return None
        extras = [(f.names, f.path, f.custom_field, getattr(f.read, "__qualname__", "")) for f in spec.extras]
        parts = [
            _code_version(),
            spec.name,
            list(spec.fields),
            [(m.stream, m.resource, m.children) for m in spec.mappings],
            extras,
            self.options.default_currency,
            self.options.timezone,
            self.options.include_raw,
            spec.listing.path,
            spec.listing.pagination,
        ]
        return hashlib.blake2b(orjson.dumps(parts, default=str), digest_size=8).hexdigest()

    def _raw_fingerprints(self, spec: StreamSpec, records: list[dict[str, Any]], blobs: list[bytes]) -> list[bytes]:
        """Each listed record's raw fingerprint for `spec`: the record, and whether its contact is a person
        where the mapping reads it (a contact turning into a company changes the invoice's references)."""
        if not self._reads_kinds(spec):
            return [hashlib.blake2b(blob, digest_size=RAW_BYTES).digest() for blob in blobs]
        out = []
        for record, blob in zip(records, blobs, strict=True):
            contact = record.get("contact", record.get("contact_id"))  # v1's `contact`, v2's `contact_id`
            kind = self._is_person(str(contact)) if contact else None
            out.append(hashlib.blake2b(blob + b"|" + str(kind).encode(), digest_size=RAW_BYTES).digest())
        return out

    def scope(self, spec: StreamSpec) -> int | None:
        """What bounds a stream's listing: `start_date` for dated documents (a change is not a deletion)."""
        return self.options.start_date if spec.listing is not None and spec.listing.dated else None

    def _extracted(
        self,
        spec: StreamSpec,
        listed: Mapping[str, Any],
        shared: dict[str, list[Extracted]],
        received: Mapping[str, Any] | None = None,
    ) -> list:
        if spec.name not in shared:
            problems: list[str] = []
            items = []
            for record in self.extract(spec, listed, problems, received):
                items.append(Extracted(record, spec.key_of(record), "; ".join(problems) if problems else None))
                problems.clear()
            shared[spec.name] = items
        return shared[spec.name]

    def _is_contacts(self, listing: Listing) -> bool:
        return listing.path == self.contacts.path and not listing.params

    def _in_scope(self, listing: Listing) -> Callable[[Mapping[str, Any]], bool] | None:
        """Whether a record read by id still belongs in a dated listing (`start_date` bounds it): one whose
        date moved before it left the listing, so it is gone from the stream, not merely unlisted."""
        start = self.options.start_date
        if not listing.dated or start is None:
            return None
        return lambda record: _seconds(self._v1(listing, record).get("date")) >= start

    def _keyed(self, spec: StreamSpec, listed: Mapping[str, Any]) -> list[tuple[str | None, Extracted]]:
        """A Holded record read again by id (or listed again), as the stream's records (for deletion
        confirmation): translated to v1's shape for a unified stream, exactly as the listing's records."""
        return [(item.key, item) for item in self._extracted(spec, self._as_read(spec, listed), {}, listed)]

    def _v1(self, listing: Listing, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """A record of `listing` in Holded's v1 shape (the dialect's `to_v1`; v1's records as they are)."""
        return listing.as_v1(record, self.options.timezone)

    def _as_read(self, spec: StreamSpec, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """What `spec` reads of a Holded record: v1's shape for a unified stream (its mappings read it),
        the record as Holded returned it for a native or custom stream."""
        if spec.kind != "unified" or spec.listing is None:
            return record
        return self._v1(spec.listing, record)

    def _is_person(self, contact_id: str) -> bool | None:
        """Person or company, for an invoice's contact (None: Holded has no such contact).

        When this sync lists contacts anyway, their kinds are recorded from that pass (listed first);
        otherwise one listing of contacts is made on first use. When this pass's listing is known to have
        missed contacts Holded still has (its deletion check found some), a contact it lacks makes one
        more listing, once per sync. If a listing fails, the error fails the invoice streams: guessing
        the kind would emit wrong customer/company references.
        """
        if self._kinds_shared:
            self._kinds_ready.wait()
            if self._kinds_error is not None:
                raise HoldedError(f"contacts could not be listed to tell persons from companies: {self._kinds_error}")
        elif not self._kinds_ready.is_set():
            self._list_kinds(relist=False)
        kind = self._kinds.get(contact_id)
        if kind is None and self._kinds_incomplete and not self._kinds_relisted:
            self._list_kinds(relist=True)
            kind = self._kinds.get(contact_id)
        return kind

    def _list_kinds(self, relist: bool) -> None:
        with self._kinds_lock:
            if self._kinds_relisted if relist else self._kinds_ready.is_set():
                return  # another thread listed meanwhile
            contacts = self.client.iter_records(
                self.contacts.path, pagination=self.contacts.pagination, page_size=self.contacts.page_size
            )
            kinds = {str(contact.get("id")): is_person(self._v1(self.contacts, contact)) for contact in contacts}
            self._kinds.update(kinds)
            if relist:
                self._kinds_relisted = True
            self._kinds_ready.set()

    # --- running ---------------------------------------------------------------------------

    def run(self) -> Iterator[Output]:
        started = time.monotonic()
        # Contacts first: the invoice streams wait for their kinds (person or company).
        jobs = sorted(self.groups.items(), key=lambda job: not self._is_contacts(job[0]))
        for _listing, consumers in jobs:
            for consumer in consumers:
                yield StatusOut(consumer.spec.name, "started")
        if self.events is not None:
            yield StatusOut(EVENTS_STREAM, "started")
        remaining = len(jobs)
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.stream_concurrency), thread_name_prefix="holded-list")
        futures = [pool.submit(self._run_listing, listing, consumers) for listing, consumers in jobs]
        fatal: BaseException | None = None
        try:
            while remaining:
                item = self._queue.get()
                if isinstance(item, _Done):
                    remaining -= 1
                    fatal = fatal or item.fatal
                    continue
                yield from item
            if self.events is not None:
                status = "complete" if self.events.finished == set(self.events.trackers) else "incomplete"
                self.reports[EVENTS_STREAM].status = status
                if status == "incomplete":  # its own failure is another stream's: say whose, and why
                    self.reports[EVENTS_STREAM].error = self.events.missing_reason()
                yield StatusOut(EVENTS_STREAM, status)
            yield LogOut("INFO", self.summary(time.monotonic() - started))
        finally:
            self._stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
        if fatal is not None:
            raise fatal

    def _run_listing(self, listing: Listing, consumers: list[StreamConsumer]) -> None:
        with self.client.attributed(listing):  # every request made for this listing counts as its own
            self._list(listing, consumers)

    def _list(self, listing: Listing, consumers: list[StreamConsumer]) -> None:
        event_specs = self._event_specs.get(listing, [])
        records_kinds = self._kinds_shared and self._is_contacts(listing)
        batch: list[Output] = []
        for consumer in consumers:
            consumer.out = batch
        fatal: BaseException | None = None
        try:
            if self._quota is not None:  # spent while this listing waited: fail it without a request
                raise self._quota
            reads_v1 = records_kinds or bool(event_specs) or any(c.spec.kind == "unified" for c in consumers)
            params = listing.query(self.options.start_date, self.options.timezone)
            trackers = [c.tracker for c in consumers if c.tracker is not None]
            if self.events is not None:
                trackers += [self.events.trackers[spec.name] for spec in event_specs]
            before = [t.listed_before for t in trackers if t.listed_before is not None]
            pages = self.client.iter_pages(
                listing.path,
                params,
                pagination=listing.pagination,
                page_size=listing.page_size,
                # Incremental streams read exactly the pages they need (a first pass: one after another);
                # a full refresh, which keeps no state, reads ahead as far as the client's `read_ahead`.
                expected_records=max(before) if before else (0 if trackers else None),
            )
            served = 0
            raw_consumers = [c for c in consumers if c.tracker is not None and c.tracker.raw_context is not None]
            raw_events = [spec for spec in event_specs if self.events is not None] if event_specs else []
            for page in pages:
                served += page.received
                records = page.records
                ids = [record.get("id") for record in records]
                # Raw fingerprints: a record unchanged since the last complete pass is carried over by each
                # tracker that kept it, and is not mapped for it (`ChangeTracker.carry`).
                raws: dict[str, list[bytes]] = {}
                carried: dict[str, list[bool]] = {}
                if raw_consumers or raw_events:
                    blobs = [orjson.dumps(record) for record in records]  # as `changes.raw_fingerprint`
                    for consumer in raw_consumers:
                        raws[consumer.spec.name] = self._raw_fingerprints(consumer.spec, records, blobs)
                        carried[consumer.spec.name] = consumer.tracker.carry(ids, raws[consumer.spec.name])  # type: ignore[union-attr]
                    for spec in raw_events:
                        fps = raws.get(spec.name) or self._raw_fingerprints(spec, records, blobs)
                        raws[f"events:{spec.name}"] = fps
                        carried[f"events:{spec.name}"] = self.events.trackers[spec.name].carry(ids, fps)  # type: ignore[union-attr]
                for n, received in enumerate(records):
                    todo = [c for c in consumers if not (c.spec.name in carried and carried[c.spec.name][n])]
                    events_todo = [s for s in event_specs if not carried.get(f"events:{s.name}", _NEVER)[n]]
                    if not todo and not events_todo and not records_kinds:
                        continue  # unchanged for every stream and model it feeds: not translated, not mapped
                    # The one place a listed record is translated: unified streams (and their events)
                    # read Holded's v1 shape; native and custom streams the record as Holded returned it.
                    as_v1 = self._v1(listing, received) if reads_v1 else received
                    if records_kinds:
                        self._kinds[str(received.get("id"))] = is_person(as_v1)
                    shared: dict[str, list[Extracted]] = {}  # a stream and its events read one extraction
                    for consumer in todo:
                        listed = as_v1 if consumer.spec.kind == "unified" else received
                        items = self._extracted(consumer.spec, listed, shared, received)
                        consumer.feed(listed, items)
                        if consumer.spec.name in raws:
                            consumer.note_raw(ids[n], raws[consumer.spec.name][n], items)
                    if self.events is not None:
                        for spec in events_todo:
                            items = self._extracted(spec, as_v1, shared, received)
                            self.events.feed(spec, items)
                            if f"events:{spec.name}" in raws:
                                self.events.note_raw(spec, ids[n], raws[f"events:{spec.name}"][n], items)
                for consumer in consumers:
                    consumer.end_page()
                self.send(batch[:])
                batch.clear()
                if self.events is not None and event_specs:
                    self.events.end_page()
            for tracker in trackers:
                tracker.listed = served
            check = DeletionCheck(
                self.client,
                listing,
                self._keyed,
                max_share=self.options.mass_deletion_share,
                workers=self.client.config.read_ahead,
                in_scope=self._in_scope(listing),
                params=params,
            )
            for consumer in consumers:
                consumer.finish(check)
            self.send(batch[:])
            batch.clear()
            if self.events is not None:
                told = {consumer.spec.name for consumer in consumers}
                for spec in event_specs:
                    self.events.finish(spec, check, warn=spec.name not in told)
            if records_kinds:  # after the check: it tells whether the listing missed contacts
                self._kinds_incomplete = check.found_unlisted
                self._kinds_ready.set()
            self._completed.add(listing)
        except _Stopped:
            return
        except Exception as exc:
            if records_kinds:
                self._kinds_error = exc
                self._kinds_ready.set()
            # A refused credential, the monthly quota spent or a bug is fatal for the whole sync once every
            # stream has been told; a module without access or a Holded failure only fails this listing's streams.
            if isinstance(exc, HoldedQuotaError):
                self._quota = self._quota or exc
            if isinstance(exc, (HoldedAuthError, HoldedQuotaError)) or not isinstance(exc, HoldedError):
                fatal = exc
            self._fail(consumers, event_specs, exc, batch)
        finally:
            if records_kinds:
                self._kinds_ready.set()  # never leave the invoice listings waiting (a stopped sync too)
            self._count_requests(listing)  # before _Done: the summary reads the counts once every listing is done
            with contextlib.suppress(_Stopped):
                self.send(_Done(fatal))

    def _fail(
        self, consumers: list[StreamConsumer], event_specs: list[StreamSpec], exc: BaseException, batch: list[Output]
    ) -> None:
        with contextlib.suppress(_Stopped):
            for consumer in consumers:
                consumer.fail(exc)
            if self.events is not None and event_specs and not consumers:  # (else the streams' failure says it)
                names = ", ".join(spec.name for spec in event_specs)
                batch.append(LogOut("WARN", f"{EVENTS_STREAM}: no events for {names} this time: {exc}", exc))
            self.send(batch[:])
            batch.clear()
            if self.events is not None and event_specs:
                for spec in event_specs:
                    self.events.failed.setdefault(spec.name, exc)
                self.events.end_page()

    def summary(self, seconds: float) -> str:
        lines = [
            f"sync finished in {seconds:.1f}s, {self.client.stats.requests} requests, "
            f"{self.client.stats.retries} retries"
        ]
        for name, rep in self.reports.items():
            detail = ", ".join(f"{k} {v}" for k, v in sorted(rep.counts.items())) or "no changes"
            extra = f"; {rep.bad} bad records" if rep.bad else ""
            if rep.kept:
                extra += f"; {rep.kept} missing from the listing kept (not confirmed deleted)"
            size = f"; state {rep.bytes_per_record:.1f} bytes/record" if rep.bytes_per_record else ""
            error = f"; error: {rep.error}" if rep.error else ""
            spent = f"; {rep.requests} request{'' if rep.requests == 1 else 's'}"
            if rep.shared:
                spent += f" (one listing with {', '.join(rep.shared)})"
            lines.append(f"  {name}: {rep.status}, {rep.emitted} emitted ({detail}){spent}{extra}{size}{error}")
        outside = self.requests_outside()
        if outside:
            plural = "" if outside == 1 else "s"
            lines.append(f"  (outside the streams: {outside} request{plural}: the basics check, a quota read)")
        return "\n".join(lines)


class _Never:
    """A list of False as long as asked."""

    def __getitem__(self, _index: int) -> bool:
        return False


_NEVER = _Never()


def _fits(extracted: list[Extracted]) -> bool:
    """Every record built from a listed record is keyed and fits its model (a misfit is mapped each pass,
    so its warning is repeated, as it was before raw fingerprints)."""
    return all(item.key is not None and not item.problems for item in extracted)


_CODE: list[str] = []


def _code_version() -> str:
    """The connector's version with a hash of the code that turns a listed record into unified ones (the
    mappings, the dialects' translations, field mappings, days, fingerprints): a raw fingerprint kept by
    another build is not trusted, so an edited mapping never leaves stale rows."""
    if not _CODE:
        from holded_core import changes, dates, dialects, fieldmap, mappings, streams
        from holded_core.dialects import v1, v2

        digest = hashlib.blake2b(digest_size=8)
        for module in (changes, dates, dialects, fieldmap, mappings, streams, v1, v2):
            try:
                with open(str(module.__file__), "rb") as fh:
                    digest.update(fh.read())
            except OSError:  # not a plain file (a zip import): the version alone
                digest.update(module.__name__.encode())
        try:
            version = metadata.version("holded-connector")
        except metadata.PackageNotFoundError:
            version = "?"
        _CODE.append(f"{version}:{digest.hexdigest()}")
    return _CODE[0]


def _seconds(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _short(error: BaseException) -> str:
    """A failure in a few words, for the change events' reason (the stream that failed says it in full)."""
    if isinstance(error, HoldedMissingPermissionError):
        return f"{error.permission} missing"
    if isinstance(error, HoldedPermissionError):
        return "no access to its Holded module"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class _Done:
    fatal: BaseException | None


class _Stopped(Exception):
    """The reader went away: workers stop quietly."""
