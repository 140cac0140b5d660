"""What the Airbyte source and destination share in rendering the core's results as Airbyte messages:
a config mistake as a config-error trace, a `CheckResult` as a connection status. (The Airbyte side of
`holded_core.adapter`; nothing in `holded_core` imports this.)
"""

from __future__ import annotations

from airbyte_cdk.models import AirbyteConnectionStatus, FailureType, Status
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from holded_core.adapter import CheckResult
from source_holded.protocol import Failure


def config_error(exc: Exception) -> AirbyteTracedException:
    """A config mistake (its one-line message names the field and the fix) as Airbyte's config-error trace."""
    return AirbyteTracedException(message=str(exc), internal_message=str(exc), failure_type=FailureType.config_error)


def connection_status(result: CheckResult, note: str | None) -> AirbyteConnectionStatus:
    """`check`'s answer: FAILED with the reason, or SUCCEEDED with `note` (the modules denied, if any).

    The CDK's default wraps the reason in repr(); a plain sentence reads better in the Airbyte UI.
    """
    if not result.ok:
        return AirbyteConnectionStatus(status=Status.FAILED, message=result.error)
    return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=note)


def traced(failure: Failure) -> AirbyteTracedException:
    """A `Failure` (the CDK-free read's error) as the CDK's traced exception, the same trace once emitted."""
    return AirbyteTracedException(
        message=failure.message,
        internal_message=failure.internal_message,
        failure_type=FailureType(failure.failure_type),
        exception=failure.exception,
    )
