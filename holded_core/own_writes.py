"""The connector's own writes, recognised when they come back as change events (no echo).

A change `holded push` wrote to Holded comes back: as Holded's webhook (`holded webhooks serve`) or in the
next listing (`holded sync`, `holded events`). Without care it would go out again as a change event to the
user's webhook, who caused it. So the writer's outcomes are kept (`OwnWrite.of`: per record, what was
written, with the values sent), and an event is marked `origin: "connector"` when it is the same content
coming back (`is_echo`):

- a `deleted` event: the record was deleted by the connector;
- a `created` event: the record was created by the connector (its Holded id is new, so nobody else did);
- an `updated` event: the connector created or updated the record, one of the fields the event says
  changed (`changedFields`) is a field it wrote, every other one is too, or is `updatedAt`, or a field Holded
  computes from them (an invoice's totals), and the record now holds the very values it wrote. A change by
  anyone else to another field, or to another value, is not an echo; where the event cannot say which
  fields changed (`changedFields` null), every written value must be there and the write must be recent
  (`UNSURE_WINDOW`).
Writes older than `WINDOW` are not matched. A write is not used up by one match: a create followed by its
approval comes back as two events, and both are the connector's.

The runner keeps the writes in its DuckDB file (`holded push` records them; `holded_cli/store.py` marks the
events as it stores them), so the no-echo guarantee holds for `holded push` together with `holded sync`,
`holded events` and `holded webhooks serve` on one file. The Airbyte destination and the Singer target have
no such file: their writes come back as ordinary events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from holded_core.identity import same_value
from holded_core.mappings import MAPPINGS

CONNECTOR = "connector"  # an event's `origin` when it is the connector's own write coming back
HOLDED = "holded"  # any other change made in Holded
WINDOW = timedelta(days=7)  # a write comes back at the latest with the next sync: a daily one, or a weekly one
UNSURE_WINDOW = timedelta(hours=1)  # for an event that cannot say which fields changed
ALWAYS = frozenset({"updatedAt"})  # Holded sets it on every write


@dataclass(frozen=True)
class OwnWrite:
    """One record the connector wrote.

    Attributes:
        model: the unified stream (`genericCompany`).
        record_id: its Holded id (`<parentId>:<childId>` for an embedded child), as change events name it.
        op: created, updated or deleted.
        fields: the unified fields written, with the values sent (none for a delete).
        written_at: when (UTC).
    """

    model: str
    record_id: str
    op: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    written_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def of(cls, result: Any, record: Mapping[str, Any]) -> OwnWrite | None:
        """The write a writer's outcome (`holded_core.writes.WriteResult`, and the record it applied) made,
        or None when it wrote nothing (unchanged, rejected, planned in a dry run)."""
        if not result.holded_id or result.status not in ("created", "updated", "deleted", "not approved"):
            return None
        if result.status == "deleted":
            return cls(result.stream, str(result.holded_id), "deleted")
        if result.status == "updated" or (result.status == "not approved" and result.changes):
            return cls(result.stream, str(result.holded_id), "updated", {k: v[1] for k, v in result.changes.items()})
        sent = {k: v for k, v in record.items() if k != "id" and v is not None}
        return cls(result.stream, str(result.holded_id), "created", sent)


def _computed(model: str) -> frozenset[str]:
    mappings = MAPPINGS.get(model, ())
    rules = mappings[0].write if mappings else None
    return frozenset(rules.computed) if rules is not None else frozenset()


def is_echo(event: Mapping[str, Any], writes: Iterable[OwnWrite], now: datetime | None = None) -> bool:
    """Whether the change event `event` (`changes.build_event`'s shape) is one of `writes` coming back.

    Args:
        event: the change event (`model`, `recordId`, `type`, `changedFields`, `record`).
        writes: the connector's writes of that record (others are skipped).
        now: the time to judge the windows by (default: now).

    Returns:
        True for an echo (see the module docstring for the rules).
    """
    now = now or datetime.now(UTC)
    kind, record = event.get("type"), event.get("record") or {}
    changed = event.get("changedFields")
    for write in writes:
        if write.model != event.get("model") or write.record_id != event.get("recordId"):
            continue
        age = now - write.written_at
        if age > WINDOW:
            continue
        if kind == "deleted" or write.op == "deleted":
            if kind == write.op:
                return True
            continue
        if kind == "created":
            if write.op == "created":
                return True
            continue
        written = {k: v for k, v in write.fields.items() if k in record}
        if not written:
            continue
        if changed is None:
            if age <= UNSURE_WINDOW and all(same_value(v, record.get(k)) for k, v in written.items()):
                return True
            continue
        allowed = set(written) | ALWAYS | _computed(write.model)
        ours = set(changed) & set(written)
        if ours and set(changed) <= allowed and all(same_value(written[k], record.get(k)) for k in ours):
            return True
    return False
