"""Holded's own webhooks, received: each delivery checked, the object read again by id, and what it
changed turned into the same records, change events and state a listing would give.

Holded signs every delivery (`x-holded-webhook-signature: sha256=<hex HMAC-SHA256(whole whsec_ secret, raw
body)>`), delivers it at least once, possibly twice and out of order, and sends only a summary of the object
(shared/holded-api/v2/README.md, "Webhooks"). So a delivery is only a hint: which object (`x-holded-webhook-
event`, e.g. `invoice.update`, and the payload's `id`) to read again. The object is read by id through the
credential's dialect (`holded_core.dialects.webhooks` names the resource of each of Holded's 18 objects), so
whatever order deliveries arrive in, the result is Holded's current state; a 404 confirms a deletion, as
`holded_core.deletions` does for a listing.

`Inbound.apply` compares what was read with the streams' saved states exactly as the sync engine does
(`holded_core.sync`: the stream's fingerprint; the change events' fingerprint plus field hashes), so:
- a change already seen (by a sync, by an earlier or duplicated delivery) gives nothing;
- a new change gives the record (or its tombstone) and a change event with the id a listing would give
  (`changes.event_id`), so a consumer de-duplicating on it never sees one change twice;
- the states come back edited (`changes.edited_state`), so the next sync finds these records unchanged.
Nothing here stores anything: the caller commits records, events and states together (`holded_cli.receiver`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from holded_core.changes import (
    FP_BYTES,
    Change,
    build_event,
    edited_state,
    events_width,
    field_hashes,
    fingerprint,
    known_values,
    next_value,
)
from holded_core.client import HoldedClient
from holded_core.dialects import Resource
from holded_core.dialects.webhooks import WEBHOOK_OBJECTS
from holded_core.errors import HoldedError, HoldedNotFoundError
from holded_core.settings import Settings
from holded_core.streams import DELETED_AT, EVENTS_STREAM, StreamSpec
from holded_core.sync import now_iso

SIGNATURE_HEADER = "x-holded-webhook-signature"
EVENT_HEADER = "x-holded-webhook-event"
ID_HEADER = "x-holded-webhook-id"
ACCOUNT_HEADER = "x-holded-webhook-account-id"
DATE_HEADER = "x-holded-webhook-date"
VERSION_HEADER = "x-holded-webhook-version"
MAX_BODY = 256 * 1024  # Holded's payloads are summaries of a few hundred bytes


class BadDelivery(ValueError):
    """A delivery that cannot be taken; `status` is the HTTP answer (400), the message says what is wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is Holded's signature of `body`: `sha256=` + hex HMAC-SHA256 keyed by the whole
    secret, `whsec_` prefix included (Holded's API notes, "Webhooks"), compared in constant time and without
    regard to the hex digits' case."""
    if not header or not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode("utf-8", "replace"))


@dataclass(frozen=True)
class Delivery:
    """One delivery as Holded sent it (signature already checked)."""

    account_id: str
    webhook_id: str
    event: str  # `invoice.update`
    record_id: str | None  # the payload's `id`
    date: str | None = None
    version: str | None = None

    @property
    def object(self) -> str:
        return self.event.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.event.split(".", 1)[1] if "." in self.event else ""


