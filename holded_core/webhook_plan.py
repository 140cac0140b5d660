"""Which streams Holded's webhooks keep current, which events to register for them, and when a stream
kept by webhooks is listed again (reconciled).

Holded sends signed webhooks for 18 objects (58 events `<object>.<action>`) and none for leads, funnels,
CRM events, projects, tasks, employees or the ledger (shared/holded-api/v2/README.md, "Webhooks"). The
object -> resource map is one table, `holded_core.dialects.webhooks.WEBHOOK_OBJECTS`, shared with the
receiver (`holded webhooks serve` reads each delivered object again from that resource). From it:

- a stream is **kept by webhooks** when the receiver keeps it current: a unified stream whose mapping reads
  one of those resources (`contacts` -> genericContact, genericCompany; `invoices` -> accountingInvoice,
  accountingInvoiceItem) or the Holded-native stream named after one (`invoices`, `products`...). Custom
  streams, and every stream of an object Holded sends no events for, are not;
- the **default events** for a selection are every event of the objects feeding its streams;
- with webhooks on (`WebhookSync`, the config's `webhooks: {enabled, reconcile_every}`), `holded sync`
  lists the streams not kept by webhooks on every run and a stream kept by webhooks only when its last
  complete listing is older than `reconcile_every` (a reconciliation: it catches any delivery missed or
  refused), less a tenth of it so a schedule that starts a little early does not wait a whole period more.
  A stream never listed into the database is due. The change events of a model follow its listing: a
  model not listed this run gets no events from the run (neither changes nor deletions) and keeps its
  state untouched (`StreamSelection.event_models`).

Invariants: nothing here makes a request or reads a secret; every error is one line naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from holded_core.adapter import StreamSelection
from holded_core.dialects.webhooks import WEBHOOK_OBJECTS, HookObject
from holded_core.errors import HoldedConfigError
from holded_core.mappings import MAPPINGS
from holded_core.streams import EVENTS_STREAM, StreamSpec

DEFAULT_RECONCILE_EVERY = 24 * 3600.0  # a day: a missed delivery is caught within a day
RECONCILE_MARGIN = 0.1  # a stream is due once 90% of `reconcile_every` has passed (a cron starting early)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# How the events are grouped when we print the steps for Holded's UI (Settings > Developers > Webhooks,
# "events by area"). The sources do not give the UI's own labels, so the areas are named as Holded's API
# v2 permissions group the same objects (sales, purchases, contacts, inventory, accounting).
AREAS: dict[str, str] = {
    "invoice": "Sales",
    "creditnote": "Sales",
    "salesreceipt": "Sales",
    "proform": "Sales",
    "estimate": "Sales",
    "salesorder": "Sales",
    "waybill": "Sales",
    "service": "Sales",
    "receipt": "Sales",
    "purchase": "Purchases",
    "purchaserefund": "Purchases",
    "receiptnote": "Purchases",
    "purchaseorder": "Purchases",
    "payment": "Accounting",
    "contact": "Contacts",
    "product": "Inventory",
    "stock": "Inventory",
    "warehouse": "Inventory",
}


def events_of(obj: HookObject) -> list[str]:
    """`<object>.<action>` for each action Holded sends for `obj` (`invoice.create`, ...)."""
    return [f"{obj.name}.{action}" for action in obj.actions]


ALL_EVENTS: tuple[str, ...] = tuple(event for obj in WEBHOOK_OBJECTS.values() for event in events_of(obj))


def resource_read(spec: StreamSpec) -> str | None:
    """The Holded resource whose records feed `spec` when the receiver re-reads a delivered object (None:
    a custom stream or the change events, which the receiver does not feed from a resource)."""
    if spec.kind == "unified":
        return MAPPINGS[spec.name][0].resource
    if spec.kind == "native":
        return spec.name
    return None


def objects_feeding(spec: StreamSpec) -> list[HookObject]:
    """The webhook objects whose deliveries keep `spec` current (empty: Holded sends no events for it)."""
    resource = resource_read(spec)
    if resource is None:
        return []
    return [obj for obj in WEBHOOK_OBJECTS.values() if obj.resource == resource]


def kept_by_webhooks(spec: StreamSpec, registered: Collection[str] | None = None) -> bool:
    """Whether Holded's webhooks keep `spec` current (see the module docstring): Holded sends events for it and,
    when `registered` is given (the events registered or configured), every event of an object feeding it is
    among them (`invoice.approve` alone does not keep invoices)."""
    objects = objects_feeding(spec)
    if registered is None:
        return bool(objects)
    return any(set(events_of(obj)) <= set(registered) for obj in objects)


def default_events(specs: Iterable[StreamSpec]) -> list[str]:
    """Every event of the objects feeding these streams, in Holded's catalogue order.

    Args:
        specs: the streams the user syncs (e.g. the default selection's: the ten unified ones).

    Returns:
        Event names (`contact.create`, ..., `invoice.approve`); empty when none of them has events.
    """
    wanted = {obj.name for spec in specs for obj in objects_feeding(spec)}
    return [event for obj in WEBHOOK_OBJECTS.values() if obj.name in wanted for event in events_of(obj)]


def parse_events(names: Sequence[str]) -> list[str]:
    """`--events` as given: event names (`invoice.update`), whole objects (`invoice`: each of its events)
    or `all`, in the catalogue's order without repeats.

    Raises:
        HoldedConfigError: a name that is neither an event nor an object Holded sends (one line listing them).
    """
    if any(name in ("all", "*") for name in names):
        return list(ALL_EVENTS)
    chosen: set[str] = set()
    unknown: list[str] = []
    for name in names:
        if name in WEBHOOK_OBJECTS:
            chosen.update(events_of(WEBHOOK_OBJECTS[name]))
        elif name in ALL_EVENTS:
            chosen.add(name)
        else:
            unknown.append(name)
    if unknown:
        raise HoldedConfigError(
            f"--events: {', '.join(repr(n) for n in unknown)} is not a Holded webhook event; give <object>.<action> "
            f"(e.g. invoice.update), an object (e.g. invoice) or `all`; objects: {', '.join(WEBHOOK_OBJECTS)} (none "
            "for leads, funnels, CRM events, projects, tasks, employees or the ledger)"
        )
    return [event for event in ALL_EVENTS if event in chosen]


def by_area(events: Iterable[str]) -> dict[str, list[str]]:
    """The events grouped as the steps for Holded's UI show them: area -> events, in catalogue order."""
    wanted = set(events)
    areas: dict[str, list[str]] = {}
    for event in ALL_EVENTS:
        if event in wanted:
            areas.setdefault(AREAS.get(event.split(".", 1)[0], "Other"), []).append(event)
    return areas


# ------------------------------------------------------------------------------------ settings


def parse_duration(value: Any, name: str) -> float:
    """A duration such as `24h`, `30m`, `7d`, `90s` (or a number of seconds) in seconds.

    Raises:
        HoldedConfigError: not a positive duration; the message names `name` (the field or flag).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value or ""))
        seconds = float(match.group(1)) * UNITS[match.group(2) or "s"] if match else 0.0
    if seconds <= 0:
        raise HoldedConfigError(f"{name} {value!r} is not a duration: use e.g. 24h, 30m, 7d (or seconds)")
    return seconds


def shown_duration(seconds: float) -> str:
    """`86400` -> `1d`, `7200` -> `2h`, `90` -> `90s`: the largest unit that divides it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class WebhookSync:
    """How `holded sync` reads with Holded's webhooks on.

    Attributes:
        enabled: list the streams kept by webhooks only when they are due for reconciliation.
        reconcile_every: seconds between complete listings of a stream kept by webhooks.
        events: the events the user says a webhook made in Holded's UI sends (`webhooks.events`); with those
            `holded webhooks register` recorded in the database, they decide which streams the webhooks keep.
    """

    enabled: bool = False
    reconcile_every: float = DEFAULT_RECONCILE_EVERY
    events: tuple[str, ...] = ()  # `webhooks.events`: events of a webhook made in Holded's UI (not registered here)

    @property
    def shown_every(self) -> str:
        return shown_duration(self.reconcile_every)


def webhook_sync(raw: Mapping[str, Any], *, enabled: bool | None = None, every: str | None = None) -> WebhookSync:
    """The config's `webhooks: {enabled, reconcile_every}`, with the command line's overrides.

    Args:
        raw: the connector config (the runner's config file).
        enabled: `--webhooks` (True) / `--no-webhooks` (False); None: the config's.
        every: `--reconcile-every`; None: the config's (default 24h).

    Returns:
        The setting.

    Raises:
        HoldedConfigError: `webhooks` is not an object, `webhooks.enabled` not a boolean, or
            `webhooks.reconcile_every` not a duration (one line naming the field and the fix).
    """
    section = raw.get("webhooks")
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise HoldedConfigError('`webhooks` must be an object such as {"enabled": true, "reconcile_every": "24h"}')
    unknown = sorted(set(section) - {"enabled", "reconcile_every", "events"})
    if unknown:
        raise HoldedConfigError(
            f"`webhooks.{unknown[0]}` is not a setting: `webhooks` takes `enabled`, `reconcile_every` and `events`"
        )
    listed = section.get("events") or []
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise HoldedConfigError(f"`webhooks.events` {listed!r} must be a list such as [contact, invoice.update]")
    try:
        events = tuple(parse_events(listed)) if listed else ()
    except HoldedConfigError as exc:
        raise HoldedConfigError(str(exc).replace("--events:", "`webhooks.events`:", 1)) from None
    on = section.get("enabled", False)
    if not isinstance(on, bool):
        raise HoldedConfigError(f"`webhooks.enabled` {on!r} must be true or false")
    seconds = DEFAULT_RECONCILE_EVERY
    if every is not None:
        seconds = parse_duration(every, "--reconcile-every")
    elif section.get("reconcile_every") is not None:
        seconds = parse_duration(section["reconcile_every"], "`webhooks.reconcile_every`")
    return WebhookSync(enabled=on if enabled is None else enabled, reconcile_every=seconds, events=events)


# ------------------------------------------------------------------------------ reconciliation


def listing_key(spec: StreamSpec, *, events_only: bool = False) -> str:
    """What a stream's last complete listing is kept under: its name; a unified model listed only for the
    change events (its stream not synced) is kept apart, as `changeEvents:<model>`."""
    return f"{EVENTS_STREAM}:{spec.name}" if events_only else spec.name


@dataclass(frozen=True)
class FromWebhooks:
    """A stream kept by webhooks and not listed this run.

    Attributes:
        name: the stream (or `changeEvents:<model>`: a model whose events come from the receiver).
        last_listed: unix seconds of its last complete listing.
        next_listing: unix seconds from which a run lists it again.
    """

    name: str
    last_listed: float
    next_listing: float


@dataclass
class Reconciliation:
    """What a sync with webhooks on reads this run.

    Attributes:
        selection: the streams to list (the ones not kept by webhooks, and those due), with the change events
            limited to the models listed.
        from_webhooks: the streams (and event models) left to the webhooks this run, with their schedule.
        reconciling: the streams kept by webhooks that are listed this run because they are due.
        unregistered: the streams Holded sends events for that are listed as usual, because those events are
            neither registered (`holded webhooks register`) nor listed in `webhooks.events`.
    """

    selection: StreamSelection
    from_webhooks: list[FromWebhooks] = field(default_factory=list)
    reconciling: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)


