"""`holded webhooks serve`: receives Holded's signed webhooks into the DuckDB file.

A small WSGI app served by waitress (a pure-Python production WSGI server of the Pylons project), bound to
127.0.0.1 unless `--host` says otherwise; put a TLS reverse proxy in front of it (docs/webhooks.md).

- `POST <any path>`: a body over `max_body` bytes is refused (413) before it is read; a missing or wrong
  `x-holded-webhook-signature` (HMAC-SHA256 of the raw body keyed by the whole `whsec_` secret) is refused
  (401) and nothing is stored; a delivery without Holded's headers or a JSON object body is refused (400).
  Otherwise the delivery is stored durably (`holded_cli.inbox`: the inbox table, or the spool while another
  process holds the file) and only then answered 200; a delivery stored before (same account id and
  webhook id) is answered 200 again and not stored twice.
- `GET <any path>`: the receiver's counters as JSON (no secret, no record).
- A processor thread takes the stored deliveries in arrival order, reads each object again by id
  (`holded_core.inbound`; one request per object, however many deliveries named it), and commits in one
  transaction the records (tombstones for deletions), the change events, the edited states and the
  deliveries marked processed: a crash anywhere leaves each delivery either pending (processed again, which
  changes nothing already committed) or processed, never half. Only a 404 confirms a deletion. A read that
  fails leaves the delivery pending until its own next attempt time (`inbox.pause_after`; failed after
  `inbox.MAX_ATTEMPTS`); Holded's monthly quota spent pauses every read until its reset (or a restart). A record
  read while another command saved that object is not written: it is read again. The new events then go to
  `--webhook` as `holded events` delivers them (`holded_cli.webhooks`: signed, queued until accepted), with no
  turn on the file held while sending (nor while an invoice's contact is read from Holded).

The database is opened for each step and closed right after, so `holded sync`, `holded push` or `holded
events` can run on the same file meanwhile (they wait for the file the milliseconds it is held).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from holded_cli import inbox
from holded_cli.inbox import Spool, Stored
from holded_cli.store import LOCK_WAIT, DatabaseBusy, Store
from holded_cli.tables import table_for
from holded_cli.webhooks import DeliveryReport, Webhook
from holded_core.adapter import StreamSelection
from holded_core.basics import check_basics
from holded_core.client import HoldedClient
from holded_core.dialects import Resource
from holded_core.errors import HoldedAuthError, HoldedError, HoldedNotFoundError, HoldedQuotaError
from holded_core.inbound import (
    MAX_BODY,
    SIGNATURE_HEADER,
    Applied,
    BadDelivery,
    Delivery,
    Fetched,
    Inbound,
    parse_delivery,
    verify_signature,
)
from holded_core.mappings import is_person
from holded_core.secrets import redact
from holded_core.settings import Settings
from holded_core.streams import EVENTS_STREAM

OUTBOUND_BATCH = 100  # events sent to the webhook between two turns on the file
HANDLER_WAIT = 0.5  # seconds a delivery waits for its turn on the file before it goes to the spool
POLL = 1.0  # seconds between looks at the inbox when no delivery woke the processor
THREADS = 4


def _next_month() -> float:
    """The start of the next UTC month (unix seconds): when a monthly quota whose reset Holded did not say resets."""
    now = datetime.now(UTC)
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC).timestamp()


@dataclass
class Counters:
    """What the receiver did since it started (served on GET)."""

    received: int = 0
    stored: int = 0
    spooled: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # by HTTP status
    processed: int = 0
    ignored: Counter[str] = field(default_factory=Counter)  # by Holded object
    requests: int = 0
    changes: Counter[str] = field(default_factory=Counter)  # "<stream> <kind>"
    last_latency: float | None = None  # seconds from a delivery's arrival to its commit (the last batch)
    delivered: int = 0
    queued: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "spooled": self.spooled,
            "duplicates": self.duplicates,
            "refused": dict(self.refused),
            "processed": self.processed,
            "ignored": dict(self.ignored),
            "requests": self.requests,
            "changes": dict(self.changes),
            "last_latency_seconds": self.last_latency,
            "events_delivered": self.delivered,
            "events_queued": self.queued,
        }


class Gate:
    """This process's turns on the DuckDB file: one at a time, the file open only for the turn.

    Args:
        db: the DuckDB file.
    """

    def __init__(self, db: Path) -> None:
        self.db = db
        self._lock = threading.Lock()

    @contextmanager
    def turn(self, wait: float) -> Iterator[Store | None]:
        """The store, open for this turn; None when the file could not be had within `wait` seconds
        (another thread of this process, then another process, holding it)."""
        deadline = time.monotonic() + wait
        if not self._lock.acquire(timeout=max(wait, 0.001)):
            yield None
            return
        try:
            try:
                store = Store(self.db, wait=max(0.0, deadline - time.monotonic()))
            except DatabaseBusy:
                yield None
                return
            with store:
                yield store
        finally:
            self._lock.release()


@dataclass
class Outbound:
    """Where new change events go, as `holded events --webhook` sends them."""

    url: str
    secret: str
    include_own_writes: bool = False


class Receiver:
    """The receiving app (WSGI) and its processor thread.

    Args:
        settings: the connector settings (the credential's dialect, sync options).
        selection: the streams kept up to date (and change events when selected).
        db: the DuckDB file.
        secret: Holded's signing secret (`whsec_...`), shown once when the webhook was made.
        outbound: where new change events are delivered, or None.
        max_body: the largest body taken, in bytes.
        log: prints one line (the command's stderr).
        on_refresh_token: called with a rotated OAuth refresh token.
        auto_streams: without `--streams`, selects streams by name: a native stream whose table appears while
            serving is then kept too (None: the selection is fixed).
    """

    def __init__(
        self,
        settings: Settings,
        selection: StreamSelection,
        db: Path,
        secret: str,
        *,
        outbound: Outbound | None = None,
        max_body: int = MAX_BODY,
        log: Callable[[str], None] = print,
        on_refresh_token: Callable[[str], None] | None = None,
        auto_streams: Callable[[list[str]], StreamSelection] | None = None,
    ) -> None:
        self.settings = settings
        self.selection = selection
        self.secret = secret
        self.outbound = outbound
        self.max_body = max_body
        self.log = log
        self.gate = Gate(db)
        self.spool = Spool(db)
        # A read that fails leaves its delivery pending for the next batch: no long retries inside one batch.
        quick = settings.client.model_copy(update={"max_retries": 2, "max_retry_seconds": 10.0})
        self.client = HoldedClient(quick, on_refresh_token=on_refresh_token)
        self.inbound = Inbound(settings, self.client, selection.specs)
        self.tables = {spec.name: table_for(spec) for spec in selection.specs}
        self.counters = Counters()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counters_lock = threading.Lock()
        self._paused_until = 0.0  # unix seconds: no request to Holded before (quota spent, credential refused)
        self._auth_pause = 0.0
        self._failures_pause = 0.0
        self.auto_streams = auto_streams
        self._outbound_next = 0.0  # monotonic: no delivery to the webhook before
        self._outbound_pause = 0.0

    # --- start and stop ------------------------------------------------------------------------

    def prepare(self, *, retry_failed: bool = False) -> None:
        """Before serving: the basics check, the tables, the outbound webhook's baseline, the spool drained;
        with `retry_failed`, the deliveries marked `failed` earlier put back to pending (else one line counts them).

        Raises:
            HoldedBasicsError: the credential, base URL or host is wrong (one line naming the field).
            DatabaseBusy: another process held the file for longer than `LOCK_WAIT` seconds.
        """
        check_basics(self.client)
        with self.gate.turn(LOCK_WAIT) as store:
            if store is None:
                raise DatabaseBusy(f"{self.gate.db}: another `holded` command holds the database; wait for it")
            for table in self.tables.values():
                store.ensure_table(table)
            if self.outbound is not None:
                webhook = self._webhook(store)
                if not webhook.subscribed():
                    row = store.con.execute(f'SELECT coalesce(max(seq), 0) FROM "{EVENTS_STREAM}"').fetchone()
                    webhook.subscribe(int(row[0]) if row else 0)
            self.spool.drain(store.con)
            inbox.prune(store.con)
            if retry_failed:
                again = inbox.retry_failed(store.con)
                self.log(f"webhooks: {again} failed deliveries put back to pending (--retry-failed)")
            elif failed := inbox.counts(store.con).get("failed", 0):
                self.log(f"webhooks: {failed} deliveries failed for good earlier (their errors in _holded_inbox); "
                         "`holded webhooks serve --retry-failed` reads them again")  # fmt: skip

    def start(self) -> None:
        """Start the processor thread (it looks at the inbox at once: deliveries left from a previous run)."""
        self._thread = threading.Thread(target=self._run, name="holded-webhooks-processor", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the processor after its current batch (what is stored stays stored)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.client.close()

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status, body = self._handle(environ)
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ: dict[str, Any]) -> tuple[str, bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            with self._counters_lock:
                return "200 OK", orjson.dumps(self.counters.as_json())
        if method != "POST":
            return self._refuse("405 Method Not Allowed", "POST Holded's webhook deliveries here")
        with self._counters_lock:
            self.counters.received += 1
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body:
            return self._refuse("413 Request Entity Too Large", f"bodies over {self.max_body} bytes are not taken")
        body = environ["wsgi.input"].read(self.max_body + 1) if length or "wsgi.input" in environ else b""
        if len(body) > self.max_body:
            return self._refuse("413 Request Entity Too Large", f"bodies over {self.max_body} bytes are not taken")
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        if not verify_signature(self.secret, body, headers.get(SIGNATURE_HEADER)):
            return self._refuse("401 Unauthorized", f"missing or wrong {SIGNATURE_HEADER}: nothing stored")
        try:
            delivery = parse_delivery(headers, body)
        except BadDelivery as exc:
            return self._refuse("400 Bad Request", str(exc))
        try:
            stored = self._store(delivery, body)
        except (OSError, HoldedError) as exc:
            self.log(f"webhooks: could not store delivery {delivery.webhook_id} ({redact(str(exc))}); answered 503")
            return self._refuse("503 Service Unavailable", "could not store the delivery; send it again")
        self._wake.set()
        return "200 OK", orjson.dumps({"stored": stored != "duplicate", "duplicate": stored == "duplicate"})

    def _refuse(self, status: str, message: str) -> tuple[str, bytes]:
        with self._counters_lock:
            self.counters.refused[status.split()[0]] += 1
        return status, orjson.dumps({"error": message})

    def _store(self, delivery: Delivery, body: bytes) -> str:
        """`stored`, `duplicate` (stored before) or `spooled` (the file was busy); durable when it returns."""
        with self.gate.turn(HANDLER_WAIT) as store:
            if store is not None:
                added = inbox.add(store.con, delivery, body)
                outcome = "stored" if added else "duplicate"
            else:
                self.spool.append(delivery, body)
                outcome = "spooled"
        with self._counters_lock:
            if outcome == "duplicate":
                self.counters.duplicates += 1
            else:
                self.counters.stored += outcome == "stored"
                self.counters.spooled += outcome == "spooled"
        return outcome

    # --- processing ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._wait_for())
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if self.process_once():
                    self._wake.set()
                self._auth_pause = 0.0
            except HoldedAuthError as exc:
                # Not retried on every new delivery: each wake would spend a refused request.
                self._auth_pause = min(max(self._auth_pause * 2, 30.0), inbox.MAX_PAUSE)
                self._paused_until = time.time() + self._auth_pause
                self.log(f"webhooks: Holded refused the credential ({redact(str(exc))}); deliveries stay stored, "
                         f"read again in {self._auth_pause:.0f}s")  # fmt: skip
            except Exception as exc:  # keep serving: what is stored stays stored and is tried again
                self.log(f"webhooks: processing failed ({type(exc).__name__}: {redact(str(exc))}); trying again")
                self._failures_pause = min(max(self._failures_pause * 2, 2.0), 60.0)
                self._paused_until = max(self._paused_until, time.time() + self._failures_pause)
            else:
                self._failures_pause = 0.0

    def _wait_for(self) -> float:
        """Seconds to sleep unless woken: the poll, or until the pause (quota, credential) ends."""
        return max(POLL, min(self._paused_until - time.time(), 3600.0))

    def paused(self) -> bool:
        """Whether reading Holded is paused (its monthly quota spent, or the credential refused)."""
        return time.time() < self._paused_until

    def process_once(self) -> bool:
        """One batch: the due deliveries read again, committed; then the new events delivered. True when more
        are waiting (a full batch, or objects another command committed meanwhile, to read again at once).

        Raises:
            HoldedAuthError: Holded refused the credential (the deliveries stay pending).
        """
        paused = self.paused()
        with self.gate.turn(LOCK_WAIT) as store:
            if store is None:
                return False  # another process holds the file: the next look will do
            self.spool.drain(store.con)
            self._refresh_streams(store)
            items = [] if paused else inbox.pending(store.con)
            received = self._received(store, items)
            # What the fetched records are checked against at commit: the states they touch, no other.
            routed = self._resources(items)
            wanted = self.inbound.states_read(routed.values())
            before = store.states(*wanted) if items else {}
        if not items:
            self._report_delivery(self._deliver())  # events still queued for the webhook
            return False
        started_requests = self.client.stats.requests
        groups: dict[tuple[str, str], list[Stored]] = {}
        ignored: list[Stored] = []
        for n, item in enumerate(items):
            resource = routed.get(n)
            if resource is None or item.record_id is None:
                ignored.append(item)
                continue
            groups.setdefault((resource.name, item.record_id), []).append(item)
        fetched: list[Fetched] = []
        failed: list[tuple[list[Stored], str]] = []
        waiting: list[Stored] = []  # not read: the quota ran out first
        for (resource, holded_id), group in groups.items():
            if waiting or self.paused():
                waiting.extend(group)
                continue
            try:
                fetched.append(self.inbound.fetch(self.settings.dialect.resource(resource), holded_id))
            except HoldedAuthError:
                raise
            except HoldedQuotaError as exc:
                self._quota_spent(exc)
                waiting.extend(group)
            except HoldedError as exc:
                failed.append((group, redact(str(exc))))
        contacts: dict[str, bool | None] = {}  # invoices' contacts read from Holded (outside the file's turn)
        for _ in range(3):
            with self.gate.turn(LOCK_WAIT) as store:
                if store is None:
                    return True  # read again next time: nothing was committed
                states = store.states(*wanted)
                stale = self.inbound.changed_since([(f.resource, f.holded_id) for f in fetched], before, states)
                current = [f for f in fetched if (f.resource, f.holded_id) not in stale]
                kinds, missing = self._kinds(store, contacts)
                applied = self.inbound.apply(current, states, kinds)
                if not missing:
                    done = [item for f in current for item in groups[(f.resource, f.holded_id)]]
                    stored_counts = self._commit(store, applied, done, ignored)
                    given_up = 0
                    for group, error in failed:
                        given_up += inbox.failed_attempt(store.con, group, error)
                    break
            for contact_id in missing:  # outside the turn: a slow Holded never holds the file
                contacts[contact_id] = self._contact_kind(contact_id)
        else:
            return True
        reread = [item for key in stale for item in groups[key]]  # left pending, no attempt counted
        delivery = self._deliver()
        latency = max((time.time() - received.get(i.webhook_id, time.time()) for i in done), default=None)
        self._report(items, done, ignored, failed, given_up, stored_counts, started_requests, latency, delivery,
                     reread=reread, waiting=waiting)  # fmt: skip
        return len(items) >= 500 or bool(reread)

    def _resources(self, items: Sequence[Stored]) -> dict[int, Resource]:
        """Each delivery's resource to read its object again from, by position (absent: nothing reads it)."""
        out: dict[int, Resource] = {}
        for n, item in enumerate(items):
            delivery = Delivery(item.account_id, item.webhook_id, item.event, item.record_id)
            resource = self.inbound.resource_of(delivery) if delivery.record_id else None
            if resource is not None:
                out[n] = resource
        return out

    def _commit(self, store: Store, applied: Applied, done: list[Stored], ignored: list[Stored]) -> Counter[str]:
        """Commit what the batch changed with its deliveries marked, in one transaction. Returns the changes
        as stored: an event already in the table (the same id) is not stored again, nor counted."""
        for name in applied.batches:
            store.ensure_table(self.tables[name])
        stored = Counter(applied.counts)

        def mark(con: Any) -> None:
            inbox.mark(con, done, "processed")
            inbox.mark(con, ignored, "ignored")
            ids = [event["id"] for event in applied.events]
            if ids:
                there = con.execute(
                    f'SELECT id FROM "{EVENTS_STREAM}" WHERE id IN (SELECT unnest(?::VARCHAR[]))', [ids]
                ).fetchall()
                known = {row[0] for row in there}
                for event in applied.events:
                    if event["id"] in known:
                        stored[f"{EVENTS_STREAM} {event['type']}"] -= 1

        store.commit(applied.batches, applied.states, also=mark)
        return +stored

    def _quota_spent(self, exc: HoldedQuotaError) -> None:
        """Holded's monthly quota is spent: no request until it resets (or a restart); deliveries stay stored."""
        until = exc.reset if exc.reset and exc.reset > time.time() else _next_month()
        self._paused_until = until
        shown = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until))
        self.log(f"webhooks: Holded's monthly request quota is spent: deliveries are stored and read again from "
                 f"{shown} (or after a restart)")  # fmt: skip

    def _refresh_streams(self, store: Store) -> None:
        """Without `--streams`: a native stream whose table appeared since the start (`holded sync --streams
        invoices`) is kept up to date from now on (one look at the table names per batch)."""
        if self.auto_streams is None:
            return
        names = set(store.table_names())
        wanted = [spec.name for spec in self.settings.streams() if spec.name in names and spec.name not in self.tables]
        if not wanted:
            return
        selection = self.auto_streams([*self.selection.names, *wanted])
        self.selection = selection
        self.inbound = Inbound(self.settings, self.client, selection.specs)
        self.tables = {spec.name: table_for(spec) for spec in selection.specs}
        self.log(f"webhooks: now also keeping {', '.join(wanted)} (its table appeared)")

    def _received(self, store: Store, items: list[Stored]) -> dict[str, float]:
        """When each pending delivery arrived (unix seconds), for the latency reported."""
        if not items:
            return {}
        rows = store.con.execute(
            f"SELECT webhook_id, epoch(received_at) FROM {inbox.INBOX} WHERE webhook_id IN (SELECT unnest(?))",
            [[i.webhook_id for i in items]],
        ).fetchall()
        return {webhook_id: float(at) for webhook_id, at in rows}

    def _kinds(self, store: Store, read: dict[str, bool | None]) -> tuple[Callable[[str], bool | None], set[str]]:
        """An invoice's contact: person or company, from the synced tables, else from `read` (contacts read
        from Holded outside the file's turn). The second value collects the contacts neither knows: the caller
        reads them from Holded after the turn and applies again."""
        tables = set(store.table_names())
        missing: set[str] = set()

        def kind(contact_id: str) -> bool | None:
            for table, person in (("genericContact", True), ("genericCompany", False)):
                if table in tables:
                    row = store.con.execute(f'SELECT 1 FROM "{table}" WHERE id = ? LIMIT 1', [contact_id]).fetchone()
                    if row:
                        return person
            if contact_id in read:
                return read[contact_id]
            missing.add(contact_id)
            return None

        return kind, missing

    def _contact_kind(self, contact_id: str) -> bool | None:
        """Read a contact from Holded: person (True), company (False), None when Holded has none (or fails)."""
        contacts = self.settings.dialect.resource("contacts").listing
        try:
            contact = self.client.get(contacts.item_path(contact_id) or "")
        except HoldedNotFoundError:
            return None
        except HoldedAuthError:
            raise
        except HoldedError as exc:
            self.log(f"webhooks: could not read contact {contact_id} ({redact(str(exc))}); its kind left unknown")
            return None
        return is_person(contacts.as_v1(contact, self.settings.options.timezone)) if contact else None

    def _webhook(self, store: Store | None) -> Webhook:
        assert self.outbound is not None
        out = self.outbound
        return Webhook(store, out.url, out.secret, attempts=1, timeout=5.0, include_own_writes=out.include_own_writes)

    def _deliver(self) -> Any:
        """Send the queued events to the webhook without holding the file: the queue is read in one turn, the
        events sent (one attempt each, in order, stopping at the first refusal), the outcomes recorded in
        another turn. While the webhook keeps failing the next try waits a pause that doubles (up to 5 min)."""
        if self.outbound is None or time.monotonic() < self._outbound_next:
            return None
        webhook = self._webhook(None)
        report = DeliveryReport()
        try:
            with self.gate.turn(LOCK_WAIT) as store:
                if store is None:
                    return None
                queue = webhook.pending(store.con, limit=OUTBOUND_BATCH)
            outcomes: list[tuple[str, str | None, str | None, bool]] = []
            for index, row in enumerate(queue):
                ok, error = webhook.send(row, report, lambda *outcome: outcomes.append(outcome))
                if not ok:
                    report.pending = len(queue) - index
                    report.last_error = error
                    break
                report.delivered += 1
            for _ in range(3):  # the outcomes must be kept: an event not recorded would be sent again
                with self.gate.turn(LOCK_WAIT) as store:
                    if store is not None:
                        for outcome in outcomes:
                            webhook.record(store.con, *outcome)
                        break
        finally:
            webhook.close()
        if report.pending:
            self._outbound_pause = min(max(self._outbound_pause * 2, 2.0), 300.0)
            self._outbound_next = time.monotonic() + self._outbound_pause
        else:
            self._outbound_pause = 0.0
            if len(queue) >= OUTBOUND_BATCH:
                self._wake.set()  # more queued: the next look sends them
        return report

    def _report_delivery(self, delivery: Any) -> None:
        if delivery is None or not (delivery.delivered or delivery.pending):
            return
        with self._counters_lock:
            self.counters.delivered += delivery.delivered
            self.counters.queued = delivery.pending
        line = f"webhooks: events delivered {delivery.delivered}, {delivery.pending} queued"
        self.log(line + (f" (last error: {delivery.last_error})" if delivery.pending else ""))

    def _report(
        self,
        items: list[Stored],
        done: list[Stored],
        ignored: list[Stored],
        failed: list[tuple[list[Stored], str]],
        given_up: int,
        changes: Counter[str],
        started_requests: int,
        latency: float | None,
        delivery: Any,
        *,
        reread: list[Stored] | None = None,
        waiting: list[Stored] | None = None,
    ) -> None:
        requests = self.client.stats.requests - started_requests
        with self._counters_lock:
            c = self.counters
            c.processed += len(done)
            for item in ignored:
                c.ignored[item.event.split(".", 1)[0]] += 1
            c.requests += requests
            c.changes.update(changes)
            if latency is not None:
                c.last_latency = round(latency, 3)
            if delivery is not None:
                c.delivered += delivery.delivered
                c.queued = delivery.pending
        what = ", ".join(f"{k} {v}" for k, v in sorted(changes.items())) or "no change"
        line = f"webhooks: {len(items)} deliveries: {len(done)} processed ({what}), {requests} requests"
        if latency is not None:
            line += f", {latency:.2f}s after arrival"
        if ignored:
            objects = Counter(item.event.split(".", 1)[0] for item in ignored)
            line += "; ignored (no selected stream reads them): " + ", ".join(f"{k} {v}" for k, v in objects.items())
        if failed:
            pause = inbox.pause_after(min(item.attempts for g, _ in failed for item in g) + 1)
            line += f"; {sum(len(g) for g, _ in failed)} left pending, read again in {pause:.0f}s: {failed[0][1]}"
            if given_up:
                line += f" ({given_up} failed for good after {inbox.MAX_ATTEMPTS} attempts)"
        if reread:
            line += f"; {len(reread)} read again (another command saved their objects meanwhile)"
        if waiting:
            line += f"; {len(waiting)} waiting for Holded's monthly quota"
        if delivery is not None and (delivery.delivered or delivery.pending):
            line += f"; events delivered {delivery.delivered}, {delivery.pending} queued"
        self.log(line)


def serve(receiver: Receiver, host: str, port: int, log: Callable[[str], None]) -> int:
    """Serve until Ctrl-C (exit 130) or SIGTERM (exit 0), saying `stopped` either way. Prints `listening on
    http://HOST:PORT/` once bound.

    Raises:
        OSError: the address cannot be bound (in use, not this machine's).
    """
    from waitress import create_server

    server = create_server(
        receiver,
        host=host,
        port=port,
        threads=THREADS,
        max_request_body_size=receiver.max_body,
        ident="holded-webhooks",
        clear_untrusted_proxy_headers=True,
    )
    stopped_by: list[int] = []

    def _stop(signum: int, _frame: Any) -> None:
        # waitress's loop swallows KeyboardInterrupt and returns: remember the signal, then leave the loop.
        stopped_by.append(signum)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    receiver.start()
    shown_host = f"[{host}]" if ":" in host else host
    log(f"holded webhooks serve: listening on http://{shown_host}:{server.effective_port}/ (Ctrl-C stops)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(Exception):
            server.close()
        receiver.stop()
    log("holded webhooks serve: stopped")
    return 130 if stopped_by and stopped_by[0] == signal.SIGINT else 0
