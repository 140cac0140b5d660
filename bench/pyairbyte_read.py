"""A PyAirbyte read of source-holded into a DuckDB cache: rows, wall time, peak memory, as one JSON line.

Runs under .venv-pyairbyte (`make pyairbyte-env`), never the main venv, and imports nothing from our
package: the source is the main venv's executable, run by PyAirbyte as a subprocess.

    AIRBYTE_OFFLINE_MODE=1 .venv-pyairbyte/bin/python bench/pyairbyte_read.py \\
        --base-url http://127.0.0.1:8420/api --api-key sandbox-api-key --db /tmp/holded.duckdb

Prints {"rows", "streams", "seconds", "import_seconds", "peak_rss_mib", "peak_rss_mib_self",
"peak_rss_mib_children", ...}: `rows` is what the cache holds afterwards (all selected streams);
`seconds` is `get_source` + `read()` (the source's start-up, the read and PyAirbyte's loading of the
cache), not PyAirbyte's import (`import_seconds`). Peak RSS comes from getrusage: RUSAGE_SELF for this
process, RUSAGE_CHILDREN for the largest finished child; `peak_rss_mib` is their sum, an upper bound of
the two together (their peaks need not coincide). Linux counts in a child's ru_maxrss the RSS its
parent had when it spawned it (fork/vfork, then exec keeps the old high-water mark), so
`peak_rss_mib_children` is at least this process's RSS at the moment PyAirbyte started the source, not
the source's own peak: `source_peak_rss_mib` is that one, the largest VmHWM of this process's children
sampled from /proc every 0.1 s (null where /proc is missing).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNIFIED = (
    "genericContact",
    "genericCompany",
    "genericUser",
    "genericWorkspace",
    "crmPipeline",
    "crmStage",
    "crmOpportunity",
    "crmEngagement",
    "accountingInvoice",
    "accountingInvoiceItem",
)
DEFAULT_STREAMS = (*UNIFIED, "changeEvents")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", required=True, help="Holded API base URL, e.g. http://127.0.0.1:8420/api")
    p.add_argument("--api-key", required=True)
    p.add_argument("--db", required=True, type=Path, help="DuckDB file of the cache (created if missing)")
    p.add_argument(
        "--source-exe", default=str(ROOT / ".venv" / "bin" / "source-holded"), help="source-holded executable"
    )
    p.add_argument("--streams", default=",".join(DEFAULT_STREAMS), help="comma-separated stream names")
    p.add_argument(
        "--requests-per-second", type=float, default=1000, help="the source's rate budget (the sandbox has none)"
    )
    p.add_argument("--full-refresh", action="store_true", help="ignore the cache's saved state")
    return p.parse_args(argv)


def mib(kib: int) -> float:
    return round(kib / 1024, 1)  # Linux reports ru_maxrss and VmHWM in KiB


class ChildPeak:
    """The largest VmHWM (own peak RSS since exec) of this process's children, sampled from /proc."""

    def __init__(self, interval: float = 0.1) -> None:
        self.kib: int | None = 0 if Path("/proc/self/status").exists() else None
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChildPeak:
        if self.kib is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(self._interval):
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if stat.read_text().rpartition(")")[2].split()[1] != me:  # field 4: the parent pid
                        continue
                    for line in (stat.parent / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.kib = max(self.kib or 0, int(line.split()[1]))
                except (OSError, IndexError, ValueError):
                    continue  # the process ended meanwhile


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Offline (no connector registry, no telemetry) and no live progress view, unless the caller says otherwise.
    os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("NO_LIVE_PROGRESS", "1")
    os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(args.db.resolve().parent))  # not `.cache/` in the cwd
    streams = [s.strip() for s in args.streams.split(",") if s.strip()]
    config = {
        "credentials": {"auth_type": "api_key", "api_key": args.api_key},
        "base_url": args.base_url,
        "requests_per_second": args.requests_per_second,
    }

    started = time.perf_counter()
    import airbyte as ab  # here, not at the top: its import is timed apart from the read

    import_seconds = time.perf_counter() - started

    args.db.parent.mkdir(parents=True, exist_ok=True)
    cache = ab.DuckDBCache(db_path=str(args.db), cache_dir=args.db.parent / f"{args.db.name}-files")
    started = time.perf_counter()
    # PyAirbyte prints its progress to stdout: keep stdout for the JSON line.
    with contextlib.redirect_stdout(sys.stderr), ChildPeak() as source_peak:
        source = ab.get_source("source-holded", local_executable=args.source_exe, config=config, streams=streams)
        result = source.read(cache=cache, force_full_refresh=args.full_refresh)
    seconds = time.perf_counter() - started

    per_stream = {stream: len(cache[stream]) for stream in streams}
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = {
        "rows": sum(per_stream.values()),
        "records_read": result.processed_records,
        "streams": per_stream,
        "seconds": round(seconds, 2),
        "import_seconds": round(import_seconds, 2),
        "peak_rss_mib": mib(self_kib + children_kib),
        "peak_rss_mib_self": mib(self_kib),
        "peak_rss_mib_children": mib(children_kib),
        "source_peak_rss_mib": None if source_peak.kib is None else mib(source_peak.kib),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
