"""One registry of secret values, used to scrub log lines and error texts.

Credentials register their secrets when they are built; `redact` replaces any registered value
(and a few obvious header/field patterns) with `****`. A logging filter applies it to every record
of the project's loggers, so a secret cannot reach a log line even through an exception message.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "****"
_lock = threading.Lock()
_secrets: set[str] = set()
# Patterns catch secrets that were never registered (e.g. a token typed into a proxied body).
_PATTERNS = [
    re.compile(
        r"(?i)(['\"]?(?:key|authorization|access_token|refresh_token|client_secret|api_key|token)['\"]?"
        r"\s*[:=]\s*['\"]?(?:bearer\s+)?)([^\s'\",&}]{6,})"
    ),
    # Holded API v2 tokens and webhook signing secrets, wherever they appear.
    re.compile(r"()\b(?:pat|whsec)_[A-Za-z0-9+/=_\-]{6,}"),
]


def register_secret(value: str | None) -> None:
    """Remember a value that must never be printed. Short values are ignored (they would mask text)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def credential_values(config: Any) -> list[str]:
    """Every text value of a config's `credentials` object but its `auth_type`, at any depth and whatever its
    shape: what to mask when a config is quoted back, e.g. by a spec check refusing a misspelt field, where
    only the spec's `airbyte_secret` paths would otherwise be masked. Values shorter than 6 are left out (as
    `register_secret` does: they would mask ordinary text)."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key != "auth_type":
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, str) and len(node) >= 6:
            found.append(node)

    visit(config.get("credentials") if isinstance(config, dict) else None)
    return found


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (args and exception text included) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}"  # exception text is redacted by HoldedError itself; formatted below
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg = redact(message)
        record.args = None
        return True


def get_logger(name: str) -> logging.Logger:
    """A logger whose records are redacted before any handler sees them."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


_installed = False


def install_log_redaction(*logger_names: str) -> None:
    """Attach the redacting filter to the root handlers and the named loggers (idempotent)."""
    global _installed
    names = logger_names or ("holded_core", "holded_sandbox", "source_holded", "destination_holded", "holded_cli")
    redactor = RedactingFilter()
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(redactor)
    if not _installed:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(redactor)
        _installed = True
