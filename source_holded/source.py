"""The Airbyte source: the Airbyte rendering of `holded_core.adapter`.

`spec` and `discover` follow the CDK's defaults; `check` renders the core's `check`; `read` is
overridden to run the core's `ReadRun` (the basics check, then all selected listings concurrently, each
feeding every stream built from it) and to render its outputs as Airbyte messages: records, per-stream
state, stream statuses, logs, error traces (one per stream that failed, then one ending the read), and a
CONTROL message when the OAuth token endpoint rotates the refresh token.

A stream whose listing API v2 refuses for a permission the token lacks ends with a config_error trace
naming the permission and the stream; the others complete. Holded's monthly quota running out ends the
read with one config_error trace (the states of the streams that completed were already emitted). The
final log line is the engine's summary: requests in all and per stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from airbyte_cdk.config_observation import create_connector_config_control_message
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateStats,
    AirbyteStateType,
    AirbyteStreamState,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    FailureType,
    Level,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as status_message
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from holded_core.adapter import (
    Handler,
    ReadRun,
    StreamRequest,
    TokenHandBack,
    UnknownStreams,
    check,
    is_config_matter,
    select_streams,
)
from holded_core.config import expand_shorthand
from holded_core.errors import (
    TOKEN_WHERE,
    HoldedAuthError,
    HoldedConfigError,
    HoldedMissingPermissionError,
    HoldedPermissionError,
    HoldedQuotaError,
)
from holded_core.settings import Settings, parse_settings
from holded_core.streams import StreamSpec
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut
from source_holded.airbyte import config_error, connection_status
from source_holded.spec import SPEC

LEVELS = {"INFO": Level.INFO, "WARN": Level.WARN, "ERROR": Level.ERROR, "DEBUG": Level.DEBUG}
STATUSES = {
    "started": AirbyteStreamStatus.STARTED,
    "running": AirbyteStreamStatus.RUNNING,
    "complete": AirbyteStreamStatus.COMPLETE,
    "incomplete": AirbyteStreamStatus.INCOMPLETE,
}
UNKNOWN_FIX = "refresh the schema and remove it"


def _settings(config: Mapping[str, Any]) -> Settings:
    try:
        return parse_settings(config)
    except HoldedConfigError as exc:
        raise config_error(exc) from None


class HoldedStream(Stream):
    """Discover's view of a stream; reading goes through `SourceHolded.read` and the core engine."""

    def __init__(self, spec: StreamSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> str | list[list[str]]:
        return self.spec.primary_key[0] if len(self.spec.primary_key) == 1 else [[k] for k in self.spec.primary_key]

    @property
    def cursor_field(self) -> str | list[str]:
        return self.spec.cursor or []

    @property
    def source_defined_cursor(self) -> bool:
        return True

    @property
    def supports_incremental(self) -> bool:
        return True  # incremental by updatedAt or by content fingerprint: every stream has one

    def get_json_schema(self) -> Mapping[str, Any]:
        return self.spec.json_schema

    def read_records(self, sync_mode: SyncMode, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        """Full-refresh read of this one stream (the CDK's helpers use it; `read` does not)."""
        request = StreamRequest(self.spec.name, incremental=sync_mode == SyncMode.incremental)
        yield from ReadRun(self.settings, select_streams(self.settings, [request]), _Records(), preflight=False)


class _Records(Handler[Mapping[str, Any]]):
    def on_record(self, out: RecordOut) -> Iterable[Mapping[str, Any]]:
        return (out.data,)


class SourceHolded(AbstractSource):
    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """A top-level `api_token` / `api_key` becomes the config's `credentials`, before the CDK checks the
        config against the spec (which requires `credentials`) and masks its secrets."""
        return super().configure(expand_shorthand(config), temp_dir)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        result = check(config)
        if result.ok and result.read_note:
            logger.warning(result.read_note)
        return connection_status(result, result.read_note)

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        result = check(config)
        return result.ok, result.error or result.read_note

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        settings = _settings(config)
        return [HoldedStream(spec, settings) for spec in settings.streams()]

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        return self._read(AirbyteMessages(), config, catalog, state)

    def read_lines(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage | bytes]:
        """`read`, with each RECORD already rendered as its protocol line (bytes ending in a newline, exactly
        what the CDK's serializer writes for it; `source_holded.run` writes them as they are) and every other
        message as an `AirbyteMessage`, its STATE messages carrying their record counts."""
        return self._read(AirbyteLines(), config, catalog, state)

    def _read(
        self,
        handler: AirbyteMessages,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None,
    ) -> Iterator[Any]:
        config, _internal = split_config(config)
        settings = _settings(config)
        requests = [StreamRequest(c.stream.name, c.sync_mode == SyncMode.incremental) for c in catalog.streams]
        state_manager = ConnectorStateManager(state=state)
        saved = {r.name: state_manager.get_stream_state(r.name, None) for r in requests if r.incremental}
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
            raise config_error(exc) from None
        except HoldedQuotaError as exc:  # never retried: nothing changes before the month's reset
            raise AirbyteTracedException(
                message=f"Holded's monthly request quota is spent ({exc}); the streams that completed are saved "
                "and the next sync resumes the others",
                internal_message=str(exc),
                failure_type=FailureType.config_error,
            ) from None
        incomplete = run.incomplete()
        if incomplete is not None:
            raise AirbyteTracedException(
                message=str(incomplete),
                failure_type=FailureType.config_error if incomplete.config_only else FailureType.system_error,
            )


class AirbyteMessages(Handler[AirbyteMessage]):
    """The core's read outputs as Airbyte messages."""

    def __init__(self) -> None:
        self.since_state: dict[str, int] = {}  # records per stream since its last state (the state's stats)

    def on_record(self, out: RecordOut) -> Iterable[AirbyteMessage]:
        self.since_state[out.stream] = self.since_state.get(out.stream, 0) + 1
        record = AirbyteRecordMessage(stream=out.stream, data=out.data, emitted_at=int(time.time() * 1000))
        return (AirbyteMessage(type=Type.RECORD, record=record),)

    def on_state(self, out: StateOut) -> Iterator[AirbyteMessage]:
        count = float(self.since_state.pop(out.stream, 0))  # a double, as the CDK's launcher counts
        stream_state = AirbyteStreamState(
            stream_descriptor=StreamDescriptor(name=out.stream), stream_state=AirbyteStateBlob(out.state)
        )
        message = AirbyteStateMessage(
            type=AirbyteStateType.STREAM, stream=stream_state, sourceStats=AirbyteStateStats(recordCount=count)
        )
        yield AirbyteMessage(type=Type.STATE, state=message)

    def on_status(self, out: StatusOut) -> Iterator[AirbyteMessage]:
        descriptor = StreamDescriptor(name=out.stream)
        # A refused credential or the quota spent ends the read with one trace (ReadRun raises it), not one per stream.
        fatal = isinstance(out.error, (HoldedAuthError, HoldedQuotaError))
        if out.status == "incomplete" and out.error is not None and not fatal:
            yield _traced(out.stream, out.error).as_sanitized_airbyte_message(stream_descriptor=descriptor)
        yield status_message(descriptor, STATUSES[out.status])

    def on_log(self, out: LogOut) -> Iterator[AirbyteMessage]:
        yield AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=LEVELS[out.level], message=out.message))

    def on_config(self, config: dict[str, Any]) -> Iterator[AirbyteMessage]:
        yield create_connector_config_control_message(config)


