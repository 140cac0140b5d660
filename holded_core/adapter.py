"""The adapter layer: what every protocol adapter (the Airbyte source and destination, the Singer tap
and target, the `holded` runner) needs around the core, written once. An adapter is left with its
protocol's rendering only.

- **Selection** (`select_streams`): a requested stream list (from an Airbyte configured catalog, a
  Singer catalog or `--streams`) becomes a `StreamSelection`: the offered streams it names with their
  sync mode and deselected fields, whether change events are on, and the names this config does not
  offer (`UnknownStreams`, message built once). No request means the default: the ten unified streams
  and the change events.
- **Reading** (`ReadRun`): one loop runs the basics check, builds the `SyncEngine` and hands each of its
  outputs to an `OutputHandler` (`on_record` / `on_state` / `on_status` / `on_log`, plus `on_start`,
  `on_config` for a rotated credential and `on_end`). Whatever a callback returns is yielded by the run,
  so a generator protocol (Airbyte) yields its messages and a writing one (Singer, DuckDB) returns
  nothing. Records of streams with deselected fields arrive already trimmed. A credential refused
  mid-run ends the run with one `HoldedBasicsError`. Streams that ended incomplete (or were requested
  but not offered) are collected; `ReadRun.incomplete()` is the one `IncompleteStreams` error for them.
- **Check** (`check`): on a v1 key, the basics plus one call per Holded module; on an API v2 token,
  one probe per distinct permission the default catalog needs (the ten unified streams and the custom
  streams; for a destination, `.write` and `.read` of each unified model's resource), the first probe
  doubling as the basics check (`holded_core.permissions`). A `CheckResult` each adapter renders (a read
  note and a write note are built here, naming each missing permission and the streams or writes it blocks).
- **Rotated OAuth refresh token** (`TokenHandBack`): the client's `on_refresh_token`; registers the new
  token as a secret, then calls the adapter's saver at once (a file written back) or queues a copy of
  the config carrying it for `drain()` on the adapter's own thread (`ReadRun` hands it to `on_config`).
- **Exit codes and one-line failures** (`run_command`): 0 done, 1 the run failed, 2 a usage or config
  mistake, 130 interrupted; every failure one redacted line on stderr.

Invariants: nothing here imports `airbyte_cdk` (DESIGN.md rule 3); no message carries a secret (they
are built from stream and field names and from `HoldedError`s, which are redacted).
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from holded_core.basics import check_basics, credential_refused, shown_url
from holded_core.client import HoldedClient
from holded_core.config import DEFAULT_BASE_URL
from holded_core.errors import (
    HoldedAuthError,
    HoldedConfigError,
    HoldedConnectionError,
    HoldedError,
    HoldedPermissionError,
)
from holded_core.modules import probe_modules
from holded_core.permissions import Need, describe, fix, needed, probe
from holded_core.secrets import redact, register_secret
from holded_core.settings import Settings, parse_settings
from holded_core.streams import EVENTS_STREAM, StreamSpec
from holded_core.sync import LogOut, Output, RecordOut, Selected, StateOut, StatusOut, SyncEngine

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_KINDS = ("unified", "events")  # selected when nothing is asked for: the ten unified streams + changeEvents
CHECK_RETRIES = {"max_retries": 2, "max_retry_seconds": 15}  # a check answers in seconds, not minutes


# ------------------------------------------------------------------------------------ errors


class UnknownStreams(HoldedConfigError):
    """Streams a request names that this config does not offer.

    Attributes:
        names: the unknown names, in request order.
        fix: what the user of this adapter does about it (refresh the schema, run discovery...).
    """

    def __init__(self, names: Sequence[str], fix: str) -> None:
        self.names = tuple(names)
        self.fix = fix
        listed = ", ".join(repr(name) for name in self.names)
        verb = "is" if len(self.names) == 1 else "are"
        super().__init__(f"{'stream' if len(self.names) == 1 else 'streams'} {listed} {verb} not offered "
                         f"with this config: {fix}")  # fmt: skip


class IncompleteStreams(HoldedError):
    """The end of a read where some streams did not complete (the others did, and their data and state
    stand). The failures were reported one by one as they happened; this is the run's last word.

    Attributes:
        failures: stream name -> what failed it (None: it failed with another stream's listing, as
            changeEvents does when a model's listing fails).
    """

    def __init__(self, failures: Mapping[str, BaseException | None]) -> None:
        self.failures = dict(failures)
        names = ", ".join(sorted(self.failures))
        super().__init__(f"these streams did not complete: {names} (see the errors above); the others did")

    @property
    def names(self) -> list[str]:
        return sorted(self.failures)

    @property
    def config_only(self) -> bool:
        """Every known cause is the user's to fix (config, permissions, credential), none is Holded's or ours."""
        known = [error for error in self.failures.values() if error is not None]
        return bool(known) and all(is_config_matter(error) for error in known)


def is_config_matter(error: BaseException | None) -> bool:
    """Whether the user fixes `error` in the config or the account (a setting, a refused credential, a
    module the plan or the permissions leave out), rather than it being Holded's failure or a bug."""
    return isinstance(error, (HoldedConfigError, HoldedAuthError, HoldedPermissionError))


# --------------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class StreamRequest:
    """One stream a protocol's catalog asks for.

    Attributes:
        name: the stream's name as the catalog gives it.
        incremental: read against saved state (False: everything, and no state is read).
        dropped: fields deselected in the catalog, left out of its records (the key never is).
    """

    name: str
    incremental: bool = True
    dropped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Chosen:
    """A requested stream this config offers."""

    spec: StreamSpec
    incremental: bool = True
    dropped: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class StreamSelection:
    """What a read covers: the offered streams asked for (change events included), in request order,
    and the names asked for that this config does not offer."""

    chosen: tuple[Chosen, ...]
    unknown: tuple[str, ...] = ()
    fix: str = "remove them from the request"
    event_models: frozenset[str] | None = None  # the unified models the change events follow (None: every one)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.chosen]

    @property
    def specs(self) -> list[StreamSpec]:
        return [c.spec for c in self.chosen]

    @property
    def events(self) -> bool:
        """Whether the change-events stream is selected."""
        return any(c.name == EVENTS_STREAM for c in self.chosen)

    def event_specs(self, unified: Iterable[StreamSpec]) -> list[StreamSpec] | None:
        """The unified models whose listings the change events come from this read (None: no change events).

        A model left out (`event_models`; `holded sync` with webhooks on, for a model the webhooks keep) is
        not listed for its events: it gets no event this read, no deletion either, and its state is kept.
        """
        if not self.events:
            return None
        return [spec for spec in unified if self.event_models is None or spec.name in self.event_models]

    @property
    def selected(self) -> list[Selected]:
        """The sync engine's input: every chosen stream but the change events (those are derived)."""
        return [Selected(c.spec, c.incremental) for c in self.chosen if c.name != EVENTS_STREAM]

    @property
    def dropped(self) -> dict[str, frozenset[str]]:
        return {c.name: c.dropped for c in self.chosen if c.dropped}

    def without(self, name: str) -> StreamSelection:
        """The same selection without the stream `name` (e.g. `--no-events`)."""
        return replace(self, chosen=tuple(c for c in self.chosen if c.name != name))

    def states(self, saved: Mapping[str, Mapping[str, Any] | None]) -> dict[str, dict[str, Any]]:
        """The engine's input states: each incremental stream's saved state, empty for the others."""
        return {c.name: dict(saved.get(c.name) or {}) if c.incremental else {} for c in self.chosen}

    def refuse_unknown(self) -> None:
        """Raise `UnknownStreams` when the request named streams this config does not offer.

        Raises:
            UnknownStreams: for a protocol that refuses the whole run (the runner, the Singer tap).
        """
        if self.unknown:
            raise UnknownStreams(self.unknown, self.fix)


def selected_by_default(spec: StreamSpec) -> bool:
    """Whether `spec` is read when the request names no stream (and marked so in a discovered catalog)."""
    return spec.kind in DEFAULT_KINDS


def select_streams(
    settings: Settings, requested: Iterable[StreamRequest | str] | None, *, fix: str = "remove them from the request"
) -> StreamSelection:
    """Turn a protocol's stream request into the streams a read covers.

    Args:
        settings: the connector settings (they say which streams are offered: custom streams too).
        requested: the streams asked for, as requests or bare names (incremental, every field); None
            asks for the default (`selected_by_default`: the ten unified streams and changeEvents).
        fix: how the adapter's user drops a stream that is not offered; ends the `UnknownStreams` message.

    Returns:
        The selection; names not offered are in `unknown`, for the adapter to refuse the run
        (`refuse_unknown`) or fail those streams alone (`ReadRun` does).

    Raises:
        HoldedConfigError: the settings' streams clash (a custom stream reusing a name).
    """
    offered = settings.streams()
    if requested is None:
        return StreamSelection(tuple(Chosen(spec) for spec in offered if selected_by_default(spec)), fix=fix)
    by_name = {spec.name: spec for spec in offered}
    chosen: list[Chosen] = []
    unknown: list[str] = []
    for item in requested:
        request = StreamRequest(item) if isinstance(item, str) else item
        spec = by_name.get(request.name)
        if spec is None:
            unknown.append(request.name)
            continue
        dropped = frozenset(request.dropped - set(spec.primary_key))
        chosen.append(Chosen(spec, request.incremental, dropped))
    return StreamSelection(tuple(chosen), tuple(unknown), fix)


# ------------------------------------------------------------------------------ token hand-back


class TokenHandBack:
    """The client's `on_refresh_token`: hands a rotated OAuth refresh token back to whoever keeps the config.

    A token endpoint that rotates refresh tokens invalidates the old one: the new one must reach the
    config's keeper or the next run is refused. Called from the client's threads. Each token is
    registered as a secret (never printed), then either given at once to `save` (a config file written
    back, before anything else can go wrong) or, without `save`, queued as a whole config carrying it,
    for `drain()` on the adapter's own thread (an Airbyte CONTROL message).
    """

    def __init__(self, config: Mapping[str, Any], save: Callable[[str], None] | None = None) -> None:
        """
        Args:
            config: the connector config as the adapter received it (copied; never modified).
            save: called with each new token, from the thread that obtained it; None: queue for `drain()`.
        """
        self._config: dict[str, Any] = copy.deepcopy(dict(config))
        self._save = save
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, token: str) -> None:
        register_secret(token)
        if self._save is not None:
            self._save(token)
            return
        with self._lock:
            credentials = self._config.get("credentials")
            self._config["credentials"] = {**(credentials if isinstance(credentials, Mapping) else {}),
                                           "refresh_token": token}  # fmt: skip
            self._pending.append(copy.deepcopy(self._config))

    def drain(self) -> list[dict[str, Any]]:
        """The configs carrying the tokens rotated since the last call, oldest first."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending


# ------------------------------------------------------------------------------------- reading


class OutputHandler(Protocol[T_co]):
    """An adapter's rendering of a read. Each callback returns the protocol messages to yield (or None)."""

    def on_start(self, engine: SyncEngine, client: HoldedClient) -> Iterable[T_co] | None:
        """The basics passed and the engine is built (its `reports` and the client's `stats` are live)."""

    def on_record(self, out: RecordOut) -> Iterable[T_co] | None:
        """A record (deselected fields already left out)."""

    def on_state(self, out: StateOut) -> Iterable[T_co] | None:
        """A stream's state checkpoint: everything before it is covered."""

    def on_status(self, out: StatusOut) -> Iterable[T_co] | None:
        """started / running / complete / incomplete (with the error, when the stream has its own)."""

    def on_log(self, out: LogOut) -> Iterable[T_co] | None:
        """A warning or note (INFO: the engine's end-of-run summary)."""

    def on_config(self, config: dict[str, Any]) -> Iterable[T_co] | None:
        """The config with a rotated OAuth refresh token (see `TokenHandBack`), on the reading thread."""

    def on_end(self) -> Iterable[T_co] | None:
        """Every output was handled and the client is closed (not called when the run raised)."""


