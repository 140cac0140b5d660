"""The `read` launcher's output (`source_holded.launcher`), without `airbyte_cdk`: protocol lines written in
order from any thread, log records as the CDK's `AirbyteLogFormatter` prints them, secrets masked as the CDK's
`filter_secrets` and the core's `redact` mask them, and stray prints (stdout, stderr) in the same output, as the
CDK's `PrintBuffer` has them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import Any

from holded_core.secrets import redact
from source_holded.protocol import line

LEVELS = {logging.CRITICAL: "FATAL", logging.ERROR: "ERROR", logging.WARNING: "WARN", logging.INFO: "INFO"}


class Output:
    """The process's stdout as protocol lines, gathered and written in order (from any thread)."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._out = sys.__stdout__.buffer  # type: ignore[union-attr]

    def write(self, data: bytes) -> None:
        """Queue bytes for the next `flush`, from any thread (the list is never replaced, only emptied from
        the front, and appending is atomic: the records' path takes no lock)."""
        self._pending.append(data)

    def flush(self) -> None:
        """Write what is queued, in order, through to the file descriptor."""
        with self._lock:
            pending = self._pending
            count = len(pending)
            if count:
                self._out.write(b"".join(pending[:count]))
                del pending[:count]  # what another thread appended meanwhile stays for the next flush
            self._out.flush()


class TextSink:
    """`sys.stdout` / `sys.stderr` during a read: a library's print lands in the output, in order, as the
    CDK's `PrintBuffer` has it (which sends both there too)."""

    def __init__(self, output: Output) -> None:
        self._output = output

    def write(self, text: str) -> int:
        self._output.write(text.encode())
        self._output.flush()
        return len(text)

    def flush(self) -> None:
        self._output.flush()


class Redactor:
    """Masks secrets as the CDK's `filter_secrets` does (each secret value of the config), then as the core
    does (its registered credentials and token patterns)."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def set_values(self, values: list[Any]) -> None:
        """The config's secret values (longest first, so that no secret is left half masked)."""
        self.values = sorted({str(v) for v in values if v}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "****")
        return redact(text)


class LogFormatter(logging.Formatter):
    """The CDK's `AirbyteLogFormatter`: a record as a LOG message line (without its newline), secrets masked.

    DEBUG records are printed as the CDK prints them: a LOG message when `LOG_LEVEL=debug` (the platform's
    debug mode), else a `{"type": "DEBUG", ...}` JSON line with the record's extra fields (`--debug`).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.DEBUG:
            extras = _extras(record)
            if platform_debug():
                message = f"{self.redactor(record.getMessage())} ///\nExtra logs: {self.redactor(json.dumps(extras))}"
                return line({"type": "LOG", "log": {"level": "DEBUG", "message": message}})[:-1].decode()
            return self.redactor(json.dumps({"type": "DEBUG", "message": record.getMessage(), "data": extras}))
        message = self.redactor(super().format(record))
        level = LEVELS.get(record.levelno, "INFO")
        return line({"type": "LOG", "log": {"level": level, "message": message}})[:-1].decode()


_DEFAULT_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, None, None, None).__dict__)


def _extras(record: logging.LogRecord) -> dict[str, str]:
    return {k: str(v) for k, v in record.__dict__.items() if k not in _DEFAULT_RECORD_KEYS}


def platform_debug() -> bool:
    return os.environ.get("LOG_LEVEL", "info").lower() == "debug"


class _OutputHandler(logging.Handler):
    def __init__(self, output: Output, formatter: LogFormatter) -> None:
        super().__init__()
        self.output = output
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.output.write(self.format(record).encode() + b"\n")
            self.output.flush()
        except Exception:
            self.handleError(record)


def set_up_logging(output: Output, redactor: Redactor) -> None:
    """The CDK's `init_logger("airbyte")`: one handler on the root logger (each record as a line of `output`,
    secrets masked by `redactor`), the `airbyte` logger at INFO."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.addHandler(_OutputHandler(output, LogFormatter(redactor)))
    logging.getLogger("airbyte").setLevel(logging.INFO)
