"""What the tap and the target share: config loading, stderr logging, stdout JSON lines, exit codes.

Exit codes follow the `holded` runner: 0 done, 1 the run failed (Holded refused, a stream did not
complete, records refused past the threshold), 2 a usage or config mistake. Every failure ends as one
line on stderr, redacted; only a bug (an exception that is not a HoldedError) adds a traceback, and
that goes through the redacting log filter too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import orjson

from holded_cli.config import LoadedConfig, load_config
from holded_core.adapter import EXIT_FAILED, TokenHandBack, run_command
from holded_core.errors import HoldedConfigError
from holded_core.secrets import get_logger, install_log_redaction, register_secret

log = get_logger("singer_holded")

# Credential fields of the connectors' config format (see source_holded/spec.py).
SECRET_FIELDS = ("api_key", "token", "client_secret", "refresh_token")


class RunFailed(Exception):
    """The run did its best and failed (exit 1); the message says what and what to do."""


def version() -> str:
    try:
        return metadata.version("holded-connector")
    except metadata.PackageNotFoundError:  # running from a checkout without an install
        return "0+unknown"


def setup_logging() -> None:
    """Plain `LEVEL message` lines on stderr (stdout carries the Singer messages), secrets masked."""
    root = logging.getLogger()
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    install_log_redaction("holded_core", "holded_cli", "singer_holded")


def load(path: str | None) -> LoadedConfig:
    """The config file (JSON or YAML, the connectors' format). Unlike the `holded` runner, the environment
    does not override it: under a Singer runner the file it wrote is the whole truth."""
    if not path:
        raise HoldedConfigError("no config: pass --config FILE holding `credentials` (and `base_url`)")
    loaded = load_config(path, env={}, require_credentials=False)
    credentials = loaded.values.get("credentials")
    if isinstance(credentials, Mapping):
        for name in SECRET_FIELDS:
            if isinstance(credentials.get(name), str):
                register_secret(credentials[name])
    for name in ("api_token", "api_key"):  # the top-level shorthands parse_config accepts (Meltano's `api_token`)
        if isinstance(loaded.values.get(name), str):
            register_secret(loaded.values[name])
    return loaded


def read_json(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file given on the command line (`what` names the flag for the message)."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise HoldedConfigError(f"{path}: cannot read the {what} file ({exc.strerror})") from None
    except orjson.JSONDecodeError:
        raise HoldedConfigError(f"{path}: the {what} file is not valid JSON") from None
    if not isinstance(data, dict):
        raise HoldedConfigError(f"{path}: the {what} file must hold a JSON object")
    return data


def token_hand_back(loaded: LoadedConfig) -> TokenHandBack:
    """The client's `on_refresh_token`: a rotated OAuth refresh token is written back to the config file,
    and said on stderr (under Meltano the config file is a temporary copy: the setting must be updated)."""
    return TokenHandBack(loaded.values, save=loaded.token_writer(log.warning, always=True))


class Lines:
    """Singer messages on stdout, one JSON object a line. Buffered; flushed after each state so the
    next process sees it at once."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream or sys.stdout.buffer

    def write(self, message: Mapping[str, Any], flush: bool = False) -> None:
        self.stream.write(orjson.dumps(message, default=str) + b"\n")
        if flush:
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()


def about(name: str, description: str, capabilities: list[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """`--about`, in the shape the Meltano Singer SDK prints (settings as a JSON schema)."""
    return {
        "name": name,
        "description": description,
        "version": version(),
        "capabilities": capabilities,
        "settings": settings,
    }


def command(
    prog: str, show_about: bool, about_text: Callable[[], Mapping[str, Any]], work: Callable[[Lines], None]
) -> int:
    """Both Singer commands' shape: stderr logging, then `--about` or the work on stdout, every failure one line.

    Args:
        prog: the command's name (`tap-holded`, `target-holded`).
        show_about: `--about` was given: print `about_text()` instead of working.
        about_text: what `--about` prints (see `about`).
        work: the command proper, writing Singer messages on the `Lines` it is given.

    Returns:
        The exit code (see `run`).
    """
    setup_logging()

    def body() -> int:
        out = Lines()
        if show_about:
            out.write(about_text(), flush=True)
        else:
            work(out)
        out.flush()
        return 0

    return run(prog, body)


def run(prog: str, body: Callable[[], int]) -> int:
    """Runs a command body, turning every failure into one stderr line and an exit code (see
    `holded_core.adapter.run_command`); a bug also logs its traceback, through the redacting filter."""

    def bug(exc: Exception) -> int:
        log.exception("%s: unexpected error (a bug: please report it with the lines above)", prog)
        return EXIT_FAILED

    return run_command(prog, body, failed=(RunFailed,), on_bug=bug)
