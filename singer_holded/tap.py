"""`tap-holded`: a Singer tap over the core's sync engine.

    tap-holded --config CONFIG --discover                 # the catalog
    tap-holded --config CONFIG [--catalog CATALOG] [--state STATE]   # a sync (Singer messages on stdout)
    tap-holded --about

CONFIG is the Airbyte source's config format (credentials, base_url, include_contact_persons, ...).
Every selected stream is synced incrementally from the state's bookmarks (`{"bookmarks": {stream:
<the engine's state>}}`; none: everything is new). Output: SCHEMA (with key_properties) for each
selected stream, then RECORD and STATE messages as the engine yields them (a STATE when a stream
ends, mid-listing checkpoints at most every 2 s, and one last); each STATE carries every bookmark.
A record the engine marks deleted (`_ab_cdc_deleted_at`) also gets `_sdc_deleted_at`. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from typing import Any

from holded_cli.config import LoadedConfig
from holded_core.basics import check_basics
from holded_core.changes import UnreadableState
from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError
from holded_core.settings import Settings, parse_settings
from holded_core.streams import DELETED_AT, EVENTS_STREAM
from holded_core.sync import LogOut, RecordOut, Selected, StateOut, StatusOut, SyncEngine, now_iso
from singer_holded.catalog import SDC_DELETED_AT, Selection, default_selection, discover, selection
from singer_holded.common import Lines, RunFailed, about, load, log, read_json, run, setup_logging, token_saver
from source_holded.spec import SPEC  # plain data, no Airbyte import

CAPABILITIES = ["catalog", "properties", "discover", "state", "about"]
LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40}
CHECKPOINT_SECONDS = 2.0  # mid-listing checkpoints written at most this often (see States)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tap-holded", description="Singer tap for Holded (API v1)")
    parser.add_argument("-c", "--config", help="the connector config (JSON or YAML; the Airbyte source's format)")
    parser.add_argument("-d", "--discover", action="store_true", help="print the catalog and exit")
    parser.add_argument("--catalog", help="a catalog from --discover with the streams to sync selected")
    parser.add_argument("-p", "--properties", help="the older name of --catalog")
    parser.add_argument("-s", "--state", help='state from an earlier sync: {"bookmarks": {...}}')
    parser.add_argument("--about", action="store_true", help="print what this tap is and its settings as JSON")
    parser.add_argument("--format", choices=("json",), default="json", help="--about's format (json only)")
    return parser.parse_args(argv)


def bookmarks_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The bookmarks of a Singer state (or of a whole STATE message, as some runners keep it)."""
    if state.get("type") == "STATE" and isinstance(state.get("value"), Mapping):
        state = state["value"]
    bookmarks = state.get("bookmarks") or {}
    if not isinstance(bookmarks, Mapping):
        raise HoldedConfigError('the state\'s `bookmarks` must be an object: {"bookmarks": {stream: {...}}}')
    for name, value in bookmarks.items():
        if not isinstance(value, Mapping):
            raise HoldedConfigError(
                f"the state's `bookmarks.{name}` is not an object; remove it to sync {name} from scratch"
            )
    return dict(bookmarks)


class States:
    """The Singer STATE messages. Each carries every bookmark (a runner keeps only the latest), those
    of streams not synced this time included.

    A stream's state is written as soon as the stream ends. The engine's mid-listing checkpoints (one
    per page that emitted something) are written at most every CHECKPOINT_SECONDS: as each message
    repeats every bookmark, one per page would make the output grow with the square of the account's
    size. A checkpoint left unwritten only means that a sync killed right then re-emits those records.
    """

    def __init__(self, bookmarks: dict[str, Any], out: Lines) -> None:
        self.bookmarks = bookmarks
        self.out = out
        self.pending = False
        self.written_at = time.monotonic()

    def update(self, stream: str, state: dict[str, Any]) -> None:
        self.bookmarks[stream] = state
        self.pending = True
        if time.monotonic() - self.written_at >= CHECKPOINT_SECONDS:
            self.write()

    def stream_ended(self) -> None:
        if self.pending:
            self.write()

    def write(self) -> None:
        self.out.write({"type": "STATE", "value": {"bookmarks": self.bookmarks}}, flush=True)
        self.pending = False
        self.written_at = time.monotonic()


def sync(
    settings: Settings, chosen: list[Selection], bookmarks: dict[str, Any], out: Lines, loaded: LoadedConfig
) -> None:
    dropped = {s.name: s.dropped for s in chosen if s.dropped}
    selected = [Selected(s.spec, incremental=True) for s in chosen if s.name != EVENTS_STREAM]
    events = any(s.name == EVENTS_STREAM for s in chosen)
    states = {s.name: bookmarks.get(s.name) or {} for s in chosen}
    incomplete: dict[str, str] = {}
    state = States(bookmarks, out)
    with HoldedClient(settings.client, on_refresh_token=token_saver(loaded)) as client:
        check_basics(client)  # a refused key, a wrong base_url or host: one line, exit 2, nothing written
        try:  # a bookmark the engine cannot read fails here, before anything is written
            engine = SyncEngine(
                client, selected, states, settings.options, events_models=settings.unified() if events else None
            )
        except UnreadableState as exc:
            raise HoldedConfigError(f"{exc}; under Meltano: `meltano run --full-refresh ...`") from None
        for s in chosen:
            schema_message = {"type": "SCHEMA", "stream": s.name, "schema": s.schema()}
            out.write({**schema_message, "key_properties": list(s.spec.primary_key)})
        for item in engine.run():
            if isinstance(item, RecordOut):
                record = item.data
                if item.stream in dropped:
                    record = {k: v for k, v in record.items() if k not in dropped[item.stream]}
                if record.get(DELETED_AT):
                    record = {**record, SDC_DELETED_AT: record[DELETED_AT]}
                out.write({"type": "RECORD", "stream": item.stream, "record": record, "time_extracted": now_iso()})
            elif isinstance(item, StateOut):
                state.update(item.stream, item.state)
            elif isinstance(item, StatusOut):
                if item.status in ("complete", "incomplete"):
                    state.stream_ended()
                if item.status == "incomplete":
                    incomplete[item.stream] = str(item.error or "did not complete")
                    log.error("%s: did not complete: %s", item.stream, item.error)
            elif isinstance(item, LogOut):
                log.log(LEVELS.get(item.level, 20), "%s", item.message)
    state.write()  # last, so the final message is a state whatever order the listings finished in
    if incomplete:
        names = ", ".join(sorted(incomplete))
        raise RunFailed(f"these streams did not complete: {names} (see the errors above); the others did")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()

    def body() -> int:
        out = Lines()
        if args.about:
            description = "Singer tap for Holded: ten unified models, Holded-native streams, change events"
            out.write(about("tap-holded", description, CAPABILITIES, SPEC["connectionSpecification"]), flush=True)
            return 0
        loaded = load(args.config)
        settings = parse_settings(loaded.values)
        specs = settings.streams()
        if args.discover:
            out.write(discover(specs), flush=True)
            return 0
        catalog_path = args.catalog or args.properties
        chosen = selection(read_json(catalog_path, "catalog"), specs) if catalog_path else default_selection(specs)
        bookmarks = bookmarks_of(read_json(args.state, "state")) if args.state else {}
        if not chosen:
            log.warning("the catalog selects no stream: nothing to sync")
        sync(settings, chosen, bookmarks, out, loaded)
        out.flush()
        return 0

    return run("tap-holded", body)


if __name__ == "__main__":
    sys.exit(main())
