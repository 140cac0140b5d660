"""Destination write throughput against the sandbox's rate limit, at 50 ms latency.

    .venv/bin/python bench/dest_write.py [--records 300] [--limit 20] [--latency 50] [--concurrency 4]

The sandbox (own process) answers every request after `--latency` ms and allows `--limit` requests/s
per key (429 + Retry-After beyond). `destination-holded write` (the real console script) creates
`--records` companies, then updates all of them. The plan/lookup overhead (the index of the target
listing built once per sync, matching, diffing) is measured on its own by a dry run of the same input,
and subtracted to give the write phase's writes/s, compared with the limit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, sandbox_process

SCRIPT = str(Path(sys.executable).parent / "destination-holded")


def _input(n: int, email: str) -> str:
    lines = []
    for i in range(n):
        data = {"id": f"bench-{i}", "name": f"Benchmark {i} SL", "email": f"{email}{i}@bench.es"}
        lines.append({"type": "RECORD", "record": {"stream": "genericCompany", "data": data, "emitted_at": 0}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def _run(sb, workdir: Path, stdin: str, limit: float, concurrency: int, dry_run: bool = False) -> tuple[float, int]:
    config = {
        "credentials": {"api_key": sb.api_key},
        "base_url": sb.base_url,
        "requests_per_second": limit * 0.95,  # just under the server's limit
        "concurrency": concurrency,
        "dry_run": dry_run,
    }
    stream = {"name": "genericCompany", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
    catalog = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup"}]}
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    before = sb.control("GET", "stats")["requests"]["total"]
    started = time.perf_counter()
    out = subprocess.run(
        [SCRIPT, "write", "--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")],
        input=stdin, capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(out.stdout[-2000:] + out.stderr[-2000:])
    return seconds, sb.control("GET", "stats")["requests"]["total"] - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--limit", type=float, default=20.0, help="sandbox rate limit, requests/s")
    parser.add_argument("--latency", type=float, default=50.0, help="sandbox latency, ms")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with sandbox_process(scale=0.2) as sb, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sb.control("PATCH", "faults", latency_ms=args.latency, rate_limit_rps=args.limit, rate_limit_burst=1)
        for label, email in (("create", "alta"), ("update", "cambio")):
            stdin = _input(args.records, email)
            plan_s, plan_requests = _run(sb, workdir, stdin, args.limit, args.concurrency, dry_run=True)
            total_s, requests = _run(sb, workdir, stdin, args.limit, args.concurrency)
            throttled = sb.control("GET", "stats")["faults"].get("rate_limit", 0)
            write_s = max(total_s - plan_s, 1e-9)
            writes = requests - plan_requests
            rows.append((label, args.records, total_s, plan_s, plan_requests, write_s, writes, throttled))
    print(f"Machine: {machine()}")
    print(f"Command: .venv/bin/python bench/dest_write.py --records {args.records} --limit {args.limit:g} "
          f"--latency {args.latency:g} --concurrency {args.concurrency}")  # fmt: skip
    print("\n| operation | records | total s | plan/lookup s (dry run) | plan requests | write phase s "
          "| write requests | writes/s | share of the limit | 429s so far |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, total_s, plan_s, plan_requests, write_s, writes, throttled in rows:
        rate = writes / write_s
        print(f"| {label} | {n} | {total_s:.2f} | {plan_s:.2f} | {plan_requests} | {write_s:.2f} | {writes} "
              f"| {rate:.1f} | {rate / args.limit:.0%} | {throttled} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
