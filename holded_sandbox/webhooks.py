"""Holded's signed webhooks, sent by the sandbox: registrations, queues and the delivery worker.

A `WebhookHub` belongs to one `App`. Registering the first webhook attaches an `EventObserver` to the
store (webhook_events.py); removing the last detaches it, so with no webhook a store write costs one
attribute read and nothing is queued. Each event is queued once per subscribed webhook and POSTed
by one background worker thread (started and stopped with `SandboxServer`).

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
- URLs must be http(s) on 127.0.0.1, localhost or ::1: anything else is refused at registration;
- `stop()` ends the worker promptly (an attempt in flight is cut); what is still queued is dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import random
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .faults import Faults
from .store import Store, dumps, object_id
from .webhook_events import EVENTS, EventObserver, now_instant

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_VERSION = "1"
USER_AGENT = "Holded-Webhooks/1.0 (holded_sandbox)"


class WebhookError(ValueError):
    """A registration that cannot be accepted; the message says which field and why."""


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, body)>`, keyed by the whole secret string (prefix included)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the signature of the raw body and compare in constant time."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))


def check_url(url: Any) -> str:
    """The URL if it is http(s) on a loopback host; else `WebhookError` naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookError("url needed: an http://127.0.0.1:<port>/... URL")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"url {url!r} is not an http(s) URL")
    if parts.hostname.lower() not in LOOPBACK_HOSTS:
        raise WebhookError(
            f"url {url!r}: the sandbox delivers only to 127.0.0.1, localhost or ::1 (got host {parts.hostname!r})"
        )
    try:
        parts.port  # noqa: B018 - an out-of-range or non-numeric port raises here
    except ValueError as exc:
        raise WebhookError(f"url {url!r} has an invalid port") from exc
    return url.strip()


def check_events(events: Any) -> frozenset[str] | None:
    """None (every event) for an omitted list or one containing "*"; else the named events, all known."""
    if events is None:
        return None
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise WebhookError('events must be a list of event names such as ["invoice.create"] (or ["*"])')
    if not events:
        raise WebhookError('events is empty: name at least one event, or ["*"] for all of them')
    if "*" in events:
        return None
    unknown = sorted(set(events) - EVENTS)
    if unknown:
        raise WebhookError(f"unknown event(s) {', '.join(unknown)}: events are <object>.<action>, e.g. invoice.create")
    return frozenset(events)


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


