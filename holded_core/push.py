"""A push: unified records in, Holded writes out, every outcome accounted for.

Shared by the Airbyte destination and `holded push`, so both decide operations, refuse records,
keep the rejected-records file and fail past the rejection threshold in exactly the same way.
Records go through the scheduler (parallel where order does not matter) and the writer (matching
before every create, minimal updates); outcomes come back in submission order.
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
from holded_core.scheduler import Scheduler
from holded_core.settings import Settings
from holded_core.streams import DELETED_AT, StreamSpec
from holded_core.writes import OPS, Writer, WriteResult, field_names


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
        if dry_run:
            changes = ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in r.changes.items()) or "no change"
            return "INFO", f"plan: {r.stream} {r.key}: {r.op} -> {r.status}: {changes}"
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


class Push:
    """One push into Holded. Use as a context manager; `submit`, then read outcomes from `finished()`
    (what is done, in order) and `drain()` (wait for everything submitted)."""

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

    def __enter__(self) -> Push:
        return self

    def __exit__(self, *exc: object) -> None:
        self.scheduler.close()

    def submit(self, stream: str, data: Mapping[str, Any], default_op: str = "upsert") -> None:
        if default_op not in OPS:
            raise HoldedConfigError(f"unknown operation {default_op!r}: use one of {', '.join(OPS)}")
        names = self._names.setdefault(stream, field_names(stream, self.settings.field_mappings))
        record, op = normalize(data, default_op, names)
        self.scheduler.submit(stream, record, op)

    def finished(self) -> Iterator[Outcome]:
        for result, record in self.scheduler.finished():
            yield self._account(Outcome(result, record))

    def drain(self) -> Iterator[Outcome]:
        for result, record in self.scheduler.drain():
            yield self._account(Outcome(result, record))

    def _account(self, outcome: Outcome) -> Outcome:
        r = outcome.result
        self.totals[r.stream] += 1
        self.statuses[r.stream][r.status] += 1
        if r.status == "rejected":
            self.refused[r.stream] += 1
            path = self.options.rejected_records_path
            if path is not None:
                record = dict(outcome.record)
                line = {"stream": r.stream, "key": r.key, "op": r.op, "reason": r.reason, "record": record}
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
