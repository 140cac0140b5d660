"""`source-holded` entry point: the Airbyte protocol through the CDK's own launcher."""

import sys

from airbyte_cdk.entrypoint import launch

from source_holded.source import SourceHolded


def run() -> None:
    launch(SourceHolded(), sys.argv[1:])
