"""`target-holded`: a Singer target writing into Holded through the core's `Push`.

    tap-something | target-holded --config CONFIG

CONFIG is the Airbyte destination's config format (credentials, base_url, dry_run,
rejected_records_path, rejection_threshold, concurrency, matching_keys, ...) plus `default_operation`
(create | update | upsert | delete; default upsert). Stream names are the unified ones
(genericCompany, genericContact, ...). Per record: `_op` overrides the operation; `_sdc_deleted_at` or
`_ab_cdc_deleted_at` set deletes; other `_sdc_*` columns are dropped; text values are brought to the
model's types (a CSV tap's "12.5" becomes 12.5). A STATE's value is echoed on stdout only once every
record before it has been applied or refused: the runner then saves it safely. Exit 1 when the push
fails (refusals past `rejection_threshold`, or a whole stream refused).

On an API v2 token, a stream's SCHEMA message (or its first RECORD) probes the permissions writing it
needs (`.write` and `.read` of its resource, each permission once per run): one lacking stops the
target with one line naming it and the stream (exit 2) before any record of that stream is written. A
Singer target learns its streams one SCHEMA at a time, so streams written earlier in the input stand.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterable, Mapping
from functools import partial
from typing import IO, Any

import orjson

from destination_holded.spec import SPEC  # plain data, no Airbyte import
from holded_cli.config import LoadedConfig
from holded_core.basics import check_basics
from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError
from holded_core.permissions import PermissionGate
from holded_core.push import Outcome, Push, PushOptions, conform
from holded_core.settings import parse_settings
from holded_core.streams import DELETED_AT, StreamSpec
from holded_core.writes import OPS
from singer_holded.catalog import SDC_DELETED_AT
from singer_holded.common import Lines, RunFailed, about, command, load, log, token_hand_back


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="target-holded", description="Singer target for Holded (API v1)")
    parser.add_argument("-c", "--config", help="the connector config (JSON or YAML; the Airbyte destination's format)")
    parser.add_argument("--about", action="store_true", help="print what this target is and its settings as JSON")
    parser.add_argument("--format", choices=("json",), default="json", help="--about's format (json only)")
    return parser.parse_args(argv)


def settings_schema() -> dict[str, Any]:
    schema = copy.deepcopy(SPEC["connectionSpecification"])
    schema["properties"]["default_operation"] = {
        "type": "string",
        "enum": list(OPS),
        "default": "upsert",
        "description": "Operation for records without `_op` (a record with _sdc_deleted_at is deleted).",
    }
    return schema


def default_operation(config: Mapping[str, Any]) -> str:
    op = str(config.get("default_operation") or "upsert").lower()
    if op not in OPS:
        raise HoldedConfigError(f"`default_operation` {op!r} is not one of {', '.join(OPS)}")
    return op


def prepare(record: Mapping[str, Any], spec: StreamSpec | None) -> dict[str, Any]:
    """A Singer record as Push takes it: `_sdc_deleted_at` becomes the tombstone mark, other `_sdc_*`
    metadata columns go, values are conformed to the unified model when the stream is one."""
    out = {k: v for k, v in record.items() if not k.lower().startswith("_sdc_")}
    deleted = record.get(SDC_DELETED_AT)
    if deleted:
        out[DELETED_AT] = deleted
    return conform(out, spec) if spec is not None else out


class Writer:
    """Feeds Push (which bounds the records in flight) and logs the outcomes."""

    def __init__(self, push: Push, dry_run: bool) -> None:
        self.push = push
        self.dry_run = dry_run

    def submit(self, stream: str, record: dict[str, Any], op: str) -> None:
        self.push.submit(stream, record, op)
        self._report(self.push.finished())

    def settle(self) -> None:
        """Every record submitted so far applied or refused (invoices held for their lines stay held)."""
        self._report(self.push.settle())

    def drain(self) -> None:
        """The end of the input: everything written, held invoices included."""
        self._report(self.push.drain())

    def _report(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            line = outcome.describe(self.dry_run)
            if line is not None:
                log.log(30 if line[0] == "WARN" else 20, "%s", line[1])


def write(loaded: LoadedConfig, source: IO[bytes], out: Lines) -> None:
    config = loaded.values
    settings = parse_settings(config)
    options = PushOptions.from_config(config)
    op = default_operation(config)
    unified = {spec.name: spec for spec in settings.unified()}
    warned: set[str] = set()
    client = HoldedClient(settings.client, on_refresh_token=token_hand_back(loaded))
    gate = PermissionGate(client)  # an API v2 token: each stream's write permissions, probed once
    with client, Push(client, settings, options) as push:
        check_basics(client)  # a refused key, a wrong base_url or host: one line, exit 2, before reading stdin
        writer = Writer(push, options.dry_run)
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                message = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise RunFailed(f"input line {number} is not JSON: a Singer tap writes one message a line") from None
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "RECORD":
                stream, record = str(message.get("stream")), message.get("record")
                if not isinstance(record, Mapping):
                    raise RunFailed(f"input line {number}: a RECORD message needs `record` to be an object")
                gate.require(writes=[stream])  # (probed at its SCHEMA already; a no-op then)
                writer.submit(stream, prepare(record, unified.get(stream)), op)
            elif kind == "STATE":
                writer.settle()  # the state covers the records before it: all applied or refused first
                push.hold_state(message.get("value") or {})  # and none held (an invoice waiting for its lines)
                for state in push.released():
                    out.write(state, flush=True)
            elif kind == "SCHEMA":
                stream = str(message.get("stream"))
                gate.require(writes=[stream])  # PermissionsLacking: one line, exit 2, before its records
                if stream not in unified and stream not in warned:
                    warned.add(stream)
                    log.warning(
                        "stream %s is not a unified stream (%s): its records will be refused; "
                        "rename it in the tap (stream_name, stream maps)",
                        stream,
                        ", ".join(unified),
                    )
            # ACTIVATE_VERSION, BATCH and anything newer carry nothing this target acts on.
        writer.drain()
        for state in push.released():
            out.write(state, flush=True)
    log.info("write finished: %s", push.summary())
    failure = push.failure()
    if failure:
        raise RunFailed(failure)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    description = "Singer target for Holded: create, update, upsert, delete the ten unified models"
    about_text = partial(about, "target-holded", description, ["about"], settings_schema())
    return command("target-holded", args.about, about_text, lambda out: write(load(args.config), sys.stdin.buffer, out))


if __name__ == "__main__":
    sys.exit(main())
