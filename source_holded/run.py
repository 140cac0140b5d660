"""`source-holded` entry point: the Airbyte protocol through the CDK's own launcher.

`spec`, `check` and `discover` go through the CDK's `launch` as they are. `read` goes through
`LineEntrypoint`: the CDK launcher's own steps (config read, configured and checked against the spec,
secrets registered for redaction, catalog and state read, the memory monitor, queued messages), except
that each RECORD comes from `SourceHolded.read_lines` already rendered as its protocol line and is written
as it is; every other message is serialized by the CDK as usual. The lines are the ones `launch` would
print (a test compares both); a read emits about three records per Holded record, and building, counting
and serializing two protocol objects per record was most of what the source spent beyond Holded's pages.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import tempfile
from argparse import Namespace

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH

from source_holded.source import SourceHolded

FLUSH_EVERY = 256  # record lines gathered into one write


class LineEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, whose `read` writes the source's pre-rendered record lines itself."""

    source: SourceHolded

    def run_read(self, parsed_args: Namespace) -> None:
        """The CDK's `run` for the `read` command (same steps, same order), writing to stdout's buffer."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
        else:
            self.logger.setLevel(logging.INFO)
        stdout = sys.__stdout__.buffer  # type: ignore[union-attr]
        pending: list[bytes] = []

        def flush() -> None:
            if PRINT_BUFFER.buffer.tell():  # log lines printed before these lines go first
                PRINT_BUFFER.flush()
            if pending:
                stdout.write(b"".join(pending))
                pending.clear()

        def message(msg: AirbyteMessage) -> None:
            pending.append(self.airbyte_message_to_string(msg).encode() + b"\n")
            flush()

        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir
                raw_config = self.source.read_config(parsed_args.config)
                config = self.source.configure(raw_config, temp_dir)
                for queued in self._emit_queued_messages(self.source):
                    message(queued)
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                self.set_up_secret_filter(config, source_spec.connectionSpecification)
                if self.source.check_config_against_spec:
                    self.validate_connection(source_spec, config)
                check_memory = self._memory_monitor.check_memory_usage
                for item in self.source.read_lines(self.logger, config, catalog, state):
                    check_memory()
                    if type(item) is bytes:
                        pending.append(item)
                        if len(pending) >= FLUSH_EVERY:
                            flush()
                    else:
                        message(item)
                for queued in self._emit_queued_messages(self.source):
                    message(queued)
        finally:
            flush()
            for queued in self._emit_queued_messages(self.source):
                message(queued)
            stdout.flush()


def run() -> None:
    # A read allocates millions of short-lived dicts and no long-lived cycles: move what the imports
    # built out of the collector's way and collect the youngest generation less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    args = sys.argv[1:]
    source = SourceHolded()
    if args[:1] != ["read"]:
        launch(source, args)
        return
    entrypoint = LineEntrypoint(source)
    parsed = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        entrypoint.run_read(parsed)
