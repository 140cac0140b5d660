"""`holded sync` into DuckDB against PyAirbyte reading the same source into its DuckDB cache.

    .venv/bin/python bench/local_sync.py [--scale 10] [--latency 0] [--repeat 2] [--api-versions v1,v2]

One sandbox (its own process) at `--scale`; in the same run, each `--repeat` times:

- `holded sync` (the real console script, a fresh process, a fresh database) of the ten unified
  streams and `changeEvents`: wall time of the whole process, rows in the database afterwards,
  peak RSS (`os.wait4`); then a second, incremental `holded sync` with nothing changed;
- PyAirbyte (`bench/pyairbyte_read.py` under `.venv-pyairbyte`, `make pyairbyte-env`) reading the
  same streams through `source-holded` into a fresh `DuckDBCache`: wall time of the whole process
  (PyAirbyte's import included, as for `holded`), rows in the cache, peak RSS of PyAirbyte plus the
  source process.

- the raw fetch of the same lists (the in-run baseline of a re-sync): a fresh process that lists every
  page of the Holded listings behind those streams with `HoldedClient` (pages at each resource's
  largest size, one after another) and nothing else: the whole process, and the listing alone.

Both use a rate budget of 1000 requests/s (the sandbox has no limit unless asked). With
`--api-versions v1,v2` the `holded` runs and the raw fetch are repeated through API v2 (the token);
PyAirbyte runs on v1 only. Prints a Markdown table with rows/s, the ratio to PyAirbyte and to the raw
fetch, the requests of each run, then the peak RSS of a first and a second `holded sync` at each
`--memory-scales` scale (a fresh sandbox each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SandboxProcess, machine, sandbox_process

HOLDED = os.path.join(ROOT, ".venv", "bin", "holded")
PYAIRBYTE_PYTHON = os.path.join(ROOT, ".venv-pyairbyte", "bin", "python")


@dataclass
class Run:
    seconds: float
    rows: int
    peak_rss_mib: float
    detail: dict


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, str]:
    """Wall seconds, peak RSS (KiB) of the process and its waited children, stdout, stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **env})
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {stderr[-2000:]}")
    return seconds, usage.ru_maxrss, stdout, stderr


def credentials(sb: SandboxProcess, dialect: str) -> dict[str, str]:
    if dialect == "v2":
        return {"auth_type": "api_token", "token": sb.api_token}
    return {"auth_type": "api_key", "api_key": sb.api_key}


def holded_sync(sb: SandboxProcess, workdir: str, db: str, dialect: str = "v1") -> Run:
    config = os.path.join(workdir, f"config-{dialect}.json")
    with open(config, "w") as fh:
        json.dump({"credentials": credentials(sb, dialect), "requests_per_second": 1000}, fh)
    cmd = [HOLDED, "sync", "--config", config, "--base-url", sb.base_url, "--db", db, "--json", "--no-progress"]
    seconds, rss, stdout, _ = timed(cmd, {"HOLDED_API_KEY": "", "HOLDED_API_TOKEN": ""})
    summary = json.loads(stdout[stdout.index("{") :])
    rows = sum(s["rows"] for s in summary["streams"].values())
    return Run(seconds, rows, rss / 1024, summary)


RAW_FETCH = """
import json, sys, time
from holded_core import HoldedClient
from holded_core.streams import unified_streams
from holded_core.dialects import dialect_named
config = json.loads(sys.argv[1])
listings = {s.listing for s in unified_streams(dialect=dialect_named(config.pop("dialect")))}
started = time.perf_counter()
records = pages = 0
with HoldedClient({**config, "read_ahead": 0}) as client:
    for listing in sorted(listings, key=lambda l: l.path):
        for page in client.iter_pages(listing.path, pagination=listing.pagination, page_size=listing.page_size):
            records += len(page.records)
            pages += 1
    seconds = time.perf_counter() - started
    print(json.dumps({"records": records, "requests": client.stats.requests, "fetch_seconds": seconds}))
"""


def raw_fetch(sb: SandboxProcess, dialect: str) -> Run:
    """The same lists fetched raw, in a fresh process: every page, nothing mapped, nothing stored."""
    config = {"credentials": credentials(sb, dialect), "base_url": sb.base_url, "requests_per_second": 1000}
    cmd = [sys.executable, "-c", RAW_FETCH, json.dumps({**config, "dialect": dialect})]
    seconds, rss, stdout, _ = timed(cmd, {"PYTHONPATH": ROOT})
    line = json.loads(stdout.strip().splitlines()[-1])
    return Run(seconds, line["records"], rss / 1024, line)


