"""The Airbyte source: a thin adapter over holded_core.

`spec`, `check` and `discover` follow the CDK's defaults; `read` is overridden to run the core's sync
engine (all selected listings concurrently, each feeding every stream built from it) and to turn its
outputs into Airbyte messages: records, per-stream state, stream statuses, logs, error traces, and a
CONTROL message when the OAuth token endpoint rotates the refresh token.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

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
    Status,
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

from holded_core import DEFAULT_BASE_URL, HoldedClient, HoldedError
from holded_core.basics import check_basics, credential_refused
from holded_core.errors import (
    HoldedAuthError,
    HoldedConfigError,
    HoldedConnectionError,
    HoldedPermissionError,
)
from holded_core.modules import probe_modules
from holded_core.settings import Settings, parse_settings
from holded_core.streams import EVENTS_STREAM, StreamSpec
from holded_core.sync import LogOut, RecordOut, Selected, StateOut, StatusOut, SyncEngine
from source_holded.spec import SPEC

LEVELS = {"INFO": Level.INFO, "WARN": Level.WARN, "ERROR": Level.ERROR, "DEBUG": Level.DEBUG}
STATUSES = {
    "started": AirbyteStreamStatus.STARTED,
    "running": AirbyteStreamStatus.RUNNING,
    "complete": AirbyteStreamStatus.COMPLETE,
    "incomplete": AirbyteStreamStatus.INCOMPLETE,
}


def _config_error(exc: HoldedConfigError) -> AirbyteTracedException:
    return AirbyteTracedException(message=str(exc), internal_message=str(exc), failure_type=FailureType.config_error)


def _settings(config: Mapping[str, Any]) -> Settings:
    try:
        return parse_settings(config)
    except HoldedConfigError as exc:
        raise _config_error(exc) from None


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
        incremental = sync_mode == SyncMode.incremental
        with HoldedClient(self.settings.client) as client:
            engine = SyncEngine(client, [Selected(self.spec, incremental)], {}, self.settings.options)
            for out in engine.run():
                if isinstance(out, RecordOut):
                    yield out.data


class SourceHolded(AbstractSource):
    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        # The CDK's default wraps the reason in repr(); a plain sentence reads better in the Airbyte UI.
        ok, reason = self.check_connection(logger, config)
        if ok:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=reason)
        return AirbyteConnectionStatus(status=Status.FAILED, message=str(reason))

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        try:
            settings = parse_settings({"max_retries": 2, "max_retry_seconds": 15, **config})
            with HoldedClient(settings.client) as client:
                access = probe_modules(client)
        except HoldedConnectionError as exc:
            return False, f"cannot reach Holded at {config.get('base_url', DEFAULT_BASE_URL)}: {exc}. Check `base_url`."
        except HoldedError as exc:
            return False, str(exc)
        denied = [name for name, error in access.items() if error is not None]
        if len(denied) == len(access):
            return False, "the credential cannot reach any Holded module; check the plan and API access"
        if denied:
            affected = [s.name for s in settings.streams() if s.module in denied]
            message = (
                f"connected; not available to this credential (plan or permissions): {', '.join(denied)}. "
                f"These streams will fail: {', '.join(affected)}"
            )
            logger.warning(message)
            return True, message
        return True, None

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
        config, _internal = split_config(config)
        settings = _settings(config)
        specs = {spec.name: spec for spec in settings.streams()}
        state_manager = ConnectorStateManager(state=state)
        selected: list[Selected] = []
        states: dict[str, Mapping[str, Any]] = {}
        failures: dict[str, AirbyteTracedException] = {}
        events = False
        for configured in catalog.streams:
            name = configured.stream.name
            if name not in specs:
                failures[name] = AirbyteTracedException(
                    message=f"stream {name!r} is not offered by this source: refresh the schema and remove it",
                    failure_type=FailureType.config_error,
                )
                yield status_message(StreamDescriptor(name=name), AirbyteStreamStatus.INCOMPLETE)
                yield failures[name].as_sanitized_airbyte_message(stream_descriptor=StreamDescriptor(name=name))
                continue
            incremental = configured.sync_mode == SyncMode.incremental
            blob = state_manager.get_stream_state(name, None) if incremental else None
            states[name] = dict(blob) if blob else {}
            if name == EVENTS_STREAM:
                events = True
            else:
                selected.append(Selected(specs[name], incremental))

        controls: list[AirbyteMessage] = []
        rotated_config: MutableMapping[str, Any] = copy.deepcopy(dict(config))

        def on_refresh_token(token: str) -> None:  # called from a worker thread; drained below
            rotated_config.setdefault("credentials", {})["refresh_token"] = token
            controls.append(create_connector_config_control_message(copy.deepcopy(rotated_config)))

        since_state: dict[str, int] = {}
        with HoldedClient(settings.client, on_refresh_token=on_refresh_token) as client:
            try:
                check_basics(client)  # a refused key, a wrong base_url or host: one config error, not one per stream
                engine = SyncEngine(
                    client, selected, states, settings.options, events_models=settings.unified() if events else None
                )
            except HoldedConfigError as exc:  # e.g. a saved state that cannot be read
                raise _config_error(exc) from None
            try:
                for out in engine.run():
                    while controls:
                        yield controls.pop(0)
                    yield from self._to_messages(out, since_state, failures)
            except HoldedAuthError as exc:  # refused mid-run (revoked): one trace naming the credential's field
                refused = credential_refused(exc, settings.client) or exc
                raise AirbyteTracedException(
                    message=str(refused), internal_message=str(exc), failure_type=FailureType.config_error
                ) from None
            while controls:
                yield controls.pop(0)
        if failures:
            config_errors = all(e.failure_type == FailureType.config_error for e in failures.values())
            names = ", ".join(sorted(failures))
            raise AirbyteTracedException(
                message=f"these streams did not complete: {names} (see the errors above); the others did",
                failure_type=FailureType.config_error if config_errors else FailureType.system_error,
            )

    @staticmethod
    def _to_messages(
        out: Any, since_state: dict[str, int], failures: dict[str, AirbyteTracedException]
    ) -> Iterator[AirbyteMessage]:
        if isinstance(out, RecordOut):
            since_state[out.stream] = since_state.get(out.stream, 0) + 1
            record = AirbyteRecordMessage(stream=out.stream, data=out.data, emitted_at=int(time.time() * 1000))
            yield AirbyteMessage(type=Type.RECORD, record=record)
        elif isinstance(out, StateOut):
            count = since_state.pop(out.stream, 0)
            stream_state = AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=out.stream), stream_state=AirbyteStateBlob(out.state)
            )
            message = AirbyteStateMessage(
                type=AirbyteStateType.STREAM, stream=stream_state, sourceStats=AirbyteStateStats(recordCount=count)
            )
            yield AirbyteMessage(type=Type.STATE, state=message)
        elif isinstance(out, StatusOut):
            descriptor = StreamDescriptor(name=out.stream)
            if out.status == "incomplete" and out.error is not None:
                failures[out.stream] = _traced(out.stream, out.error)
                if not isinstance(out.error, HoldedAuthError):  # a refused credential ends the read with one trace
                    yield failures[out.stream].as_sanitized_airbyte_message(stream_descriptor=descriptor)
            yield status_message(descriptor, STATUSES[out.status])
        elif isinstance(out, LogOut):
            yield AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=LEVELS[out.level], message=out.message))


def _traced(stream: str, error: BaseException) -> AirbyteTracedException:
    if isinstance(error, HoldedPermissionError):
        message = (
            f"{stream}: this Holded credential has no access to the module behind it ({error}). "
            "Enable the module for the API key (plan or permissions) or remove the stream."
        )
        return AirbyteTracedException(
            message=message, internal_message=str(error), failure_type=FailureType.config_error
        )
    if isinstance(error, (HoldedAuthError, HoldedConfigError)):
        return AirbyteTracedException(message=f"{stream}: {error}", failure_type=FailureType.config_error)
    return AirbyteTracedException(
        message=f"{stream}: {error}",
        internal_message=repr(error),
        failure_type=FailureType.system_error,
        exception=error if isinstance(error, Exception) else None,
    )
