"""Delivering queued webhook events: signing, the worker thread, retries and the duplicate/shuffle switches.

One `DeliveryWorker` thread serves every webhook of a hub; it shares the hub's `hooks` dict and
condition (`cond`), which guard every queue and counter. It never touches the store.

Invariants:
- a delivery is the event's payload as compact JSON, the same bytes on every attempt, with the
  headers `x-holded-webhook-event`, `-id` (one per event, repeated by a duplicate delivery),
  `-account-id`, `-date` (the event's instant), `-version` (the registration's) and `-signature:
  sha256=<hex HMAC-SHA256 of the raw body keyed by the whole secret, `whsec_` included>`;
- at least once: any 2xx acknowledges; anything else, or no answer, is retried after
  `webhook_retry_base_ms * 2**(n-1)` (capped at `webhook_retry_max_ms`) until
  `webhook_max_attempts`, then counted as failed and dropped: nothing waits forever;
- without the shuffle switch, events of one webhook go out in the order they happened (a retry
  waits its delay while later events go out); with `webhook_shuffle` = N >= 2, each batch of up to N
  queued events (gathered for up to `webhook_shuffle_wait_ms`) goes out in an order drawn from the
  fault seed, never the original one; `webhook_duplicate_rate` sends an acknowledged event again;
- nothing is sent to a host other than 127.0.0.1, localhost or ::1 (checked again on each attempt);
- `stop()` ends the thread promptly (an attempt in flight is cut); what is still queued is dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from .faults import Faults
from .webhook_events import now_instant

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_VERSION = "1"
USER_AGENT = "Holded-Webhooks/1.0 (holded_sandbox)"


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, body)>`, keyed by the whole secret string (prefix included)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the signature of the raw body and compare in constant time."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))


@dataclass
class Delivery:
    """One event on its way to one webhook."""

    event_id: str
    event: str
    date: str
    body: bytes
    queued_at: float  # monotonic
    due: float = 0.0  # monotonic: not before
    attempts: int = 0
    duplicate: bool = False


@dataclass
class Webhook:
    """A registration, its queue and its counters."""

    id: str
    url: str
    secret: str
    events: frozenset[str] | None  # None: every event
    version: str = DEFAULT_VERSION
    description: str = ""
    created_at: str = field(default_factory=now_instant)
    queue: list[Delivery] = field(default_factory=list)
    in_flight: int = 0
    queued: int = 0
    delivered: int = 0
    duplicates: int = 0
    attempts: int = 0
    failed: int = 0
    last_status: int | None = None
    last_error: str | None = None

    def wants(self, event: str) -> bool:
        """True when this webhook subscribes to `event`."""
        return self.events is None or event in self.events

    def as_dict(self) -> dict[str, Any]:
        """The registration and its delivery counters (the control route's view; it shows the secret)."""
        return {
            "id": self.id,
            "url": self.url,
            "events": sorted(self.events) if self.events is not None else ["*"],
            "version": self.version,
            "description": self.description,
            "secret": self.secret,
            "createdAt": self.created_at,
            "stats": {
                "queued": self.queued,
                "delivered": self.delivered,
                "duplicates": self.duplicates,
                "pending": len(self.queue) + self.in_flight,
                "attempts": self.attempts,
                "failed": self.failed,
                "lastStatus": self.last_status,
                "lastError": self.last_error,
            },
        }


class DeliveryWorker:
    """The background thread that POSTs queued deliveries.

    Args:
        hooks: the hub's registrations by id (read under `cond`; the hub adds and removes them).
        cond: the hub's condition: guards `hooks`, every queue and counter; notified on each change.
        faults: the live `webhook_*` settings and the seeded RNG of the switches.
        account_id: sent as `x-holded-webhook-account-id`.
    """

    def __init__(self, hooks: dict[str, Webhook], cond: threading.Condition, faults: Faults, account_id: str) -> None:
        self.hooks = hooks
        self.cond = cond
        self.faults = faults
        self.account_id = account_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: http.client.HTTPConnection | None = None  # the attempt in flight (cut by stop)
        self._next_hook = 0  # round-robin start among webhooks

    def start(self) -> None:
        """Start the delivery thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="holded-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread, cutting an attempt in flight; queued deliveries are dropped."""
        thread = self._thread
        self._stop.set()
        with self.cond:
            self.cond.notify_all()
            conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
        if thread is not None:
            thread.join(timeout=float(self.faults.webhook_timeout_s) + 5)
        with self.cond:
            for hook in self.hooks.values():
                hook.queue.clear()
            self.cond.notify_all()

    @property
    def running(self) -> bool:
        """True while the delivery thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.cond:
                picked, wait = self._next_batch(time.monotonic())
                if picked is None:
                    self.cond.wait(wait)
                    continue
                hook, batch = picked
                hook.in_flight += len(batch)
            done = 0
            for delivery in batch:
                if self._stop.is_set():
                    break
                self._attempt(hook, delivery)
                done += 1
                with self.cond:
                    hook.in_flight -= 1
                    self.cond.notify_all()
            with self.cond:  # stopped mid-batch: what was not attempted is not in flight any more
                hook.in_flight -= len(batch) - done
                self.cond.notify_all()

    def _next_batch(self, now: float) -> tuple[tuple[Webhook, list[Delivery]] | None, float]:
        """Under the hub lock: the next webhook's due deliveries (taken off its queue), else how long to wait."""
        hooks = list(self.hooks.values())
        window = int(self.faults.webhook_shuffle)
        linger = float(self.faults.webhook_shuffle_wait_ms) / 1000
        wait = 1.0
        for offset in range(len(hooks)):
            hook = hooks[(self._next_hook + offset) % len(hooks)]
            due = [d for d in hook.queue if d.due <= now]
            if not due:
                wait = min([wait, *(d.due - now for d in hook.queue)])
                continue
            if window >= 2:
                batch = due[:window]
                ready_at = batch[0].queued_at + linger
                if len(batch) < window and now < ready_at:
                    wait = min(wait, ready_at - now)
                    continue
                batch = [batch[i] for i in self.faults.webhook_order(len(batch))]
            else:
                batch = due[:1]
            taken = {id(d) for d in batch}
            hook.queue = [d for d in hook.queue if id(d) not in taken]
            self._next_hook = (self._next_hook + offset + 1) % len(hooks)
            return (hook, batch), 0.0
        return None, max(wait, 0.001)

    def _attempt(self, hook: Webhook, delivery: Delivery) -> None:
        """One POST; on 2xx count it (and maybe queue a duplicate), else schedule a retry or give up."""
        delivery.attempts += 1
        status, error = self._post(hook, delivery)
        faults = self.faults
        with self.cond:
            hook.attempts += 1
            hook.last_status = status
            if status is not None and 200 <= status < 300:
                if delivery.duplicate:
                    hook.duplicates += 1
                else:
                    hook.delivered += 1
                    if self.hooks.get(hook.id) is hook and faults.webhook_duplicate():
                        now = time.monotonic()
                        hook.queue.append(replace(delivery, queued_at=now, due=now, attempts=0, duplicate=True))
                return
            hook.last_error = error or f"HTTP {status}"
            if delivery.attempts >= int(faults.webhook_max_attempts) or self.hooks.get(hook.id) is not hook:
                hook.failed += 1
                return
            delay_ms = float(faults.webhook_retry_base_ms) * 2 ** (delivery.attempts - 1)
            delivery.due = time.monotonic() + min(delay_ms, float(faults.webhook_retry_max_ms)) / 1000
            hook.queue.append(delivery)

    def _post(self, hook: Webhook, delivery: Delivery) -> tuple[int | None, str | None]:
        """POST one delivery: (HTTP status, None), or (None, what went wrong) when there was no answer."""
        parts = urlsplit(hook.url)
        if (parts.hostname or "").lower() not in LOOPBACK_HOSTS:  # checked at registration; never sent elsewhere
            return None, "refused: not a loopback URL"
        factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = factory(parts.hostname or "", parts.port, timeout=float(self.faults.webhook_timeout_s))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "x-holded-webhook-event": delivery.event,
            "x-holded-webhook-id": delivery.event_id,
            "x-holded-webhook-account-id": self.account_id,
            "x-holded-webhook-date": delivery.date,
            "x-holded-webhook-version": hook.version,
            "x-holded-webhook-signature": sign(hook.secret, delivery.body),
        }
        try:
            conn.connect()
            with self.cond:  # from here stop() can cut the attempt; it set the flag before looking
                if self._stop.is_set():
                    return None, "stopped"
                self._conn = conn
            conn.request("POST", path, body=delivery.body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            with self.cond:
                self._conn = None
            conn.close()
