"""`holded sync` into DuckDB against PyAirbyte reading the same source into its DuckDB cache.

    .venv/bin/python bench/local_sync.py [--scale 10] [--latency 0] [--repeat 2]

One sandbox (its own process) at `--scale`; in the same run, each `--repeat` times:

- `holded sync` (the real console script, a fresh process, a fresh database) of the ten unified
  streams and `changeEvents`: wall time of the whole process, rows in the database afterwards,
  peak RSS (`os.wait4`); then a second, incremental `holded sync` with nothing changed;
- PyAirbyte (`bench/pyairbyte_read.py` under `.venv-pyairbyte`, `make pyairbyte-env`) reading the
  same streams through `source-holded` into a fresh `DuckDBCache`: wall time of the whole process
  (PyAirbyte's import included, as for `holded`), rows in the cache, peak RSS of PyAirbyte plus the
  source process.

Both use a rate budget of 1000 requests/s (the sandbox has no limit unless asked). Prints a
Markdown table with rows/s and the ratio to PyAirbyte, then the peak RSS of a first `holded sync`
at each `--memory-scales` scale (a fresh sandbox each).
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

from bench.common import ROOT, machine, sandbox_process

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


def holded_sync(base_url: str, api_key: str, workdir: str, db: str) -> Run:
    config = os.path.join(workdir, "config.json")
    with open(config, "w") as fh:
        json.dump({"credentials": {"auth_type": "api_key", "api_key": api_key}, "requests_per_second": 1000}, fh)
    cmd = [HOLDED, "sync", "--config", config, "--base-url", base_url, "--db", db, "--json", "--no-progress"]
    seconds, rss, stdout, _ = timed(cmd, {"HOLDED_API_KEY": ""})
    summary = json.loads(stdout[stdout.index("{") :])
    rows = sum(s["rows"] for s in summary["streams"].values())
    return Run(seconds, rows, rss / 1024, summary)


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
    parser.add_argument("--memory-scales", default="1,30", help="also a first `holded sync` at these scales")
    args = parser.parse_args()
    have_pyairbyte = os.path.exists(PYAIRBYTE_PYTHON)
    if not have_pyairbyte:
        print("(no .venv-pyairbyte: run `make pyairbyte-env` for the comparison)", file=sys.stderr)
    runs: dict[str, list[Run]] = {"holded sync": [], "holded sync, 2nd run (nothing changed)": [], "PyAirbyte": []}
    with sandbox_process(scale=args.scale) as sb, tempfile.TemporaryDirectory() as tmp:
        if args.latency:
            sb.control("PATCH", "faults", latency_ms=args.latency)
        for i in range(args.repeat):
            db = os.path.join(tmp, f"holded-{i}.duckdb")
            runs["holded sync"].append(holded_sync(sb.base_url, sb.api_key, tmp, db))
            runs["holded sync, 2nd run (nothing changed)"].append(holded_sync(sb.base_url, sb.api_key, tmp, db))
            if have_pyairbyte:
                runs["PyAirbyte"].append(pyairbyte_read(sb.base_url, sb.api_key, os.path.join(tmp, f"pa-{i}.duckdb")))
    base = statistics.median(r.seconds for r in runs["PyAirbyte"]) if runs["PyAirbyte"] else None
    print(f"Machine: {machine()}")
    print(f"Sandbox scale {args.scale:g}, latency {args.latency:g} ms; median of {args.repeat} runs\n")
    print("| run | rows in DuckDB | seconds | rows/s | peak RSS MiB | time vs PyAirbyte |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, results in runs.items():
        if not results:
            continue
        seconds = statistics.median(r.seconds for r in results)
        rows = results[-1].rows
        rss = max(r.peak_rss_mib for r in results)
        ratio = f"{seconds / base:.2f}x" if base else "-"
        print(f"| {name} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {rss:.0f} | {ratio} |")
    scales = sorted({float(x) for x in args.memory_scales.split(",") if x.strip()} | {args.scale})
    print("\nPeak memory of a first `holded sync` as the account grows:\n")
    print("| scale | rows in DuckDB | seconds | peak RSS MiB |")
    print("|---:|---:|---:|---:|")
    for scale in scales:
        with sandbox_process(scale=scale) as sb, tempfile.TemporaryDirectory() as tmp:
            run = holded_sync(sb.base_url, sb.api_key, tmp, os.path.join(tmp, "h.duckdb"))
        print(f"| {scale:g} | {run.rows:,} | {run.seconds:.1f} | {run.peak_rss_mib:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
