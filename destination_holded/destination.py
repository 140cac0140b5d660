"""The Airbyte destination: reverse ETL into Holded through `holded_core.writes.Writer`.

Each configured stream's `destination_sync_mode` picks the operation (append: create, append_dedup
and overwrite: upsert, update: update, soft_delete: delete); a record's `_op` overrides it and a
tombstone (`_ab_cdc_deleted_at` set) deletes. Records are applied in arrival order through the core's
`Push` (shared with `holded push`); a state message is echoed only once every record before it was
applied or rejected and recorded (so it waits while an invoice asked to be approved waits for its lines).
On an API v2 token, the permissions the configured catalog's writes need (`.write` and `.read` of each
stream's resource) are probed first: one lacking ends the write with a config_error naming each
permission and the streams it blocks, before any record is read (`holded_core.permissions.require`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.config_observation import create_connector_config_control_message
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
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_holded.spec import SPEC
from holded_core import HoldedClient
from holded_core.adapter import TokenHandBack, check
from holded_core.basics import check_basics
from holded_core.config import expand_shorthand
from holded_core.errors import HoldedConfigError
from holded_core.permissions import require
from holded_core.push import Outcome, Push, PushOptions
from holded_core.secrets import credential_values
from holded_core.settings import parse_settings
from source_holded.airbyte import config_error, connection_status

MODE_OPS = {
    DestinationSyncMode.append: "create",
    DestinationSyncMode.append_dedup: "upsert",
    DestinationSyncMode.overwrite: "upsert",
    DestinationSyncMode.update: "update",
    DestinationSyncMode.soft_delete: "delete",
}
LEVELS = {"INFO": Level.INFO, "WARN": Level.WARN}


class DestinationHolded(Destination):
    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The config file, a top-level `api_token` / `api_key` taken as its `credentials` (before the CDK
        checks the config against the spec, which requires `credentials`)."""
        return expand_shorthand(Destination.read_config(config_path))

    def run_cmd(self, parsed_args: Any) -> Iterable[AirbyteMessage]:
        """The CDK's `run_cmd`, with every value under the config's `credentials` masked too.

        The CDK registers only the spec's `airbyte_secret` paths, after `read_config`, replacing any list
        registered before; a spec check refusing a misspelt credential field quotes the whole object (the
        value was printed in clear). So the values are added once the CDK has registered its own: to its
        failed-check status before it goes out, and to the list before a refused write's error propagates."""
        values: list[str] = []
        if getattr(parsed_args, "config", None):
            try:
                values = credential_values(self.read_config(parsed_args.config))
            except Exception:  # an unreadable file: the CDK's own read says so below
                values = []
        registered = False
        try:
            for message in super().run_cmd(parsed_args):
                if not registered:
                    for value in values:
                        add_to_secrets(value)
                    registered = True
                status = message.connectionStatus if message.type == Type.CONNECTION_STATUS else None
                if status is not None and status.message:
                    status.message = filter_secrets(status.message)
                yield message
        except Exception:
            for value in values:
                add_to_secrets(value)
            raise

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        result = check(config, writes=True)  # an API v2 token: the .write and .read permissions writes need
        return connection_status(result, result.write_note)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        _require_permissions(config, configured_catalog)
        try:
            settings = parse_settings(config)
            options = PushOptions.from_config(config)
        except HoldedConfigError as exc:
            raise config_error(exc) from None
        modes = {c.stream.name: MODE_OPS.get(c.destination_sync_mode, "upsert") for c in configured_catalog.streams}
        since_state = 0
        tokens = TokenHandBack(config)  # a rotated OAuth refresh token goes back to Airbyte as a CONTROL message

        def controls() -> Iterator[AirbyteMessage]:
            for rotated in tokens.drain():
                yield create_connector_config_control_message(rotated)

        client = HoldedClient(settings.client, on_refresh_token=tokens)
        with client, Push(client, settings, options) as push:
            try:  # a refused key, a wrong base_url or host: one config error before any record is read
                check_basics(client)
            except HoldedConfigError as exc:
                raise config_error(exc) from None

            def report(outcomes: Iterable[Outcome]) -> Iterator[AirbyteMessage]:
                for outcome in outcomes:
                    line = outcome.describe(options.dry_run)
                    if line is not None:
                        yield _log(LEVELS[line[0]], line[1])

            for message in input_messages:
                yield from controls()
                if message.type == Type.STATE:
                    # Echoed only once every record before it is applied or rejected and recorded (an
                    # invoice held for its lines holds the states after it: see holded_core.push).
                    yield from report(push.settle())
                    message.state.destinationStats = AirbyteStateStats(recordCount=float(since_state))
                    since_state = 0
                    push.hold_state(message)
                    yield from push.released()
                    continue
                if message.type != Type.RECORD:
                    continue
                push.submit(message.record.stream, message.record.data, modes.get(message.record.stream, "upsert"))
                since_state += 1
                yield from report(push.finished())
            yield from report(push.drain())
            yield from push.released()
            yield from controls()
        yield _log(Level.INFO, f"write finished: {push.summary()}")
        failure = push.failure()
        if failure:
            raise AirbyteTracedException(message=failure, failure_type=FailureType.config_error)


def _require_permissions(config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog) -> None:
    """An API v2 token lacking a permission the catalog's writes need: refused before anything is written.

    Raises:
        AirbyteTracedException: config_error naming each missing permission and the streams it blocks
            (or the config mistake / refused token found on the way).
    """
    try:
        settings = parse_settings(config)
        if settings.client.dialect == "v2":  # v1 keys carry no permissions: nothing to probe
            with HoldedClient(settings.client) as client:
                require(client, writes=[c.stream.name for c in catalog.streams])
    except HoldedConfigError as exc:
        raise config_error(exc) from None


def _log(level: Level, message: str) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=message))