class Handler(Generic[T]):
    """A do-nothing `OutputHandler` to extend: override the callbacks the protocol renders."""

    def on_start(self, engine: SyncEngine, client: HoldedClient) -> Iterable[T] | None:
        return None

    def on_record(self, out: RecordOut) -> Iterable[T] | None:
        return None

    def on_state(self, out: StateOut) -> Iterable[T] | None:
        return None

    def on_status(self, out: StatusOut) -> Iterable[T] | None:
        return None

    def on_log(self, out: LogOut) -> Iterable[T] | None:
        return None

    def on_config(self, config: dict[str, Any]) -> Iterable[T] | None:
        return None

    def on_end(self) -> Iterable[T] | None:
        return None


@dataclass
class ReadRun(Generic[T]):
    """One read: the basics check, the sync engine over `selection`, every output handed to `handler`.

    Iterate it to run it (it yields what the handler's callbacks return); `drive()` runs it for a
    handler that writes rather than returns. After the run, `incomplete()` tells which streams did not
    complete.

    Attributes:
        settings: the connector settings.
        selection: what to read; its `unknown` names fail as streams of their own, first.
        handler: the adapter's rendering.
        saved: saved states by stream name (only incremental streams read theirs).
        tokens: the client's `on_refresh_token`; a `TokenHandBack`'s queued configs go to `on_config`.
        preflight: run the basics check first (`holded events --every` does it on its first run only).
        plan: called with the run's client and `selection` after the basics check, before the engine is
            built; returns the selection to read (fewer streams: `holded sync --fit-quota`) or raises to
            stop the run before any listing (its requests count in the run's).
        failures: stream -> what failed it, filled as the run goes.
    """

    settings: Settings
    selection: StreamSelection
    handler: OutputHandler[T]
    saved: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    tokens: Callable[[str], None] | None = None
    preflight: bool = True
    plan: Callable[[HoldedClient, StreamSelection], StreamSelection] | None = None
    failures: dict[str, BaseException | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._dropped = self.selection.dropped  # looked up once per record: computed once

    def __iter__(self) -> Iterator[T]:
        """Run the read, yielding the handler's messages.

        Raises:
            HoldedBasicsError: the basics check failed, or Holded refused the credential mid-run.
            HoldedConfigError: a saved state cannot be read (`UnreadableState`), before any output.
            HoldedError: another failure that stops the whole read (a bug is raised as it is).
        """
        handler = self.handler
        for name in self.selection.unknown:
            yield from self.dispatch(StatusOut(name, "incomplete", UnknownStreams([name], self.selection.fix)))
        with HoldedClient(self.settings.client, on_refresh_token=self.tokens) as client:
            if self.preflight:
                check_basics(client)  # a refused key, a wrong base_url or host: one error, not one per stream
            if self.plan is not None:
                self.selection = self.plan(client, self.selection)
            engine = SyncEngine(
                client,
                self.selection.selected,
                self.selection.states(self.saved),
                self.settings.options,
                events_models=self.selection.event_specs(self.settings.unified()),
                dialect=self.settings.dialect,
            )
            yield from handler.on_start(engine, client) or ()
            hand_back = self.tokens if isinstance(self.tokens, TokenHandBack) else None
            dispatch = self.dispatch
            try:
                for out in engine.run():
                    if hand_back is not None and hand_back._pending:  # a rotated token goes out first
                        yield from self._configs()
                    yield from dispatch(out)
            except HoldedAuthError as exc:  # refused mid-run (revoked): one error naming the credential's field
                raise credential_refused(exc, self.settings.client) or exc from None
            yield from self._configs()
        yield from handler.on_end() or ()

    def drive(self) -> None:
        """Run the read for a handler whose callbacks return nothing (see `__iter__` for the errors)."""
        for _ in self:
            pass

    def dispatch(self, out: Output) -> Iterable[T]:
        """Hand one engine output to its callback, trimming deselected fields and noting failures."""
        handler = self.handler
        if isinstance(out, RecordOut):
            dropped = self._dropped.get(out.stream) if self._dropped else None
            if dropped:
                out = RecordOut(out.stream, {k: v for k, v in out.data.items() if k not in dropped})
            return handler.on_record(out) or ()
        if isinstance(out, StateOut):
            return handler.on_state(out) or ()
        if isinstance(out, StatusOut):
            if out.status == "incomplete":
                self.failures[out.stream] = out.error
            return handler.on_status(out) or ()
        if isinstance(out, LogOut):
            return handler.on_log(out) or ()
        return ()

    def incomplete(self) -> IncompleteStreams | None:
        """The error that ends a read where streams did not complete, or None when all did."""
        return IncompleteStreams(self.failures) if self.failures else None

    def _configs(self) -> Iterator[T]:
        if isinstance(self.tokens, TokenHandBack):
            for config in self.tokens.drain():
                yield from self.handler.on_config(config) or ()


# --------------------------------------------------------------------------------------- check


@dataclass(frozen=True)
class CheckResult:
    """What `check` found.

    Attributes:
        error: why the check failed, one line naming the fix; None when it passed.
        config_error: the failure is the user's to fix in the config (a bad field, a refused credential).
        denied: Holded modules this credential may not use (plan or permissions); on an API v2 token, the
            permissions it lacks (`crm:deals.read`).
        affected: the streams reading those modules or needing those permissions (they will fail); for
            writes, `write <stream>`.
        lacking: on an API v2 token, each permission it lacks with what it blocks.
    """

    error: str | None = None
    config_error: bool = False
    denied: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    lacking: tuple[Need, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def read_note(self) -> str | None:
        """What a source says when connected with modules denied (None: nothing denied)."""
        if self.lacking:
            streams = "that stream" if len(self.affected) == 1 else "those streams"
            return (
                f"connected; the Holded API token lacks {describe(self.lacking)}: {fix(self.lacking)}, "
                f"or leave {streams} out"
            )
        if not self.denied:
            return None
        return (
            f"connected; not available to this credential (plan or permissions): {', '.join(self.denied)}. "
            f"These streams will fail: {', '.join(self.affected)}"
        )

    @property
    def write_note(self) -> str | None:
        """What a destination says when connected with modules denied (None: nothing denied)."""
        if self.lacking:
            return (
                f"connected; the Holded API token lacks {describe(self.lacking)} (a write needs its target's "
                f".write and .read: the writer matches records before creating them): {fix(self.lacking)}; until "
                "then those writes are refused before anything is written"
            )
        if not self.denied:
            return None
        return f"connected; writes to these modules will be refused (plan or permissions): {', '.join(self.denied)}"


def check(config: Mapping[str, Any], *, writes: bool = False) -> CheckResult:
    """Check a connector config: valid, Holded reachable and accepting the credential, and which
    modules (v1) or permissions (API v2) the credential lacks. A few quick retries at most: a check
    answers in seconds.

    On an API v2 token the check probes, once each, the permissions the default catalog needs (reads:
    the ten unified streams and the custom streams; `writes`: `.write` and `.read` of each unified
    model's resource), so it costs one request per distinct permission (7 for reads, 14 for writes).

    Args:
        config: the connector config as given (the source's or the destination's format).
        writes: check what a destination needs (writes of the unified models) rather than a source.

    Returns:
        The result; it never raises for a config or Holded failure, it says it in `error`. It passes
        with a note (`read_note` / `write_note`) naming what is missing when some of it is there.

    Raises:
        Exception: only a bug.
    """
    try:
        settings = parse_settings({**CHECK_RETRIES, **config})
        with HoldedClient(settings.client) as client:
            if settings.client.dialect == "v2":
                return _check_permissions(client, settings, writes)
            access = probe_modules(client)
    except HoldedConfigError as exc:
        return CheckResult(error=str(exc), config_error=True)
    except HoldedConnectionError as exc:
        base = shown_url(str(config.get("base_url") or DEFAULT_BASE_URL))
        return CheckResult(error=f"cannot reach Holded at {base}: {exc}. Check `base_url`.")
    except HoldedError as exc:
        return CheckResult(error=str(exc), config_error=isinstance(exc, HoldedAuthError))
    denied = tuple(name for name, error in access.items() if error is not None)
    affected = tuple(spec.name for spec in settings.streams() if spec.module in denied)
    if len(denied) == len(access):
        error = "the credential cannot reach any Holded module; check the plan and API access"
        return CheckResult(error=error, denied=denied, affected=affected)
    return CheckResult(denied=denied, affected=affected)


def _check_permissions(client: HoldedClient, settings: Settings, writes: bool) -> CheckResult:
    """The API v2 part of `check`: probe each permission needed once; name what is lacking (see `check`).

    Raises:
        HoldedError: the first probe failed as the basics check (`HoldedBasicsError`), or another failure.
    """
    if writes:
        needs, _ = needed([], [spec.name for spec in settings.unified()])
    else:
        needs, _ = needed([spec for spec in settings.streams() if selected_by_default(spec) or spec.kind == "custom"])
    probe(client, needs)
    lacking = tuple(need for need in needs if need.granted is False)
    denied = tuple(need.permission for need in lacking)
    affected = tuple(dict.fromkeys(user for need in lacking for user in need.used_by))
    users = {user for need in needs for user in need.used_by}
    # Fails when nothing could run: every stream blocked, or (a destination) every model's write, a write
    # needing its resource's `.read` as well as its `.write`; otherwise passes, naming what is blocked.
    if lacking and set(affected) == users:
        error = f"the Holded API token lacks the permissions {'every write' if writes else 'every stream'} needs: "
        return CheckResult(
            error=error + f"{describe(lacking)}: {fix(lacking)}", config_error=True, denied=denied, affected=affected
        )
    return CheckResult(denied=denied, affected=affected, lacking=lacking)


# ------------------------------------------------------------------------------ commands, exits


def failure_line(prog: str, error: BaseException) -> str:
    """The one line a command prints for a failure: its name, then the redacted message."""
    return f"{prog}: {redact(str(error))}"


def run_command(
    prog: str,
    body: Callable[[], int],
    *,
    usage: tuple[type[BaseException], ...] = (),
    failed: tuple[type[BaseException], ...] = (),
    on_bug: Callable[[Exception], int],
) -> int:
    """Run a command's body and turn every failure into one redacted stderr line and an exit code.

    Args:
        prog: the name that starts each line (`tap-holded`, `holded sync`).
        body: the command; returns its exit code.
        usage: more exception types that are the user's mistake (exit 2, like `HoldedConfigError`).
        failed: more exception types that mean the run failed (exit 1, like `HoldedError`).
        on_bug: what to do with any other exception (a bug); returns the exit code or re-raises.

    Returns:
        0 done, 1 the run failed, 2 a usage or config mistake, 130 interrupted.
    """
    try:
        return body()
    except BrokenPipeError:
        # Whoever read our stdout (a target, Meltano, `head`) went away: nothing more can be said there.
        _silence_stdout()
        print(f"{prog}: stdout was closed by the reader; stopping", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (HoldedConfigError, *usage) as exc:
        print(failure_line(prog, exc), file=sys.stderr)
        return EXIT_USAGE
    except (HoldedError, *failed) as exc:
        print(failure_line(prog, exc), file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        return on_bug(exc)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