class AirbyteLines(AirbyteMessages):
    """`AirbyteMessages` with each record rendered straight to its protocol line (bytes, newline included).

    The line is byte for byte what the CDK's launcher prints for the same `AirbyteMessage` (its serializer
    leaves out the record's top-level null fields; orjson, as the CDK uses, for the rest), without building
    the two protocol objects and serializing them again for each of the hundred thousand records of a read.
    """

    def __init__(self) -> None:
        super().__init__()
        self._heads: dict[str, bytes] = {}

    def on_record(self, out: RecordOut) -> tuple[bytes]:
        stream = out.stream
        self.since_state[stream] = self.since_state.get(stream, 0) + 1
        head = self._heads.get(stream)
        if head is None:
            head = self._heads[stream] = b'{"type":"RECORD","record":{"stream":' + orjson.dumps(stream) + b',"data":'
        data = out.data
        if None in data.values():
            data = {k: v for k, v in data.items() if v is not None}
        return (b'%b%b,"emitted_at":%d}}\n' % (head, orjson.dumps(data), int(time.time() * 1000)),)


def _traced(stream: str, error: BaseException) -> AirbyteTracedException:
    if isinstance(error, UnknownStreams):
        return AirbyteTracedException(message=str(error), failure_type=FailureType.config_error)
    if isinstance(error, HoldedMissingPermissionError):
        message = (
            f"{stream}: the Holded API token lacks the permission {error.permission}, which this stream needs: "
            f"tick {error.permission} on the token in Holded ({TOKEN_WHERE}) or make a new token with it, "
            "or remove the stream"
        )
        return AirbyteTracedException(
            message=message, internal_message=str(error), failure_type=FailureType.config_error
        )
    if isinstance(error, HoldedPermissionError):
        message = (
            f"{stream}: this Holded credential has no access to the module behind it ({error}). "
            "Enable the module for the API key (plan or permissions) or remove the stream."
        )
        return AirbyteTracedException(
            message=message, internal_message=str(error), failure_type=FailureType.config_error
        )
    if is_config_matter(error):
        return AirbyteTracedException(message=f"{stream}: {error}", failure_type=FailureType.config_error)
    return AirbyteTracedException(
        message=f"{stream}: {error}",
        internal_message=repr(error),
        failure_type=FailureType.system_error,
        exception=error if isinstance(error, Exception) else None,
    )
