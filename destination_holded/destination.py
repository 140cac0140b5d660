"""The Airbyte destination: reverse ETL into Holded through `holded_core.writes.Writer`.

Each configured stream's `destination_sync_mode` picks the operation (append: create, append_dedup
and overwrite: upsert, update: update, soft_delete: delete); a record's `_op` overrides it and a
tombstone (`_ab_cdc_deleted_at` set) deletes. Records are applied in arrival order; a state message
is echoed only once every record before it was applied or rejected and recorded.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteStateStats,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    DestinationSyncMode,
    FailureType,
    Level,
    Status,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_holded.scheduler import Scheduler
from destination_holded.spec import SPEC
from holded_core import HoldedClient, HoldedError
from holded_core.errors import HoldedConfigError
from holded_core.modules import probe_modules
from holded_core.settings import parse_settings
from holded_core.streams import DELETED_AT
from holded_core.writes import Writer, WriteResult, field_names

MODE_OPS = {
    DestinationSyncMode.append: "create",
    DestinationSyncMode.append_dedup: "upsert",
    DestinationSyncMode.overwrite: "upsert",
    DestinationSyncMode.update: "update",
    DestinationSyncMode.soft_delete: "delete",
}


def _config_error(exc: Exception) -> AirbyteTracedException:
    return AirbyteTracedException(message=str(exc), internal_message=str(exc), failure_type=FailureType.config_error)


class DestinationHolded(Destination):
    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            settings = parse_settings({"max_retries": 2, "max_retry_seconds": 15, **config})
            with HoldedClient(settings.client) as client:
                denied = [name for name, error in probe_modules(client).items() if error is not None]
        except HoldedError as exc:
            return AirbyteConnectionStatus(status=Status.FAILED, message=str(exc))
        if denied:
            message = f"connected; writes to these modules will be refused (plan or permissions): {', '.join(denied)}"
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        try:
            settings = parse_settings(config)
            threshold = float(config.get("rejection_threshold", 0.1))
            concurrency = int(config.get("concurrency", 4))
            matching_keys = dict(config.get("matching_keys") or {})
            if not 1 <= concurrency <= 32:
                raise ValueError("`concurrency` must be from 1 to 32")
        except (HoldedConfigError, ValueError, TypeError) as exc:
            raise _config_error(exc) from None
        modes = {c.stream.name: MODE_OPS.get(c.destination_sync_mode, "upsert") for c in configured_catalog.streams}
        rejected_path = Path(config["rejected_records_path"]) if config.get("rejected_records_path") else None
        dry_run = bool(config.get("dry_run", False))
        totals: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        statuses: dict[str, Counter[str]] = defaultdict(Counter)
        since_state = 0
        with HoldedClient(settings.client) as client:
            writer = Writer(
                client,
                settings.field_mappings,
                dry_run=dry_run,
                default_currency=settings.options.default_currency,
                matching_keys=matching_keys,
            )
            scheduler = Scheduler(writer, concurrency)
            names: dict[str, dict[str, str]] = {}  # per stream, built on its first record

            def report(results: Iterable[tuple[WriteResult, Mapping[str, Any]]]) -> Iterator[AirbyteMessage]:
                for result, record in results:
                    totals[result.stream] += 1
                    statuses[result.stream][result.status] += 1
                    yield from self._report(result, record, rejected_path, refused, dry_run)

            try:
                for message in input_messages:
                    if message.type == Type.STATE:
                        # Echoed only once every record before it is applied or rejected and recorded.
                        yield from report(scheduler.drain())
                        message.state.destinationStats = AirbyteStateStats(recordCount=float(since_state))
                        since_state = 0
                        yield message
                        continue
                    if message.type != Type.RECORD:
                        continue
                    stream = message.record.stream
                    record, op = normalize(
                        message.record.data,
                        modes.get(stream, "upsert"),
                        names.setdefault(stream, field_names(stream, settings.field_mappings)),
                    )
                    scheduler.submit(stream, record, op)
                    since_state += 1
                    yield from report(scheduler.finished())
                yield from report(scheduler.drain())
            finally:
                scheduler.close()
        summary = "; ".join(f"{s}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for s, c in statuses.items())
        yield _log(Level.INFO, f"write finished: {summary or 'no records'}")
        failing = [s for s in totals if refused[s] and (refused[s] == totals[s] or refused[s] / totals[s] > threshold)]
        if failing:
            detail = ", ".join(f"{s} {refused[s]}/{totals[s]}" for s in failing)
            raise AirbyteTracedException(
                message=f"too many records refused ({detail}, threshold {threshold:.0%}); see the reasons logged"
                + (f" and {rejected_path}" if rejected_path else ""),
                failure_type=FailureType.config_error,
            )

    @staticmethod
    def _report(
        result: WriteResult, record: Mapping[str, Any], path: Path | None, refused: Counter[str], dry_run: bool
    ) -> Iterator[AirbyteMessage]:
        if result.status == "rejected":
            refused[result.stream] += 1
            yield _log(Level.WARN, f"{result.stream} {result.key}: refused ({result.op}): {result.reason}")
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                line = {"stream": result.stream, "key": result.key, "op": result.op, "reason": result.reason,
                        "record": dict(record)}  # fmt: skip
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        elif dry_run:
            changes = ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in result.changes.items()) or "no change"
            yield _log(Level.INFO, f"plan: {result.stream} {result.key}: {result.op} -> {result.status}: {changes}")
        elif result.reason:
            yield _log(Level.WARN, f"{result.stream} {result.key}: {result.status}, but {result.reason}")


def normalize(data: Mapping[str, Any], default_op: str, names: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """Airbyte's columns dropped, field names matched case-insensitively (`names`), the operation decided."""
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


def _log(level: Level, message: str) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=message))
