"""`source-holded read` without `airbyte_cdk`: the CDK launcher's `read`, step for step, in this process.

Importing `airbyte_cdk` (any submodule runs its package `__init__`: the declarative framework, the
serializers of every protocol class) costs 1.3-1.6 s, longer than the rest of a small read. This module and
the ones it imports (`source_holded.protocol`, `.output`, `.reading`, `.inputs`, `.memory`, `holded_core`) never
import it; `integration_tests/test_source_lines.py` checks that a read imports no `airbyte_cdk` module and that
its output is the CDK launcher's on the same inputs. What the CDK's `launch(source, ["read", ...])` does, and
where it is done here:

- arguments: the CDK's parser, the same usage and errors (`parse_args`);
- logging and output (`source_holded.output`): the root logger writes each record as a LOG message, secrets
  masked; `--debug` or `LOG_LEVEL=debug` turns on the `airbyte` loggers' DEBUG records, printed as the CDK
  prints them; stdout and stderr writes land in the same output, in order;
- an uncaught error: a FATAL LOG with its traceback, then an error TRACE (its failure type, the stack
  trace, secrets masked), exit code 1 (`_excepthook`);
- `DEPLOYMENT_MODE=cloud`: requests only to https URLs of public hosts (`_refuse_internal_requests`);
- the memory monitor (`source_holded.memory`);
- the config: read, our shorthand expanded, secrets registered for masking, checked against the spec
  (`source_holded.inputs`); the catalog and the state read in the CDK's order and shapes (the CDK also
  writes the config into a temporary directory it names in `REQUEST_CACHE_PATH`, for its own HTTP
  client's cache: our client has none, so neither is done here);
- the read (`source_holded.reading`): records, STATE messages with `sourceStats.recordCount`, stream
  statuses, error traces, CONTROL messages with a rotated config, written 256 lines to a write.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Callable
from functools import wraps
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from holded_core.secrets import credential_values
from source_holded import inputs
from source_holded.memory import MemoryMonitor
from source_holded.output import Output, Redactor, TextSink, platform_debug, set_up_logging
from source_holded.protocol import CONFIG_ERROR, Failure
from source_holded.reading import ProtocolLines, run_read
from source_holded.spec import SPEC

FLUSH_EVERY = 256  # lines gathered into one write
SOURCE_LOGGER = "airbyte.SourceHolded"  # the CDK names the source's logger after its class


def parse_args(args: list[str]) -> argparse.Namespace:
    """The CDK launcher's command line (`AirbyteEntrypoint.parse_args`): the same commands, options, usage and
    errors (argparse exits with code 2 and the usage on stderr)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", help="enables detailed debug logs related to the sync")
    main = argparse.ArgumentParser()
    commands = main.add_subparsers(title="commands", dest="command")
    commands.add_parser("spec", help="outputs the json configuration specification", parents=[parent])
    helps = {
        "check": "checks the config can be used to connect",
        "discover": "outputs a catalog describing the source's schema",
        "read": "reads the source and outputs messages to STDOUT",
    }
    for name, help_text in helps.items():
        parser = commands.add_parser(name, help=help_text, parents=[parent])
        if name == "read":
            parser.add_argument("--state", type=str, required=False, help="path to the json-encoded state file")
        required = parser.add_argument_group("required named arguments")
        required.add_argument("--config", type=str, required=True, help="path to the json configuration file")
        if name == "read":
            required.add_argument(
                "--catalog", type=str, required=True, help="path to the catalog used to determine which data to read"
            )
        parser.add_argument(
            "--manifest-path", type=str, required=False, help="path to the YAML manifest file to inject into the config"
        )
        parser.add_argument(
            "--components-path", type=str, required=False, help="path to the custom components file, if it exists"
        )
    return main.parse_args(args)


