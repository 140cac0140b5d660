"""`destination-holded` entry point: the Airbyte protocol through the CDK's destination runner."""

import sys

from destination_holded.destination import DestinationHolded


def run() -> None:
    DestinationHolded().run(sys.argv[1:])
