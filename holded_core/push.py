"""A push: unified records in, Holded writes out, every outcome accounted for.

Shared by the Airbyte destination and `holded push`, so both decide operations, refuse records,
keep the rejected-records file and fail past the rejection threshold in exactly the same way.
Records go through the scheduler (parallel where order does not matter) and the writer (matching
before every create, minimal updates); outcomes come back in submission order.

Documents asked to be approved (a target with an `Approval` rule: an invoice with `draft: false`) are
held, with the line records that follow them, until their lines are in: every line id the document
declares in `lines` has arrived, or the input ends (`drain`). Holded's API v1 approves only at create,
so this is how an invoice pushed with its lines ends approved (shared/holded-api/README.md, "Writes";
iamsamuelfraga/mcp-holded issue 51); through API v2 the writer creates it with its lines and then
approves it (`POST /invoices/{id}/approve`), and an approved document takes no more lines either.
Writes speak the API the credential speaks (a v1 key, a v2 token: `holded_core.write_channel`).
At most `MAX_HELD` documents are held (the oldest is written past it). A state message waits while a
document held before it is still held (`hold_state`, then `released` after `settle` or `drain`): a
state is passed on only once every record before it is applied, as the Airbyte protocol asks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError
from holded_core.identity import identity
from holded_core.scheduler import Scheduler
from holded_core.settings import Settings
from holded_core.streams import DELETED_AT, StreamSpec
from holded_core.writes import OPS, TARGETS, Writer, WriteResult, field_names, parent_of

MAX_HELD = 5_000  # documents held for their lines at once; past it the oldest is written with what it has
NOTABLE = ("rejected", "not approved")  # outcomes written to the rejected-records file, with their reason


@dataclass
class PushOptions:
    dry_run: bool = False
    concurrency: int = 4
    rejection_threshold: float = 0.1
    rejected_records_path: Path | None = None
    matching_keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PushOptions:
        """The write options of the destination's config format, checked with the field named."""
        try:
            threshold = float(config.get("rejection_threshold", 0.1))
        except (TypeError, ValueError):
            raise HoldedConfigError("`rejection_threshold` must be a number from 0 to 1, e.g. 0.1") from None
        if not 0 <= threshold <= 1:
            raise HoldedConfigError("`rejection_threshold` must be a number from 0 to 1, e.g. 0.1")
        concurrency = config.get("concurrency", 4)
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 32:
            raise HoldedConfigError("`concurrency` must be an integer from 1 to 32")
        keys = config.get("matching_keys") or {}
        if not isinstance(keys, Mapping) or not all(isinstance(v, str) for v in keys.values()):
            raise HoldedConfigError('`matching_keys` must map stream names to fields, e.g. {"genericUser": "email"}')
        path = config.get("rejected_records_path")
        return cls(
            dry_run=bool(config.get("dry_run", False)),
            concurrency=concurrency,
            rejection_threshold=threshold,
            rejected_records_path=Path(path) if path else None,
            matching_keys=dict(keys),
        )