def launch_read(args: list[str]) -> None:
    """Run `source-holded read ...` as the CDK's `launch` runs a read (see the module's docstring).

    Args:
        args: the command line after the program name, `read` first.

    Raises:
        SystemExit: bad arguments (code 2, from argparse).
        Failure, Exception: whatever ends the read; the installed hook prints it and the exit code is 1.
    """
    output, redactor = Output(), Redactor()
    set_up_logging(output, redactor)
    sys.excepthook = _excepthook(output, redactor)
    if os.environ.get("DEPLOYMENT_MODE", "").casefold() == "cloud":
        _refuse_internal_requests()
    monitor = MemoryMonitor()
    parsed = parse_args(args)
    source_logger = logging.getLogger(SOURCE_LOGGER)
    if parsed.debug or platform_debug():
        source_logger.setLevel(logging.DEBUG)
        logging.getLogger("airbyte").setLevel(logging.DEBUG)
        source_logger.debug("Debug logs enabled")
    else:
        source_logger.setLevel(logging.INFO)
    sys.stdout = sys.stderr = TextSink(output)  # type: ignore[assignment]
    try:
        _read(parsed, output, redactor, monitor)
    finally:
        output.flush()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


def _read(parsed: argparse.Namespace, output: Output, redactor: Redactor, monitor: MemoryMonitor) -> None:
    config = inputs.read_config(parsed.config)
    requests = inputs.read_catalog(parsed.catalog)
    saved = inputs.read_state(parsed.state, [r.name for r in requests if r.incremental])
    specification = SPEC["connectionSpecification"]
    redactor.set_values([*inputs.secret_values(specification, config), *credential_values(config)])
    config = inputs.connector_config(config)
    inputs.check_against_spec(config, specification)
    write, check_memory = output.write, monitor.check
    for count, item in enumerate(run_read(ProtocolLines(redactor), config, requests, saved), 1):
        write(item)
        check_memory()
        if count % FLUSH_EVERY == 0 or not item.startswith(b'{"type":"RECORD"'):  # the rest goes out at once
            output.flush()


def _excepthook(
    output: Output, redactor: Redactor
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):  # a developer's ctrl-c: the plain traceback
            sys.__excepthook__(kind, error, tb)
            return
        logging.getLogger("airbyte").fatal(error, exc_info=error)
        output.write(Failure.from_exception(error).trace_line(redactor))
        output.flush()

    return hook


def _refuse_internal_requests() -> None:
    """The CDK's cloud-mode filter (`_init_internal_request_filter`): every request through `requests` (the
    core's client uses it) must be https to a host that resolves to public addresses only."""
    import requests
    from requests import PreparedRequest, Response, Session

    send = Session.send

    @wraps(send)
    def filtered_send(self: Session, request: PreparedRequest, **kwargs: Any) -> Response:
        url = urlparse(request.url)
        if url.scheme != "https":
            raise requests.exceptions.InvalidSchema(
                "Invalid Protocol Scheme: The endpoint that data is being requested from is using an invalid or "
                f"insecure protocol {url.scheme!r}. Valid protocol schemes: https"
            )
        if not url.hostname:
            raise requests.exceptions.InvalidURL(
                "Invalid URL specified: The endpoint that data is being requested from is not a valid URL"
            )
        try:
            private = any(
                ipaddress.ip_address(entry[4][0]).is_private for entry in socket.getaddrinfo(url.hostname, url.port)
            )
        except socket.gaierror as exc:  # an IP address string that is not one (trailing space...)
            raise requests.exceptions.InvalidURL(f"Invalid URL {url}: {exc}") from None
        if private:
            raise Failure(
                internal_message=f"Invalid URL endpoint: `{url.hostname!r}` belongs to a private network",
                failure_type=CONFIG_ERROR,
                message="Invalid URL endpoint: The endpoint that data is being requested from belongs to a private "
                "network. Source connectors only support requesting data from public API endpoints.",
            )
        return send(self, request, **kwargs)

    Session.send = filtered_send  # type: ignore[method-assign]