class WebhookHub:
    """The account's webhooks: register / list / remove, queue events, deliver them in the background.

    Args:
        store: the data whose changes become events.
        faults: the live settings (`webhook_*` fields) and the seeded RNG of the switches.
        account_id: sent as `x-holded-webhook-account-id`.
    """

    def __init__(self, store: Store, faults: Faults, account_id: str) -> None:
        self.store = store
        self.faults = faults
        self.account_id = account_id
        self.observer = EventObserver(self.publish)
        self._hooks: dict[str, Webhook] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: http.client.HTTPConnection | None = None  # the attempt in flight (cut by stop)
        self._next_hook = 0  # round-robin start among webhooks

    # --- registrations -------------------------------------------------------------------------

    def register(self, url: Any, events: Any = None, version: Any = None, description: Any = None) -> Webhook:
        """Add a webhook; it receives the events that happen from now on.

        Args:
            url: http(s) URL on 127.0.0.1, localhost or ::1.
            events: event names (`invoice.create`...); None or ["*"]: all 58.
            version: echoed as `x-holded-webhook-version` (default "1").
            description: free text.

        Returns:
            The new `Webhook` (its `id` and `secret`, `whsec_...`).

        Raises:
            WebhookError: a non-loopback or malformed URL, an unknown event, a bad field type.
        """
        url = check_url(url)
        wanted = check_events(events)
        if version is not None and not isinstance(version, str | int):
            raise WebhookError("version must be a string")
        if description is not None and not isinstance(description, str):
            raise WebhookError("description must be a string")
        hook = Webhook(
            id=object_id(),
            url=url,
            secret="whsec_" + secrets.token_urlsafe(32),
            events=wanted,
            version=str(version) if version not in (None, "") else DEFAULT_VERSION,
            description=description or "",
        )
        with self.store.lock, self._cond:
            self._hooks[hook.id] = hook
            self._subscriptions_changed()
        return hook

    def remove(self, webhook_id: str) -> bool:
        """Delete a webhook and drop its queue. False when there is no such webhook."""
        with self.store.lock, self._cond:
            hook = self._hooks.pop(webhook_id, None)
            if hook is None:
                return False
            hook.queue.clear()
            self._subscriptions_changed()
            self._cond.notify_all()
        return True

    def get(self, webhook_id: str) -> Webhook | None:
        with self._cond:
            return self._hooks.get(webhook_id)

    def hooks(self) -> list[Webhook]:
        """The registrations, oldest first."""
        with self._cond:
            return list(self._hooks.values())

    def list(self) -> list[dict[str, Any]]:
        """Every registration with its counters, oldest first (the control route's view)."""
        with self._cond:
            return [hook.as_dict() for hook in self._hooks.values()]

    def _subscriptions_changed(self) -> None:
        """Under the store lock and the hub lock: (de)attach the observer and tell it what is wanted."""
        wanted: set[str] = set()
        for hook in self._hooks.values():
            wanted |= EVENTS if hook.events is None else hook.events
        self.observer.wanted = frozenset(wanted)
        if self._hooks and self.store.observer is not self.observer:
            self.observer.resync(self.store)
            self.store.observer = self.observer
        elif not self._hooks and self.store.observer is self.observer:
            self.store.observer = None

    # --- queueing ------------------------------------------------------------------------------

    def publish(self, event: str, payload: dict[str, Any]) -> None:
        """Queue `event` with `payload` for every webhook subscribed to it (called by the observer)."""
        body, event_id, date, now = dumps(payload), object_id(), now_instant(), time.monotonic()
        with self._cond:
            for hook in self._hooks.values():
                if hook.wants(event):
                    hook.queue.append(Delivery(event_id, event, date, body, queued_at=now, due=now))
                    hook.queued += 1
            self._cond.notify_all()

    def pending(self) -> int:
        """Deliveries queued or in flight, over every webhook."""
        with self._cond:
            return sum(len(h.queue) + h.in_flight for h in self._hooks.values())

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (True), or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(h.queue or h.in_flight for h in self._hooks.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # --- the worker ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="holded-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread, cutting an attempt in flight; queued deliveries are dropped."""
        thread, self._thread = self._thread, None
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
        if thread is not None:
            thread.join(timeout=float(self.faults.webhook_timeout_s) + 5)
        with self._cond:
            for hook in self._hooks.values():
                hook.queue.clear()
            self._cond.notify_all()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                picked, wait = self._next_batch(time.monotonic())
                if picked is None:
                    self._cond.wait(wait)
                    continue
                hook, batch = picked
                hook.in_flight += len(batch)
            done = 0
            for delivery in batch:
                if self._stop.is_set():
                    break
                self._attempt(hook, delivery)
                done += 1
                with self._cond:
                    hook.in_flight -= 1
                    self._cond.notify_all()
            with self._cond:  # stopped mid-batch: what was not attempted is not in flight any more
                hook.in_flight -= len(batch) - done
                self._cond.notify_all()

    def _next_batch(self, now: float) -> tuple[tuple[Webhook, list[Delivery]] | None, float]:
        """Under the hub lock: the next webhook's due deliveries (taken off its queue), else how long to wait."""
        hooks = list(self._hooks.values())
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
        with self._cond:
            hook.attempts += 1
            hook.last_status = status
            if status is not None and 200 <= status < 300:
                if delivery.duplicate:
                    hook.duplicates += 1
                else:
                    hook.delivered += 1
                    if self._hooks.get(hook.id) is hook and faults.webhook_duplicate():
                        copy = Delivery(
                            delivery.event_id, delivery.event, delivery.date, delivery.body, time.monotonic()
                        )
                        copy.due, copy.duplicate = copy.queued_at, True
                        hook.queue.append(copy)
                return
            hook.last_error = error or f"HTTP {status}"
            if delivery.attempts >= int(faults.webhook_max_attempts) or self._hooks.get(hook.id) is not hook:
                hook.failed += 1
                return
            delay_ms = float(faults.webhook_retry_base_ms) * 2 ** (delivery.attempts - 1)
            delivery.due = time.monotonic() + min(delay_ms, float(faults.webhook_retry_max_ms)) / 1000
            hook.queue.append(delivery)

    def _post(self, hook: Webhook, delivery: Delivery) -> tuple[int | None, str | None]:
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
        with self._cond:
            self._conn = conn
        try:
            conn.request("POST", path, body=delivery.body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            with self._cond:
                self._conn = None
            conn.close()


def account_id_for(seed: int) -> str:
    """A stable 24-hex account id for a sandbox started with `seed`."""
    return f"{random.Random(f'holded-sandbox-account-{seed}').getrandbits(96):024x}"


# --- API v2 entry points (the v2 dialect wires these under /api/v2/webhooks) ---------------------


def v2_create(hub: WebhookHub, body: Any) -> dict[str, str]:
    """`POST /api/v2/webhooks` with `{url, events[], version?, description?}` -> `{"id", "secret"}`.

    Needs the `developers:webhooks.write` permission (checked by the caller).

    Raises:
        WebhookError: answer it as 422 `unprocessable-entity` with the message as `detail`.
    """
    if not isinstance(body, dict):
        raise WebhookError("body must be a JSON object {url, events[], version?, description?}")
    if "events" not in body:
        raise WebhookError('events needed: a list of event names such as ["invoice.create"] (or ["*"])')
    hook = hub.register(body.get("url"), body["events"], body.get("version"), body.get("description"))
    return {"id": hook.id, "secret": hook.secret}


def v2_view(hook: Webhook) -> dict[str, Any]:
    """A registration as a v2 listing would show it (snake_case, no secret)."""
    return {
        "id": hook.id,
        "url": hook.url,
        "events": sorted(hook.events) if hook.events is not None else ["*"],
        "version": hook.version,
        "description": hook.description,
        "created_at": hook.created_at,
    }


def v2_list(hub: WebhookHub) -> list[dict[str, Any]]:
    """The registrations for a `GET /api/v2/webhooks` (not in endpoints.md: wire it only if wanted)."""
    return [v2_view(hook) for hook in hub.hooks()]