@dataclass(frozen=True)
class Outcome:
    result: WriteResult
    record: Mapping[str, Any]

    def describe(self, dry_run: bool) -> tuple[str, str] | None:
        """(level, message) for the log, or None when the outcome needs no line of its own."""
        r = self.result
        if r.status == "rejected":
            return "WARN", f"{r.stream} {r.key}: refused ({r.op}): {r.reason}"
        if r.status == "not approved":
            return "WARN", f"{r.stream} {r.key}: not approved ({r.op}): {r.reason}"
        if dry_run:  # what a real run would do (`would create|update|delete`, `unchanged`) and its note
            changes = ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in r.changes.items()) or "no change"
            note = f" ({r.reason})" if r.reason else ""
            return "INFO", f"plan: {r.stream} {r.key}: {r.op} -> {r.outcome}: {changes}{note}"
        if r.reason:
            return "WARN", f"{r.stream} {r.key}: {r.status}, but {r.reason}"
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def conform(record: Mapping[str, Any], spec: StreamSpec, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A row from a table, a file or another tool as the unified model declares it: JSON text parsed for
    object and array fields, numbers and booleans from text (CSV), timestamps as ISO strings, empty text
    as null. `drop`: columns that are not data (a runner's bookkeeping)."""
    props = spec.json_schema.get("properties", {})
    skip = set(drop)
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in skip:
            continue
        value = _plain(value)
        if value == "":
            value = None
        kinds = props.get(key, {}).get("type", [])
        kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        if isinstance(value, str):
            if kinds & {"object", "array"}:
                with contextlib.suppress(orjson.JSONDecodeError):  # else left as it is: the model check names it
                    value = orjson.loads(value)
            elif "number" in kinds or "integer" in kinds:
                try:
                    number = float(value)
                    value = int(number) if "integer" in kinds and number.is_integer() else number
                except ValueError:
                    pass
            elif "boolean" in kinds:
                value = value.strip().lower() in ("1", "true", "yes")
        out[key] = value
    return out


def normalize(data: Mapping[str, Any], default_op: str, names: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """Airbyte's columns dropped, field names matched case-insensitively (`names`), the operation decided:
    a record's `_op` overrides the default and a tombstone (`_ab_cdc_deleted_at` set) deletes."""
    record: dict[str, Any] = {}
    op = default_op
    for key, value in data.items():
        lowered = key.lower()
        if lowered.startswith("_airbyte_"):
            continue
        if lowered == "_op":
            op = str(value).lower() if value else default_op
            continue
        record[names.get(lowered, key)] = value
    if record.get(DELETED_AT):
        op = "delete"
    record.pop(DELETED_AT, None)
    return record, op


@dataclass
class _Held:
    """A document waiting for its lines: (stream, record, op) of itself and of each line so far."""

    stream: str
    record: dict[str, Any]
    op: str
    seq: int  # arrival number among held documents: states wait for the ones before them only
    lines: list[tuple[str, Mapping[str, Any], str]] = field(default_factory=list)

    def complete(self) -> bool:
        """Every line the document declares (its approval rule's `declared` field) has arrived."""
        rule = TARGETS[self.stream].rules.approval
        declared = self.record.get(rule.declared) if rule is not None else None
        if not isinstance(declared, list) or not declared:  # none declared: held until the input ends
            return False
        arrived = {identity(line.get("id")) for _, line, _ in self.lines}
        return all(identity(d) in arrived for d in declared)


class Push:
    """One push into Holded. Use as a context manager; `submit`, then read outcomes from `finished()`
    (what is done, in order), `settle()` (wait for everything submitted, at a state message) and
    `drain()` (the end of the input: everything held is written, then waited for)."""

    def __init__(self, client: HoldedClient, settings: Settings, options: PushOptions) -> None:
        self.options = options
        self.settings = settings
        self.writer = Writer(
            client,
            settings.field_mappings,
            dry_run=options.dry_run,
            default_currency=settings.options.default_currency,
            matching_keys=options.matching_keys,
            timezone=settings.options.timezone,
        )
        self.scheduler = Scheduler(self.writer, options.concurrency)
        self.totals: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self._names: dict[str, dict[str, str]] = {}
        self._file_lock = threading.Lock()
        self._held: dict[tuple[str, str | None], _Held] = {}  # (stream, key identity) -> held, oldest first
        self._seq = 0  # documents held so far
        self._states: list[tuple[int, Any]] = []  # (documents held before it, state)

    def __enter__(self) -> Push:
        return self

    def __exit__(self, *exc: object) -> None:
        self.scheduler.close()

    def submit(self, stream: str, data: Mapping[str, Any], default_op: str = "upsert") -> None:
        """Queue one record (Airbyte's columns dropped, field names matched, the operation decided by
        `normalize`); a document asking approval, and the lines that follow it, are held for their lines."""
        if default_op not in OPS:
            raise HoldedConfigError(f"unknown operation {default_op!r}: use one of {', '.join(OPS)}")
        names = self._names.setdefault(stream, field_names(stream, self.settings.field_mappings))
        record, op = normalize(data, default_op, names)
        if not self._hold(stream, record, op):
            self.scheduler.submit(stream, record, op)

    def _hold(self, stream: str, record: dict[str, Any], op: str) -> bool:
        """Hold `record` when it is a document asking approval or a line of a held one; a record of a held
        document that does not ask approval releases the held one first (order per record is kept)."""
        parent = parent_of(stream, record)
        if parent is not None:
            held = self._held.get((parent[0], identity(parent[1])))
            if held is None:
                return False
            held.lines.append((stream, record, op))
            if held.complete():
                self._release((parent[0], identity(parent[1])))
            return True
        target = TARGETS.get(stream)
        if target is None or target.rules.approval is None:
            return False
        key = (stream, identity(record.get("id")))
        if key in self._held:
            self._release(key)
        if op == "delete" or not target.rules.approval.asked(record):
            return False
        self._seq += 1
        self._held[key] = _Held(stream, record, op, self._seq)
        if len(self._held) > MAX_HELD:
            self._release(next(iter(self._held)))
        return True

    def _release(self, key: tuple[str, str | None]) -> None:
        held = self._held.pop(key)
        self.scheduler.submit_group(held.stream, held.record, held.op, held.lines)

    def finished(self) -> Iterator[Outcome]:
        """Outcomes ready now, in submission order."""
        for result, record in self.scheduler.finished():
            yield self._account(Outcome(result, record))

    def settle(self) -> Iterator[Outcome]:
        """Wait for every record submitted (documents held for their lines stay held): at a state message."""
        for result, record in self.scheduler.drain():
            yield self._account(Outcome(result, record))

    def drain(self) -> Iterator[Outcome]:
        """The end of the input: every held document is written with the lines it has, then every record
        is waited for. Afterwards every state given to `hold_state` is `released`."""
        while self._held:
            self._release(next(iter(self._held)))
        yield from self.settle()

    def hold_state(self, state: Any) -> None:
        """A state message, to be passed on by `released` once no document held before it is still held."""
        self._states.append((self._seq, state))

    def released(self) -> list[Any]:
        """The state messages that can be passed on now, in order: those before which every held document
        has been released (the oldest held is first in `_held`, its `seq` the lowest). Call it right after
        `settle` or `drain`, so that what was released is also applied."""
        oldest = next(iter(self._held.values())).seq if self._held else self._seq + 1
        ready = 0
        while ready < len(self._states) and self._states[ready][0] < oldest:
            ready += 1
        out, self._states = [state for _, state in self._states[:ready]], self._states[ready:]
        return out

    def _account(self, outcome: Outcome) -> Outcome:
        r = outcome.result
        self.totals[r.stream] += 1
        self.statuses[r.stream][r.status] += 1
        if r.status == "rejected":
            self.refused[r.stream] += 1
        if r.status in NOTABLE:
            path = self.options.rejected_records_path
            if path is not None:
                record = dict(outcome.record)
                line = {"stream": r.stream, "key": r.key, "op": r.op, "status": r.status, "reason": r.reason,
                        "record": record}  # fmt: skip
                with self._file_lock:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with path.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        return outcome

    def summary(self) -> str:
        parts = [f"{s}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for s, c in self.statuses.items()]
        return "; ".join(parts) or "no records"

    def failure(self) -> str | None:
        """Why the push failed (too many refusals, or a whole stream refused), or None."""
        threshold = self.options.rejection_threshold
        failing = [
            s
            for s, total in self.totals.items()
            if self.refused[s] and (self.refused[s] == total or self.refused[s] / total > threshold)
        ]
        if not failing:
            return None
        detail = ", ".join(f"{s} {self.refused[s]}/{self.totals[s]}" for s in failing)
        where = f" and {self.options.rejected_records_path}" if self.options.rejected_records_path else ""
        return f"too many records refused ({detail}, threshold {threshold:.0%}); see the reasons logged{where}"
