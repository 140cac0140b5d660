"""`destination-holded` entry point. The reverse-ETL destination lands with its own issue."""

import sys


def run() -> None:
    print("destination-holded: not yet available (it lands with the destination issue)", file=sys.stderr)
    sys.exit(2)
