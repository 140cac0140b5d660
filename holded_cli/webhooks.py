"""Delivering change events to a webhook: signed, keyed for de-duplication, retried, never lost.

Each event is one HTTP POST of its JSON (the same bytes on every attempt) with:
  X-Holded-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>
  X-Holded-Event:     the event name, e.g. genericContact::updated
  Idempotency-Key:    the event's stable id (the same change always has the same id)
  X-Holded-Delivery-Attempt: 1, 2, ...
A 2xx answer is acceptance; anything else (or no answer) is retried with backoff, and an event that
still fails stays queued in the database for the next run. Events go out in the order they were
detected; delivery to a URL stops at the first event it does not accept, so order is kept.
Delivery is at-least-once: a receiver that answered but whose answer was lost sees the event again,
with the same idempotency key. Events of changes this connector wrote itself (`origin: "connector"`,
`holded_core.own_writes`: a `holded push` coming back) are not delivered unless `include_own_writes`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import duckdb
import orjson
import requests

from holded_cli.store import DELIVERIES, WEBHOOKS, Store
from holded_core.errors import HoldedConfigError
from holded_core.own_writes import CONNECTOR
from holded_core.streams import EVENTS_STREAM

SIGNATURE_HEADER = "X-Holded-Signature"
EVENT_HEADER = "X-Holded-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "X-Holded-Delivery-Attempt"
USER_AGENT = "holded-connector-webhooks/0.1"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the signature of the raw body and compare in constant time (the hex
    digits in either case)."""
    return bool(header) and hmac.compare_digest(sign(secret, body).encode(), str(header).strip().lower().encode())


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HoldedConfigError(f"--webhook {url!r} is not an http(s) URL; give e.g. https://example.com/hooks/holded")
    return url


OnAttempt = Callable[[str, str | None, str | None, bool], None]  # (event id, status, error, delivered)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed_attempts: int = 0
    pending: int = 0  # still queued after this run
    last_error: str | None = None


def body_of(row: dict[str, Any]) -> bytes:
    event = {
        "id": row["id"],
        "event": row["event"],
        "model": row["model"],
        "recordId": row["recordId"],
        "type": row["type"],
        "detectedAt": row["detectedAt"],
        "changedFields": orjson.loads(row["changedFields"]) if row["changedFields"] else None,
        "record": orjson.loads(row["record"]) if row["record"] else None,
        "origin": row.get("origin") or "holded",
    }
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


class Webhook:
    def __init__(
        self,
        store: Store | None,
        url: str,
        secret: str,
        *,
        attempts: int = 4,
        backoff: float = 1.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        include_own_writes: bool = False,
    ) -> None:
        """A webhook of the store's events.

        Args:
            store: the database holding `changeEvents` and the delivery queue (None: the caller passes a
                connection to `pending` and `record`, and `send` only sends).
            url: where events are POSTed; secret: signs them (HMAC-SHA256).
            attempts: tries per event per run; backoff: the first retry's delay, doubled each time.
            timeout: seconds per attempt; sleep: waits between attempts (tests pass their own).
            include_own_writes: deliver the connector's own writes coming back too (`origin: connector`).

        Raises:
            HoldedConfigError: no secret, or `url` is not an http(s) URL.
        """
        if not secret:
            raise HoldedConfigError("no webhook secret: set HOLDED_EVENTS_SECRET (or --secret) to sign deliveries")
        self.store = store
        self.url = check_url(url)
        self.secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.sleep = sleep
        self.include_own_writes = include_own_writes
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def subscribe(self, baseline_seq: int) -> None:
        """Register the URL once; it receives events detected after `baseline_seq`."""
        self._con().execute(
            f"INSERT INTO {WEBHOOKS} VALUES (?, ?, now()) ON CONFLICT DO NOTHING", [self.url, baseline_seq]
        )

    def subscribed(self) -> bool:
        row = self._con().execute(f"SELECT count(*) FROM {WEBHOOKS} WHERE url = ?", [self.url]).fetchone()
        return bool(row and row[0])

    def pending(self, con: duckdb.DuckDBPyConnection | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The events not yet accepted, in order, each with `attempts` made before (by any run)."""
        con = con if con is not None else self._con()
        cursor = con.execute(
            f"""SELECT e.id, e.event, e.model, e.recordId, e.type, strftime(e.detectedAt AT TIME ZONE 'UTC',
                       '%Y-%m-%dT%H:%M:%SZ') AS detectedAt, e.changedFields, e.record, e.origin,
                       coalesce(d.attempts, 0) AS attempts
                FROM "{EVENTS_STREAM}" e JOIN {WEBHOOKS} w ON w.url = ?
                LEFT JOIN {DELIVERIES} d ON d.url = w.url AND d.event_id = e.id
                WHERE e.seq > w.baseline_seq AND (? OR coalesce(e.origin, '') <> '{CONNECTOR}')
                  AND d.delivered_at IS NULL
                ORDER BY e.seq LIMIT ?""",
            [self.url, self.include_own_writes, limit if limit is not None else 2**62],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def deliver_pending(self) -> DeliveryReport:
        """Send the queued events in order, recording each attempt in the store (held throughout)."""
        report = DeliveryReport()
        queue = self.pending()
        for index, row in enumerate(queue):
            ok, error = self.send(row, report, lambda *result: self.record(self._con(), *result))
            if not ok:
                report.pending = len(queue) - index
                report.last_error = error
                break
            report.delivered += 1
        return report

    def send(self, row: dict[str, Any], report: DeliveryReport, on_attempt: OnAttempt) -> tuple[bool, str | None]:
        """POST one event (up to `attempts` times); `on_attempt(event_id, status, error, delivered)` after each.
        Touches no database: the receiver sends without holding the file."""
        body = body_of(row)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            EVENT_HEADER: row["event"],
            IDEMPOTENCY_HEADER: row["id"],
        }
        before = int(row.get("attempts") or 0)  # made by earlier runs: the header counts on from there
        error: str | None = None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff * 2 ** (attempt - 2))
            headers[ATTEMPT_HEADER] = str(before + attempt)
            status = None
            try:
                resp = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
                status = str(resp.status_code)
                if 200 <= resp.status_code < 300:
                    on_attempt(row["id"], status, None, True)
                    return True, None
                error = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            report.failed_attempts += 1
            on_attempt(row["id"], status, error, False)
        return False, error

    def record(
        self, con: duckdb.DuckDBPyConnection, event_id: str, status: str | None, error: str | None, delivered: bool
    ) -> None:
        """Keep one attempt's outcome (the queue: an event stays pending until delivered)."""
        con.execute(
            f"""INSERT INTO {DELIVERIES} VALUES (?, ?, 1, ?, ?, now(), CASE WHEN ? THEN now() END)
                ON CONFLICT (url, event_id) DO UPDATE SET attempts = attempts + 1, last_status = excluded.last_status,
                  last_error = excluded.last_error, last_attempt_at = now(),
                  delivered_at = coalesce(excluded.delivered_at, {DELIVERIES}.delivered_at)""",
            [self.url, event_id, status, error, delivered],
        )

    def _con(self) -> duckdb.DuckDBPyConnection:
        assert self.store is not None, "a Webhook without a store only sends (`send`)"
        return self.store.con

    def close(self) -> None:
        self.session.close()
