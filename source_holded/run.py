"""`source-holded` entry point.

`read` runs in `source_holded.launcher`, which never imports `airbyte_cdk` (its import alone costs
1.3-1.6 s, most of a small read's time) and does what the CDK launcher does for a read. `spec`, `check`,
`discover` (and anything else, `--help` included) go through the CDK's own `launch`, imported only then.
"""

from __future__ import annotations

import gc
import sys


def run() -> None:
    """The console script: the command is the first argument (see the module's docstring)."""
    args = sys.argv[1:]
    if args[:1] == ["read"]:
        from source_holded.launcher import launch_read

        # A read allocates millions of short-lived dicts and no long-lived cycles: move what the imports
        # built out of the collector's way and collect the youngest generation less often.
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        launch_read(args)
        return
    from source_holded.source import launch_with_credentials_masked

    launch_with_credentials_masked(args)
