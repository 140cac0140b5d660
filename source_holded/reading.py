"""The source's read, without `airbyte_cdk`: the core's `ReadRun` over the catalog's streams, its outputs
rendered as protocol lines, and the errors that end a read as `Failure`s.

Both launchers use `run_read`: the console script's `read` (`source_holded.launcher`, with `ProtocolLines`)
and the CDK's (`SourceHolded.read`, with its `AirbyteMessages`, turning a `Failure` into the CDK's
`AirbyteTracedException`). The text of every error (`stream_failure`, the ends of `run_read`) is written
here once for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import orjson

from holded_core.adapter import (
    Handler,
    ReadRun,
    StreamRequest,
    TokenHandBack,
    UnknownStreams,
    is_config_matter,
    select_streams,
)
from holded_core.errors import (
    TOKEN_WHERE,
    HoldedAuthError,
    HoldedConfigError,
    HoldedMissingPermissionError,
    HoldedPermissionError,
    HoldedQuotaError,
)
from holded_core.secrets import redact
from holded_core.settings import Settings, parse_settings
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut
from source_holded.protocol import (
    CONFIG_ERROR,
    SYSTEM_ERROR,
    Failure,
    config_control_line,
    log_line,
    state_line,
    status_line,
)

T = TypeVar("T")
UNKNOWN_FIX = "refresh the schema and remove it"
STATUSES = {"started": "STARTED", "running": "RUNNING", "complete": "COMPLETE", "incomplete": "INCOMPLETE"}


def parse_source_settings(config: Mapping[str, Any]) -> Settings:
    """The core's settings from a source config.

    Raises:
        Failure: a config_error naming the setting and its fix.
    """
    try:
        return parse_settings(config)
    except HoldedConfigError as exc:
        raise Failure(message=str(exc), internal_message=str(exc), failure_type=CONFIG_ERROR) from None


def run_read(
    handler: Handler[T], config: Mapping[str, Any], requests: list[StreamRequest], saved: dict[str, Any]
) -> Iterator[T]:
    """Run one read, yielding what `handler` renders of each output.

    Args:
        handler: renders the core's outputs (records, states, statuses, logs, rotated configs).
        config: the connector config (already checked against the spec, internal keys left out).
        requests: the catalog's streams, each incremental or not.
        saved: each incremental stream's saved state ({} when none).

    Raises:
        Failure: config_error for a bad setting, a refused credential, an unreadable state or the monthly
            quota spent; the streams that did not complete (config_error when every cause is the user's to
            fix, else system_error), after every output was yielded.
    """
    settings = parse_source_settings(config)
    run = ReadRun(
        settings,
        select_streams(settings, requests, fix=UNKNOWN_FIX),
        handler,
        saved=saved,
        tokens=TokenHandBack(config),
    )
    try:
        yield from run
    except HoldedConfigError as exc:  # the basics, a saved state that cannot be read, a credential revoked
        raise Failure(message=str(exc), internal_message=str(exc), failure_type=CONFIG_ERROR) from None
    except HoldedQuotaError as exc:  # never retried: nothing changes before the month's reset
        raise Failure(
            message=f"Holded's monthly request quota is spent ({exc}); the streams that completed are saved "
            "and the next sync resumes the others",
            internal_message=str(exc),
            failure_type=CONFIG_ERROR,
        ) from None
    incomplete = run.incomplete()
    if incomplete is not None:
        raise Failure(message=str(incomplete), failure_type=CONFIG_ERROR if incomplete.config_only else SYSTEM_ERROR)


def reported_failure(out: StatusOut) -> Failure | None:
    """The error trace a stream's status carries: its own failure when it ended incomplete, except a refused
    credential or the quota spent (the read ends with one trace for those, not one per stream)."""
    if out.status != "incomplete" or out.error is None:
        return None
    if isinstance(out.error, (HoldedAuthError, HoldedQuotaError)):
        return None
    return stream_failure(out.stream, out.error)


def stream_failure(stream: str, error: BaseException) -> Failure:
    """What failed one stream, as the user reads it: a missing permission or module named with its fix."""
    if isinstance(error, UnknownStreams):
        return Failure(message=str(error), failure_type=CONFIG_ERROR)
    if isinstance(error, HoldedMissingPermissionError):
        message = (
            f"{stream}: the Holded API token lacks the permission {error.permission}, which this stream needs: "
            f"tick {error.permission} on the token in Holded ({TOKEN_WHERE}) or make a new token with it, "
            "or remove the stream"
        )
        return Failure(message=message, internal_message=str(error), failure_type=CONFIG_ERROR)
    if isinstance(error, HoldedPermissionError):
        message = (
            f"{stream}: this Holded credential has no access to the module behind it ({error}). "
            "Enable the module for the API key (plan or permissions) or remove the stream."
        )
        return Failure(message=message, internal_message=str(error), failure_type=CONFIG_ERROR)
    if is_config_matter(error):
        return Failure(message=f"{stream}: {error}", failure_type=CONFIG_ERROR)
    return Failure(
        message=f"{stream}: {error}",
        internal_message=repr(error),
        failure_type=SYSTEM_ERROR,
        exception=error if isinstance(error, Exception) else None,
    )


class ProtocolLines(Handler[bytes]):
    """The core's read outputs as protocol lines (bytes, newline included), as the CDK's launcher prints them.

    A record's line leaves out the record's top-level null fields, as the CDK's serializer does; a STATE
    carries the count of its stream's records since its previous state (`sourceStats.recordCount`, a
    double), as the CDK's launcher sets it.
    """

    def __init__(self, redact: Callable[[str], str] = redact) -> None:
        """`redact` masks secrets in log messages and error traces (default: the core's registered secrets)."""
        self.since_state: dict[str, int] = {}  # records per stream since its last state
        self._heads: dict[str, bytes] = {}
        self.redact = redact

    def on_record(self, out: RecordOut) -> tuple[bytes]:
        stream = out.stream
        self.since_state[stream] = self.since_state.get(stream, 0) + 1
        head = self._heads.get(stream)
        if head is None:
            head = self._heads[stream] = b'{"type":"RECORD","record":{"stream":' + orjson.dumps(stream) + b',"data":'
        data = out.data
        if None in data.values():  # most records have a few: a copy less its nulls beats a comprehension by 1/3
            kept = data.copy()
            for key, value in data.items():
                if value is None:
                    del kept[key]
            data = kept
        return (b'%b%b,"emitted_at":%d}}\n' % (head, orjson.dumps(data), int(time.time() * 1000)),)

    def on_state(self, out: StateOut) -> tuple[bytes]:
        return (state_line(out.stream, out.state, float(self.since_state.pop(out.stream, 0))),)

    def on_status(self, out: StatusOut) -> Iterable[bytes]:
        failure = reported_failure(out)
        if failure is not None:
            failure.stream = out.stream
            yield failure.trace_line(self.redact)
        yield status_line(out.stream, STATUSES[out.status])

    def on_log(self, out: LogOut) -> tuple[bytes]:
        return (log_line(out.level, self.redact(out.message)),)

    def on_config(self, config: dict[str, Any]) -> tuple[bytes]:
        return (config_control_line(config),)