def reconcile(
    selection: StreamSelection,
    unified: Sequence[StreamSpec],
    last_listed: Mapping[str, float],
    setting: WebhookSync,
    now: float,
    *,
    force: bool = False,
    registered: Collection[str] | None = None,
) -> Reconciliation:
    """Split a sync's selection into what is listed this run and what the webhooks keep until it is due.

    Args:
        selection: the streams asked for (`holded sync --streams`, default the ten unified ones + changeEvents).
        unified: the config's unified streams (the models the change events follow).
        last_listed: `listing_key` -> unix seconds of the last complete listing (kept in the database).
        setting: the webhooks setting (off: everything is listed).
        now: the run's start, unix seconds.
        force: list everything this run (`holded sync --reconcile`, `--full-refresh`).
        registered: the events Holded sends to the receiver (those `holded webhooks register` recorded, and
            `webhooks.events`); a stream whose object's events are not all there is listed as usual. None:
            every event (what a plan needs when the registration is known to be complete).

    Returns:
        The selection to read and what was left to the webhooks; a stream never listed is always due.
    """
    if not setting.enabled:
        return Reconciliation(selection)
    due_after = setting.reconcile_every * (1 - RECONCILE_MARGIN)

    def left(key: str) -> FromWebhooks | None:
        last = last_listed.get(key)
        if force or last is None or now - last >= due_after:
            return None
        return FromWebhooks(key, last, last + due_after)

    out = Reconciliation(selection)
    kept = []
    listed_models: set[str] = set()

    def kept_by(spec: StreamSpec) -> bool:
        if kept_by_webhooks(spec, registered):
            return True
        if kept_by_webhooks(spec) and spec.name not in out.unregistered:
            out.unregistered.append(spec.name)
        return False

    for chosen in selection.chosen:
        if chosen.name == EVENTS_STREAM:
            kept.append(chosen)
            continue
        skipped = left(listing_key(chosen.spec)) if kept_by(chosen.spec) and chosen.incremental else None
        if skipped is not None:
            out.from_webhooks.append(skipped)
            continue
        kept.append(chosen)
        if kept_by_webhooks(chosen.spec, registered):
            out.reconciling.append(chosen.name)
        if chosen.spec.kind == "unified":
            listed_models.add(chosen.name)
    event_models: frozenset[str] | None = None
    if selection.events:
        chosen_names = set(selection.names)
        models = set()
        for spec in unified:
            if spec.name in listed_models:
                models.add(spec.name)
                continue
            if not kept_by(spec):
                models.add(spec.name)
                continue
            synced = spec.name in chosen_names  # its stream is synced: its events follow that stream's listing
            skipped = None if synced else left(listing_key(spec, events_only=True))
            if synced or skipped is not None:
                if skipped is not None:
                    out.from_webhooks.append(skipped)
                continue
            models.add(spec.name)
        event_models = frozenset(models)
    out.selection = replace(selection, chosen=tuple(kept), event_models=event_models)
    return out
