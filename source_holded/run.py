"""`source-holded` entry point: the Airbyte protocol through the CDK's own launcher."""

import gc
import sys

from airbyte_cdk.entrypoint import launch

from source_holded.source import SourceHolded


def run() -> None:
    # A read allocates millions of short-lived dicts and no long-lived cycles: move what the imports
    # built out of the collector's way and collect the youngest generation less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    launch(SourceHolded(), sys.argv[1:])