def pyairbyte_read(base_url: str, api_key: str, db: str) -> Run:
    cmd = [PYAIRBYTE_PYTHON, os.path.join(ROOT, "bench", "pyairbyte_read.py"), "--base-url", base_url]
    cmd += ["--api-key", api_key, "--db", db]
    seconds, _rss, stdout, _ = timed(cmd, {"AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1"})
    line = json.loads(stdout.strip().splitlines()[-1])
    return Run(seconds, line["rows"], line["peak_rss_mib"], line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--latency", type=float, default=0, help="sandbox latency per request, ms")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--memory-scales", default="1,30", help="also a first and second `holded sync` at these scales")
    parser.add_argument("--api-versions", default="v1", help="v1, v2 or v1,v2: the Holded API the runs speak")
    parser.add_argument("--no-pyairbyte", action="store_true", help="skip the PyAirbyte comparison")
    args = parser.parse_args()
    dialects = [d.strip() for d in args.api_versions.split(",") if d.strip()]
    have_pyairbyte = os.path.exists(PYAIRBYTE_PYTHON) and not args.no_pyairbyte
    if not have_pyairbyte and not args.no_pyairbyte:
        print("(no .venv-pyairbyte: run `make pyairbyte-env` for the comparison)", file=sys.stderr)
    runs: dict[str, list[Run]] = {}
    with sandbox_process(scale=args.scale) as sb, tempfile.TemporaryDirectory() as tmp:
        if args.latency:
            sb.control("PATCH", "faults", latency_ms=args.latency)
        raw_fetch(sb, dialects[0])  # warm-up: the sandbox caches each record's JSON on first serving
        for i in range(args.repeat):
            for dialect in dialects:
                db = os.path.join(tmp, f"holded-{dialect}-{i}.duckdb")
                runs.setdefault(f"raw fetch of the same lists ({dialect})", []).append(raw_fetch(sb, dialect))
                runs.setdefault(f"holded sync ({dialect})", []).append(holded_sync(sb, tmp, db, dialect))
                again = f"holded sync, 2nd run, nothing changed ({dialect})"
                runs.setdefault(again, []).append(holded_sync(sb, tmp, db, dialect))
            if have_pyairbyte:
                pa_db = os.path.join(tmp, f"pa-{i}.duckdb")
                runs.setdefault("PyAirbyte (v1)", []).append(pyairbyte_read(sb.base_url, sb.api_key, pa_db))
    base = statistics.median(r.seconds for r in runs["PyAirbyte (v1)"]) if runs.get("PyAirbyte (v1)") else None
    print(f"Machine: {machine()}")
    print(f"Sandbox scale {args.scale:g}, latency {args.latency:g} ms; median of {args.repeat} runs\n")
    print("| run | rows | requests | seconds | x raw fetch | peak RSS MiB | time vs PyAirbyte |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, results in runs.items():
        seconds = statistics.median(r.seconds for r in results)
        rows = results[-1].rows
        rss = max(r.peak_rss_mib for r in results)
        requests = results[-1].detail.get("requests", "-")
        dialect = name.rsplit("(", 1)[-1].rstrip(")")
        raw = runs.get(f"raw fetch of the same lists ({dialect})")
        vs_raw = f"{seconds / statistics.median(r.seconds for r in raw):.2f}x" if raw else "-"
        ratio = f"{seconds / base:.2f}x" if base else "-"
        extra = ""
        if name.startswith("raw fetch"):
            fetch = statistics.median(r.detail["fetch_seconds"] for r in results)
            extra = f" (listing alone {fetch:.1f} s)"
        print(f"| {name}{extra} | {rows:,} | {requests} | {seconds:.1f} | {vs_raw} | {rss:.0f} | {ratio} |")
    scales = sorted({float(x) for x in args.memory_scales.split(",") if x.strip()} | {args.scale})
    print("\nPeak memory of a first and a second `holded sync` as the account grows (a fresh sandbox each):\n")
    print("| scale | API | rows in DuckDB | first: s | first: peak RSS MiB | second: s | second: peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for scale in scales:
        for dialect in dialects:
            with sandbox_process(scale=scale) as sb, tempfile.TemporaryDirectory() as tmp:
                db = os.path.join(tmp, "h.duckdb")
                try:
                    first = holded_sync(sb, tmp, db, dialect)
                    second = holded_sync(sb, tmp, db, dialect)
                except RuntimeError as exc:
                    print(f"| {scale:g} | {dialect} | failed: {str(exc).splitlines()[-1][:160]} | | | | |")
                    continue
            print(
                f"| {scale:g} | {dialect} | {first.rows:,} | {first.seconds:.1f} | {first.peak_rss_mib:.0f} "
                f"| {second.seconds:.1f} | {second.peak_rss_mib:.0f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
