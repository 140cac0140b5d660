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
from functools import partial
from typing import Any

from holded_cli.config import LoadedConfig
from holded_core.adapter import Handler, ReadRun, StreamSelection, select_streams
from holded_core.changes import UnreadableState
from holded_core.client import HoldedClient
from holded_core.errors import HoldedConfigError, HoldedQuotaError
from holded_core.settings import Settings, parse_settings
from holded_core.streams import DELETED_AT
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut, SyncEngine, now_iso
from singer_holded.catalog import SDC_DELETED_AT, UNKNOWN_FIX, discover, requests, singer_schema
from singer_holded.common import Lines, about, command, load, log, read_json, token_hand_back
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


class SingerMessages(Handler[None]):
    """The core's read outputs as Singer messages on stdout (and log lines on stderr)."""

    def __init__(self, selection: StreamSelection, bookmarks: dict[str, Any], out: Lines) -> None:
        self.selection = selection
        self.out = out
        self.states = States(bookmarks, out)

    def on_start(self, engine: SyncEngine, client: HoldedClient) -> None:
        for chosen in self.selection.chosen:  # once the basics passed and every bookmark was read
            schema = singer_schema(chosen.spec, chosen.dropped)
            self.out.write({"type": "SCHEMA", "stream": chosen.name, "schema": schema,
                            "key_properties": list(chosen.spec.primary_key)})  # fmt: skip

    def on_record(self, out: RecordOut) -> None:
        record = out.data
        if record.get(DELETED_AT):
            record = {**record, SDC_DELETED_AT: record[DELETED_AT]}
        self.out.write({"type": "RECORD", "stream": out.stream, "record": record, "time_extracted": now_iso()})

    def on_state(self, out: StateOut) -> None:
        self.states.update(out.stream, out.state)

    def on_status(self, out: StatusOut) -> None:
        if out.status in ("complete", "incomplete"):
            self.states.stream_ended()
        if out.status == "incomplete" and not isinstance(out.error, HoldedQuotaError):  # (said once, at the end)
            log.error("%s: did not complete: %s", out.stream, out.error or "a listing it needs failed (see above)")

    def on_log(self, out: LogOut) -> None:
        log.log(LEVELS.get(out.level, 20), "%s", out.message)

    def on_end(self) -> None:
        self.states.write()  # last, so the final message is a state whatever order the listings finished in


def sync(
    settings: Settings, selection: StreamSelection, bookmarks: dict[str, Any], out: Lines, loaded: LoadedConfig
) -> None:
    """Sync `selection` from `bookmarks`, writing Singer messages on `out`.

    Raises:
        HoldedBasicsError: the basics are wrong (one line, exit 2, nothing written).
        HoldedConfigError: a bookmark cannot be read (before anything is written).
        IncompleteStreams: some streams did not complete (exit 1); the others' records and states stand.
        HoldedQuotaError: Holded's monthly quota ran out (exit 1); the completed streams' states were written.
    """
    handler = SingerMessages(selection, bookmarks, out)
    run = ReadRun(settings, selection, handler, saved=bookmarks, tokens=token_hand_back(loaded))
    try:
        run.drive()
    except UnreadableState as exc:  # raised as the engine is built, before any message is written
        raise HoldedConfigError(f"{exc}; under Meltano: `meltano run --full-refresh ...`") from None
    incomplete = run.incomplete()
    if incomplete is not None:
        raise incomplete


def tap(args: argparse.Namespace, out: Lines) -> None:
    """Discovery (`--discover`) or a sync of the catalog's streams (the default ones without `--catalog`)."""
    loaded = load(args.config)
    settings = parse_settings(loaded.values)
    specs = settings.streams()
    if args.discover:
        out.write(discover(specs), flush=True)
        return
    catalog_path = args.catalog or args.properties
    asked = requests(read_json(catalog_path, "catalog"), specs) if catalog_path else None
    selection = select_streams(settings, asked, fix=UNKNOWN_FIX)
    selection.refuse_unknown()
    bookmarks = bookmarks_of(read_json(args.state, "state")) if args.state else {}
    if not selection.chosen:
        log.warning("the catalog selects no stream: nothing to sync")
    sync(settings, selection, bookmarks, out, loaded)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    description = "Singer tap for Holded: ten unified models, Holded-native streams, change events"
    about_text = partial(about, "tap-holded", description, CAPABILITIES, SPEC["connectionSpecification"])
    return command("tap-holded", args.about, about_text, partial(tap, args))


if __name__ == "__main__":
    sys.exit(main())