def parse_delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """The delivery in `headers` (names in lower case) and `body`, once its signature is checked.

    Raises:
        BadDelivery: a header Holded always sends is missing, or the body is not a JSON object.
    """
    for name in (EVENT_HEADER, ID_HEADER, ACCOUNT_HEADER):
        if not headers.get(name):
            raise BadDelivery(f"no {name} header: not a Holded webhook delivery")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadDelivery("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadDelivery("the body is not a JSON object")
    record_id = payload.get("id")
    return Delivery(
        account_id=headers[ACCOUNT_HEADER],
        webhook_id=headers[ID_HEADER],
        event=headers[EVENT_HEADER],
        record_id=str(record_id) if record_id not in (None, "") else None,
        date=headers.get(DATE_HEADER),
        version=headers.get(VERSION_HEADER),
    )


@dataclass(frozen=True)
class Fetched:
    """A Holded object read again by id: its record as Holded returned it, or None when Holded answered 404."""

    resource: str
    holded_id: str
    record: Mapping[str, Any] | None


@dataclass
class Applied:
    """What a batch of re-read objects changed, ready to commit in one transaction."""

    batches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # stream -> records (events too)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # stream -> its edited state
    counts: Counter[str] = field(default_factory=Counter)  # "<stream> <created|updated|deleted>"

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.batches.get(EVENTS_STREAM, [])


IsPerson = Callable[[str], bool | None]


class Inbound:
    """Turns Holded's webhook deliveries into the selected streams' records, change events and states.

    Args:
        settings: the connector settings (the dialect, sync options: time zone, currency, start date).
        client: the Holded client objects are read again with (one request each).
        specs: the selected streams (the change-events stream among them when events are kept).
    """

    def __init__(self, settings: Settings, client: HoldedClient, specs: Sequence[StreamSpec]) -> None:
        self.settings = settings
        self.client = client
        self.options = settings.options
        self.dialect = settings.dialect
        self.events = any(spec.name == EVENTS_STREAM for spec in specs)
        self.streams = [spec for spec in specs if spec.listing is not None]
        self.models = settings.unified() if self.events else []

    # --- routing -------------------------------------------------------------------------------

    def resource_of(self, delivery: Delivery) -> Resource | None:
        """The resource to read the delivery's object again from, or None when nothing selected reads it
        (an object the connector does not read, a resource this dialect lacks, or no selected stream)."""
        row = WEBHOOK_OBJECTS.get(delivery.object)
        if row is None or row.resource is None or row.resource not in self.dialect.resources:
            return None
        resource = self.dialect.resource(row.resource)
        if resource.item is None or not (self._fed(resource, self.streams) or self._fed(resource, self.models)):
            return None
        return resource

    def states_read(self, resources: Iterable[Resource]) -> tuple[list[str], list[str]]:
        """The saved states that deliveries of `resources` are checked against and edit, so a caller reads
        only those (the others are neither read nor written).

        Returns:
            (stream names, `changeEvents` among them when a model is; the unified models' names).
        """
        streams: set[str] = set()
        models: set[str] = set()
        for resource in resources:
            streams.update(spec.name for spec in self._fed(resource, self.streams))
            models.update(spec.name for spec in self._fed(resource, self.models))
        if models:
            streams.add(EVENTS_STREAM)
        return sorted(streams), sorted(models)

    @staticmethod
    def _fed(resource: Resource, specs: Sequence[StreamSpec]) -> list[StreamSpec]:
        return [spec for spec in specs if spec.listing == resource.listing]

    # --- reading -------------------------------------------------------------------------------

    def fetch(self, resource: Resource, holded_id: str) -> Fetched:
        """Read one object again by id (one request).

        Returns:
            The record, or a `Fetched` with `record` None when Holded answered 404 (deleted).

        Raises:
            HoldedAuthError: the credential was refused.
            HoldedError: any other failure (the delivery stays queued and is tried again).
        """
        path = resource.listing.item_path(holded_id)
        assert path is not None  # `resource_of` routes only resources read by id
        try:
            record = self.client.get(path)
        except HoldedNotFoundError:
            return Fetched(resource.name, holded_id, None)
        if not isinstance(record, Mapping) or str(record.get("id")) != holded_id:
            # Only a 404 confirms a deletion (as `holded_core.deletions` holds): an empty 200 is not one.
            what = "an empty answer" if record in (None, [], {}) else "something that is not the record asked for"
            raise HoldedError(f"GET {path}: Holded answered {what} (not a 404): not taken as a deletion")
        return Fetched(resource.name, holded_id, record)

    # --- a race with another command ---------------------------------------------------------

    def changed_since(
        self, objects: Sequence[tuple[str, str]], before: Mapping[str, Any], now: Mapping[str, Any]
    ) -> set[tuple[str, str]]:
        """The objects (resource, Holded id) whose saved values changed between two reads of the states: another
        command (a `holded sync`) committed them after `before` was read, so a record read meanwhile may be
        older than what is saved now and must be read again rather than written back.

        Raises:
            UnreadableState: a saved state cannot be decoded.
        """
        wanted: dict[str, set[str]] = {}
        for resource, holded_id in objects:
            wanted.setdefault(resource, set()).add(holded_id)
        models_before = dict((before.get(EVENTS_STREAM) or {}).get("models") or {})
        models_now = dict((now.get(EVENTS_STREAM) or {}).get("models") or {})
        stale: set[tuple[str, str]] = set()
        for name, ids in wanted.items():
            resource = self.dialect.resource(name)
            streams = self._fed(resource, self.streams)
            pairs = [(spec, before.get(spec.name), now.get(spec.name), FP_BYTES) for spec in streams]
            pairs += [
                (spec, models_before.get(spec.name), models_now.get(spec.name), events_width(spec.fields))
                for spec in self._fed(resource, self.models)
            ]
            for spec, old_state, new_state, width in pairs:
                if old_state == new_state:  # the common case: nothing committed it meanwhile (no decoding)
                    continue
                old = known_values(old_state, width, stream=spec.name)
                new = known_values(new_state, width, stream=spec.name)
                for key in old.keys() | new.keys():
                    holded_id = spec.holded_id(key)
                    if holded_id in ids and old.get(key) != new.get(key):
                        stale.add((name, holded_id))
        return stale

    # --- applying ------------------------------------------------------------------------------

    def apply(self, fetched: Sequence[Fetched], states: Mapping[str, Any], is_person: IsPerson) -> Applied:
        """Compare the re-read objects with the saved states; what changed, and the states edited.

        Args:
            fetched: the objects read again, in delivery order (the same object once).
            states: the saved states by stream (the change events' under `changeEvents`).
            is_person: for an invoice's contact, person (True), company (False) or unknown (None).

        Returns:
            The records (tombstones for what Holded confirmed gone), the change events, the edited states.

        Raises:
            UnreadableState: a saved state cannot be decoded.
        """
        applied = Applied()
        stamp = now_iso()
        stream_values: dict[str, dict[str, bytes]] = {}
        stream_updates: dict[str, dict[str, bytes | None]] = {}
        event_values: dict[str, dict[str, bytes]] = {}
        event_updates: dict[str, dict[str, bytes | None]] = {}
        events_state = dict(states.get(EVENTS_STREAM) or {})
        models_state = dict(events_state.get("models") or {})
        for item in fetched:
            resource = self.dialect.resource(item.resource)
            record = item.record
            if record is not None and not self._in_scope(resource, record):
                record = None  # dated before start_date now: it left the listing, as a deletion
            for spec in self._fed(resource, self.streams):
                known = stream_values.setdefault(spec.name, known_values(states.get(spec.name), stream=spec.name))
                updates = stream_updates.setdefault(spec.name, {})
                present = self._extract(spec, resource, record, is_person)
                for key, (full, clean) in present.items():
                    value = fingerprint(clean)
                    if known.get(key) != value:
                        kind = "created" if key not in known else "updated"
                        known[key] = updates[key] = value
                        applied.batches.setdefault(spec.name, []).append(full)
                        applied.counts[f"{spec.name} {kind}"] += 1
                for key in self._gone(spec, known, item.holded_id, present):
                    del known[key]
                    updates[key] = None
                    applied.batches.setdefault(spec.name, []).append(self._tombstone(spec, key, stamp))
                    applied.counts[f"{spec.name} deleted"] += 1
            for spec in self._fed(resource, self.models):
                width = events_width(spec.fields)
                where = f"{EVENTS_STREAM} ({spec.name})"
                known = event_values.setdefault(
                    spec.name, known_values(models_state.get(spec.name), width, stream=where)
                )
                updates = event_updates.setdefault(spec.name, {})
                present = self._extract(spec, resource, record, is_person)
                for key, (_full, clean) in present.items():
                    old = known.get(key)
                    stored, kind = next_value(
                        old, fingerprint(clean) + field_hashes(clean, spec.fields), versioned=True
                    )
                    if stored != old:  # a change, or the same record stored anew (its field hashes known now)
                        known[key] = updates[key] = stored
                    if kind is not None:
                        self._event(applied, spec, Change(key, kind, old, stored), clean, stamp)
                for key in self._gone(spec, known, item.holded_id, present):
                    old = known.pop(key)
                    updates[key] = None
                    self._event(applied, spec, Change(key, "deleted", old, None), None, stamp)
        for spec in self.streams:
            if stream_updates.get(spec.name):
                applied.states[spec.name] = edited_state(
                    states.get(spec.name), stream_updates[spec.name], stream=spec.name, scope=self._scope(spec)
                )
        if any(event_updates.values()):
            for spec in self.models:
                if event_updates.get(spec.name):
                    models_state[spec.name] = edited_state(
                        models_state.get(spec.name),
                        event_updates[spec.name],
                        events_width(spec.fields),
                        stream=f"{EVENTS_STREAM} ({spec.name})",
                        scope=self._scope(spec),
                    )
            applied.states[EVENTS_STREAM] = {"v": 1, **events_state, "models": models_state}
        return applied

    def _event(self, applied: Applied, spec: StreamSpec, change: Change, record: Any, stamp: str) -> None:
        applied.batches.setdefault(EVENTS_STREAM, []).append(build_event(spec.name, change, record, spec.fields, stamp))
        applied.counts[f"{EVENTS_STREAM} {change.kind}"] += 1

    def _extract(
        self, spec: StreamSpec, resource: Resource, record: Mapping[str, Any] | None, is_person: IsPerson
    ) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """key -> (the stream's record, the same without `raw`), built as the sync engine builds it from a
        listed record (unified streams read Holded's v1 shape; native streams the record as returned)."""
        if record is None:
            return {}
        listed = resource.listing.as_v1(record, self.options.timezone) if spec.kind == "unified" else record
        out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for built in spec.extract(
            listed,
            default_currency=self.options.default_currency,
            is_person=is_person if spec.name == "accountingInvoice" else None,
            include_raw=self.options.include_raw,
            problems=[],
            timezone=self.options.timezone,
        ):
            key = spec.key_of(built)
            if key is not None:
                clean = {k: v for k, v in built.items() if k != "raw"} if "raw" in built else built
                out[key] = (built, clean)
        return out

    @staticmethod
    def _gone(spec: StreamSpec, known: Mapping[str, bytes], holded_id: str, present: Mapping[str, Any]) -> list[str]:
        """Keys of the object the state knows that it no longer yields (deleted, or a child it lost)."""
        return [key for key in known if spec.holded_id(key) == holded_id and key not in present]

    def _tombstone(self, spec: StreamSpec, key: str, stamp: str) -> dict[str, Any]:
        if spec.kind == "unified":
            return {"id": key, "createdAt": None, "updatedAt": stamp, "customFields": {}, DELETED_AT: stamp}
        parts = key.split(":", len(spec.primary_key) - 1)
        return {**dict(zip(spec.primary_key, parts, strict=False)), DELETED_AT: stamp}

    def _scope(self, spec: StreamSpec) -> int | None:
        return self.options.start_date if spec.listing is not None and spec.listing.dated else None

    def _in_scope(self, resource: Resource, record: Mapping[str, Any]) -> bool:
        start = self.options.start_date
        if not resource.dated or start is None:
            return True
        try:
            return int(resource.listing.as_v1(record, self.options.timezone).get("date") or 0) >= start
        except (TypeError, ValueError):
            return True
