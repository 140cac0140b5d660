"""Airbyte protocol messages as JSON lines, without `airbyte_cdk` (whose import alone costs over a second).

Each builder returns the line (bytes, newline included) that the CDK's serializer prints for the same
`AirbyteMessage`: the same keys in the same order, None fields left out, timestamps of the same kind (a
float for stream statuses and control messages, integer milliseconds for error traces).
`integration_tests/test_source_lines.py` compares these lines with the CDK launcher's on real reads.

`Failure` is the CDK-free counterpart of the CDK's `AirbyteTracedException`: an error that ends as one
error TRACE message with its failure type (`config_error`, `system_error`, ...).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

CONFIG_ERROR = "config_error"
SYSTEM_ERROR = "system_error"
GENERIC_MESSAGE = "Something went wrong in the connector. See the logs for more details."


def line(message: dict[str, Any]) -> bytes:
    """One protocol message as its output line (orjson, as the CDK serializes)."""
    return orjson.dumps(message) + b"\n"


def log_line(level: str, message: str) -> bytes:
    """A LOG message (`level`: FATAL, ERROR, WARN, INFO, DEBUG or TRACE)."""
    return line({"type": "LOG", "log": {"level": level, "message": message}})


def status_line(stream: str, status: str) -> bytes:
    """A stream status TRACE (`status`: STARTED, RUNNING, COMPLETE or INCOMPLETE).

    Its `emitted_at` is a float, from the local clock as the CDK's `stream_status_utils` takes it.
    """
    status_message = {"stream_descriptor": {"name": stream}, "status": status}
    emitted_at = datetime.now().timestamp() * 1000.0
    trace = {"type": "STREAM_STATUS", "emitted_at": emitted_at, "stream_status": status_message}
    return line({"type": "TRACE", "trace": trace})


def state_line(stream: str, state: dict[str, Any], record_count: float) -> bytes:
    """A per-stream STATE carrying `sourceStats.recordCount` (a double, as the CDK's launcher counts)."""
    stream_state = {"stream_descriptor": {"name": stream}, "stream_state": state}
    state_message = {"type": "STREAM", "stream": stream_state, "sourceStats": {"recordCount": record_count}}
    return line({"type": "STATE", "state": state_message})


def config_control_line(config: dict[str, Any]) -> bytes:
    """A CONTROL message handing the platform an updated config (e.g. a rotated OAuth refresh token)."""
    control = {"type": "CONNECTOR_CONFIG", "emitted_at": time.time() * 1000, "connectorConfig": {"config": config}}
    return line({"type": "CONTROL", "control": control})


class Failure(Exception):
    """An error that ends as one error TRACE message (the CDK's `AirbyteTracedException`, without the CDK).

    Args:
        message: what the user reads (None: a generic sentence).
        internal_message: the technical detail.
        failure_type: `config_error` (the user fixes it), `system_error`, `transient_error`.
        exception: the error whose stack trace the trace carries (default: this one).
        stream: the stream it concerns, if one.
    """

    def __init__(
        self,
        message: str | None = None,
        internal_message: str | None = None,
        failure_type: str = SYSTEM_ERROR,
        exception: BaseException | None = None,
        stream: str | None = None,
    ) -> None:
        super().__init__(internal_message)
        self.message = message
        self.internal_message = internal_message
        self.failure_type = failure_type
        self.exception = exception
        self.stream = stream

    def __str__(self) -> str:
        return self.message if self.message is not None else self.internal_message or ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        """An uncaught error as the trace the CDK's launcher gives it: its own if it is one, else a system error."""
        if isinstance(exc, Failure):
            return exc
        return cls(internal_message=str(exc), exception=exc)

    def trace_line(self, redact: Callable[[str], str]) -> bytes:
        """The error TRACE, its message, internal message and stack trace passed through `redact`."""
        trace_exc = self.exception or self
        stack = redact("".join(traceback.TracebackException.from_exception(trace_exc).format()))
        error: dict[str, Any] = {"message": redact(self.message or GENERIC_MESSAGE)}
        if self.internal_message:
            error["internal_message"] = redact(self.internal_message)
        error["stack_trace"] = stack
        error["failure_type"] = self.failure_type
        if self.stream is not None:
            error["stream_descriptor"] = {"name": self.stream}
        emitted_at = time.time_ns() // 1_000_000
        return line({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": emitted_at, "error": error}})
