"""The Airbyte source: the Airbyte rendering of `holded_core.adapter`.

`spec` and `discover` follow the CDK's defaults; `check` renders the core's `check`; `read` is
overridden to run `source_holded.reading.run_read` (the core's `ReadRun`: the basics check, then all
selected listings concurrently, each feeding every stream built from it) and to render its outputs as
Airbyte messages: records, per-stream state, stream statuses, logs, error traces (one per stream that
failed, then one ending the read), and a CONTROL message when the OAuth token endpoint rotates the refresh token.

A stream whose listing API v2 refuses for a permission the token lacks ends with a config_error trace
naming the permission and the stream; the others complete. Holded's monthly quota running out ends the
read with one config_error trace (the states of the streams that completed were already emitted). The
final log line is the engine's summary: requests in all and per stream.

This is the CDK's view of the source (its launcher's `spec`, `check`, `discover`, its test suites and
harnesses). The console script's `read` does not import the CDK: see `source_holded.launcher`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airbyte_cdk.config_observation import create_connector_config_control_message
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
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
    Level,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as status_message

from holded_core.adapter import Handler, ReadRun, StreamRequest, check, select_streams
from holded_core.config import expand_shorthand
from holded_core.secrets import credential_values, redact
from holded_core.settings import Settings
from holded_core.streams import StreamSpec
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut
from source_holded.airbyte import connection_status, traced
from source_holded.protocol import Failure
from source_holded.reading import STATUSES, parse_source_settings, reported_failure, run_read
from source_holded.spec import SPEC


def _settings(config: Mapping[str, Any]) -> Settings:
    try:
        return parse_source_settings(config)
    except Failure as failure:
        raise traced(failure) from None


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

    def _read(
        self,
        handler: AirbyteMessages,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None,
    ) -> Iterator[Any]:
        config, _internal = split_config(config)
        requests = [StreamRequest(c.stream.name, c.sync_mode == SyncMode.incremental) for c in catalog.streams]
        state_manager = ConnectorStateManager(state=state)
        saved = {r.name: state_manager.get_stream_state(r.name, None) for r in requests if r.incremental}
        try:
            yield from run_read(handler, config, requests, saved)
        except Failure as failure:
            raise traced(failure) from None


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
        failure = reported_failure(out)
        if failure is not None:
            yield traced(failure).as_sanitized_airbyte_message(stream_descriptor=descriptor)
        yield status_message(descriptor, AirbyteStreamStatus(STATUSES[out.status]))

    def on_log(self, out: LogOut) -> Iterator[AirbyteMessage]:
        log = AirbyteLogMessage(level=Level(out.level), message=redact(out.message))
        yield AirbyteMessage(type=Type.LOG, log=log)

    def on_config(self, config: dict[str, Any]) -> Iterator[AirbyteMessage]:
        yield create_connector_config_control_message(config)


class _Entrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, masking every value of the config's `credentials` as well as the spec's
    `airbyte_secret` fields: a spec check refusing a misspelt credential field quotes the whole object, and
    the CDK masks only the fields the spec names (a `pat_` token under a wrong name was printed in clear)."""

    @staticmethod
    def set_up_secret_filter(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
        AirbyteEntrypoint.set_up_secret_filter(config, connection_specification)
        for value in credential_values(config):
            add_to_secrets(value)


def launch_with_credentials_masked(args: list[str]) -> None:
    """The CDK's `launch` (`spec`, `check`, `discover`) through `_Entrypoint`, line for line otherwise."""
    entrypoint = _Entrypoint(SourceHolded())
    parsed = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        for message in entrypoint.run(parsed):
            print(f"{message}\n", end="")
