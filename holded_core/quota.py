"""Holded's monthly request quota: estimate what a sync will spend before it runs, and fit it in what is left.

Holded counts every call, v1's and v2's alike, against a per-minute window and a monthly quota per
account (shared/holded-api/v2/README.md, "Rate limits and quota"); on a small plan requests are the
scarce resource. `GET /v2/usage` (permission `developers:usage.read`) says how much of the month is
used (`HoldedClient.usage`).

A sync's requests are its listings' (the sync engine groups the streams that one Holded listing feeds,
and the change events need every unified model's listing). So the estimate is per listing, keyed by its
route: the requests the last run that completed that listing made (`ListingCost`, kept by the runner);
for a listing no run completed yet, its pages from the rows already held (rows / page size, rounded up),
or unknown. An unknown part never stops a run: the known part is compared with what is left, and the
unknown listings are named.

`fit` keeps, in the selection's order, the listings that fit in what is left and drops the streams of
the others (the change events only when every unified listing they need fits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from holded_core.adapter import StreamSelection
from holded_core.client import PAGE_SIZE, Usage
from holded_core.listing import Listing
from holded_core.settings import Settings
from holded_core.streams import EVENTS_STREAM


@dataclass(frozen=True)
class Planned:
    """One listing a sync would make: the streams it feeds (`changeEvents` alone: read for the events only)
    and its estimated requests (None: unknown; `basis` says where the number comes from)."""

    listing: Listing
    streams: tuple[str, ...]
    requests: int | None
    basis: str  # "last run" | "rows held" | "unknown"
    events: bool = False  # the change events need this listing (a unified model's)


@dataclass
class Estimate:
    """A sync's estimated requests, listing by listing."""

    planned: list[Planned] = field(default_factory=list)

    @property
    def known(self) -> int:
        """The requests of the listings whose cost is known or guessed from the rows held."""
        return sum(p.requests or 0 for p in self.planned)

    @property
    def unknown(self) -> list[str]:
        """Streams fed by listings of unknown cost (never read into this database)."""
        return [name for p in self.planned if p.requests is None for name in p.streams]


def planned_listings(settings: Settings, selection: StreamSelection) -> list[tuple[Listing, tuple[str, ...], bool]]:
    """The listings a sync of `selection` makes, as the sync engine groups them, with the streams each feeds.

    Args:
        settings: the connector settings (the unified models the change events need).
        selection: the streams to read.

    Returns:
        (listing, stream names, whether the change events need it) in the engine's order; a listing
        read only for the change events feeds `(changeEvents,)`.
    """
    groups: dict[Listing, list[str]] = {}
    for spec in selection.specs:
        if spec.listing is not None:
            groups.setdefault(spec.listing, []).append(spec.name)
    for_events: set[Listing] = set()
    if selection.events:
        for spec in selection.event_specs(settings.unified()) or ():
            if spec.listing is not None:
                groups.setdefault(spec.listing, [])
                for_events.add(spec.listing)
    return [(listing, tuple(names) or (EVENTS_STREAM,), listing in for_events) for listing, names in groups.items()]


def estimate(
    settings: Settings,
    selection: StreamSelection,
    last: Mapping[str, int],
    rows: Mapping[str, int] | None = None,
) -> Estimate:
    """Estimate the requests a sync of `selection` will make.

    Args:
        settings: the connector settings.
        selection: the streams to read.
        last: listing route -> the requests the last run that completed it made (`ListingCost`s kept).
        rows: stream -> rows already held (a guess for a listing no run has completed: its pages).

    Returns:
        The estimate, per listing.
    """
    out = Estimate()
    for listing, streams, events in planned_listings(settings, selection):
        if listing.path in last:
            out.planned.append(Planned(listing, streams, int(last[listing.path]), "last run", events))
            continue
        held = max((rows or {}).get(name, 0) for name in streams)
        if held:
            size = 1_000_000 if listing.pagination == "none" else listing.page_size or PAGE_SIZE
            out.planned.append(Planned(listing, streams, max(1, math.ceil(held / size)), "rows held", events))
        else:
            out.planned.append(Planned(listing, streams, None, "unknown", events))
    return out


@dataclass
class Fitted:
    """What `fit` decided: the selection to read, and the streams left out with the reason."""

    selection: StreamSelection
    skipped: dict[str, str]
    requests: int  # the estimate of what is kept


def fit(selection: StreamSelection, planned: Estimate, remaining: int) -> Fitted:
    """Keep, in order, the listings whose estimate fits in `remaining`; drop the streams of the others.

    A listing of unknown cost is kept (nothing says it does not fit). The change events are kept only
    when the listings they need beyond the kept streams' fit too; a stream whose listing the kept change
    events read anyway is kept at no cost.

    Args:
        selection: the streams asked for.
        planned: the estimate of `selection` (`estimate`).
        remaining: requests left this month.

    Returns:
        The fitted selection and the streams skipped, each with its reason.
    """
    left = remaining
    kept: set[str] = set()
    skipped: dict[str, str] = {}
    spent = 0
    events_only = [p for p in planned.planned if p.streams == (EVENTS_STREAM,)]
    for plan in planned.planned:
        if plan.streams == (EVENTS_STREAM,):
            continue
        cost = plan.requests or 0
        if cost <= left:
            left -= cost
            spent += cost
            kept.update(plan.streams)
        else:
            for name in plan.streams:
                skipped[name] = f"monthly quota: about {cost} requests, {left} left this month"
    if selection.events:
        missing = [
            p for p in planned.planned if p.events and p.streams != (EVENTS_STREAM,) and not set(p.streams) & kept
        ]
        extra = sum(p.requests or 0 for p in (*events_only, *missing))
        if extra <= left:
            spent += extra
            kept.add(EVENTS_STREAM)
            for plan in missing:  # read for the events anyway: their streams cost nothing more
                kept.update(plan.streams)
                for name in plan.streams:
                    skipped.pop(name, None)
        else:
            skipped[EVENTS_STREAM] = (
                f"monthly quota: its listings need about {extra} more requests, {left} left this month"
            )
    chosen = tuple(c for c in selection.chosen if c.name in kept)
    return Fitted(StreamSelection(chosen, selection.unknown, selection.fix), skipped, spent)


def next_reset(usage: Usage) -> str:
    """The first day of the month after the quota's `period` ("2026-11" -> "2026-12-01"), or "" unknown."""
    try:
        year, month = (int(part) for part in usage.period.split("-")[:2])
    except ValueError:
        return ""
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01"
