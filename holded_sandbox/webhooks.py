"""Holded's signed webhooks, sent by the sandbox: registrations, event queues, and the v2 entry point.

A `WebhookHub` belongs to one `App`. Registering the first webhook attaches its `EventObserver` to
the store (webhook_events.py); removing the last detaches it, so with no webhook a store write
costs one attribute read and nothing is queued. Each event is queued once per subscribed webhook
(one `x-holded-webhook-id` per event) and POSTed by the hub's `DeliveryWorker` thread
(webhook_delivery.py: signing, retries, switches), which `SandboxServer` starts and stops.

Invariants:
- URLs must be http(s) on 127.0.0.1, localhost or ::1; anything else is refused at registration
  (`WebhookError`: 400 on the control route, 422 on the v2 route);
- event names are checked against Holded's 58; `events` omitted or containing "*" means all of them;
- a webhook receives only the events that happen after it is registered; removing it drops its queue;
- lock order is store lock, then hub condition (the observer runs under the store lock and queues
  under the condition); the delivery thread takes only the condition.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .faults import Faults
from .store import Store, dumps, object_id
from .webhook_delivery import DEFAULT_VERSION, LOOPBACK_HOSTS, Delivery, DeliveryWorker, Webhook, sign, verify
from .webhook_events import EVENTS, EventObserver, now_instant

__all__ = [
    "Webhook",
    "WebhookError",
    "WebhookHub",
    "account_id_for",
    "check_events",
    "check_url",
    "sign",
    "v2_create",
    "verify",
]


class WebhookError(ValueError):
    """A registration that cannot be accepted; the message says which field and why."""


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
        self.worker = DeliveryWorker(self._hooks, self._cond, faults, account_id)

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
        """The registration with this id, or None."""
        with self._cond:
            return self._hooks.get(webhook_id)

    def describe(self, webhook_id: str) -> dict[str, Any] | None:
        """One registration with its counters (the control route's view), or None."""
        with self._cond:
            hook = self._hooks.get(webhook_id)
            return hook.as_dict() if hook is not None else None

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

    # --- the delivery thread -----------------------------------------------------------------

    def start(self) -> None:
        """Start delivering (idempotent)."""
        self.worker.start()

    def stop(self) -> None:
        """Stop delivering, cutting an attempt in flight; queued deliveries are dropped (idempotent)."""
        self.worker.stop()

    @property
    def running(self) -> bool:
        """True while the delivery thread is alive."""
        return self.worker.running


def account_id_for(seed: int) -> str:
    """A stable 24-hex account id for a sandbox started with `seed`."""
    return f"{random.Random(f'holded-sandbox-account-{seed}').getrandbits(96):024x}"


# --- API v2 entry point (v2/hooks.py serves it as POST /api/v2/webhooks) ---------------------


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
