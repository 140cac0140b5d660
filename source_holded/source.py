"""The Airbyte source: spec and check today; the streams land with the source issue."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    Status,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream

from holded_core import DEFAULT_BASE_URL, HoldedClient, HoldedError, parse_config
from holded_core.errors import HoldedConnectionError
from holded_core.modules import probe_modules
from source_holded.spec import SPEC


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
            # A check answers quickly: few retries, so an unreachable host fails in seconds.
            settings = {"max_retries": 2, "max_retry_seconds": 15, **config}
            with HoldedClient(parse_config(settings)) as client:
                access = probe_modules(client)
        except HoldedConnectionError as exc:
            return False, f"cannot reach Holded at {config.get('base_url', DEFAULT_BASE_URL)}: {exc}. Check `base_url`."
        except HoldedError as exc:
            return False, str(exc)
        denied = [name for name, error in access.items() if error is not None]
        if len(denied) == len(access):
            return False, "the credential cannot reach any Holded module; check the plan and API access"
        if denied:
            message = f"connected; not available to this credential (plan or permissions): {', '.join(denied)}"
            logger.warning(message)
            return True, message
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return []
