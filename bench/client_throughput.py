"""Baseline: the client's raw list throughput from the sandbox, and the sandbox's own serving rate.

    .venv/bin/python bench/client_throughput.py [--records 20000] [--latencies 0,50] [--read-ahead 4]

For each sandbox latency: (1) the sandbox's serving rate, measured with a bare `requests.Session`
fetching the same pages one after another; (2) `HoldedClient.iter_records` over every page of a
contact list, sequential and with read-ahead. The ratio client / bare request shows the client's own
overhead in the same run. Prints a Markdown table (paste it into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, sandbox_process
from holded_core import PAGE_SIZE, HoldedClient

CONTACTS = "/invoicing/v1/contacts"


def bare_fetch(sb, pages: int) -> tuple[int, float]:
    """One page after another with a bare session: the sandbox's serving rate."""
    session = requests.Session()
    started = time.perf_counter()
    total = 0
    for page in range(1, pages + 2):
        resp = session.get(f"{sb.base_url}{CONTACTS}", params={"page": page}, headers={"key": sb.api_key})
        total += len(resp.json())
    return total, time.perf_counter() - started


def client_fetch(sb, read_ahead: int) -> tuple[int, float]:
    config = {
        "credentials": {"api_key": sb.api_key},
        "base_url": sb.base_url,
        "requests_per_second": 1000,
        "read_ahead": read_ahead,
    }
    with HoldedClient(config) as client:
        started = time.perf_counter()
        total = sum(1 for _ in client.iter_records(CONTACTS))
        return total, time.perf_counter() - started


def best_of(repeat: int, run) -> tuple[int, float]:
    results = [run() for _ in range(repeat)]
    return min(results, key=lambda r: r[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--latencies", default="0,50", help="sandbox latency in ms, comma-separated")
    parser.add_argument("--read-ahead", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is kept")
    args = parser.parse_args()
    pages = args.records // PAGE_SIZE
    rows = []
    with sandbox_process(scale=0.05) as sb:
        sb.control("POST", "fill", collection="contacts", count=args.records)
        bare_fetch(sb, pages)  # warm-up: the sandbox caches each record's JSON on first serving
        for latency in [float(x) for x in args.latencies.split(",")]:
            sb.control("PATCH", "faults", latency_ms=latency)
            bare_n, bare_s = best_of(args.repeat, lambda: bare_fetch(sb, pages))
            seq_n, seq_s = best_of(args.repeat, lambda: client_fetch(sb, 0))
            ahead_n, ahead_s = best_of(args.repeat, lambda: client_fetch(sb, args.read_ahead))
            assert bare_n == seq_n == ahead_n == args.records, (bare_n, seq_n, ahead_n)
            bare_rate = bare_n / bare_s
            rows.append((latency, "sandbox serving (bare requests, sequential)", bare_n / bare_s, 1.0))
            rows.append((latency, "HoldedClient.iter_records, sequential", seq_n / seq_s, seq_n / seq_s / bare_rate))
            rows.append(
                (
                    latency,
                    f"HoldedClient.iter_records, read_ahead={args.read_ahead}",
                    ahead_n / ahead_s,
                    ahead_n / ahead_s / bare_rate,
                )
            )
    print(f"Machine: {machine()}")
    print(
        f"Command: .venv/bin/python bench/client_throughput.py --records {args.records} "
        f"--latencies {args.latencies} --read-ahead {args.read_ahead} --repeat {args.repeat}"
    )
    print(f"{args.records} contacts = {pages} full pages + 1 empty page\n")
    print("| latency (ms) | what | records/s | ratio to bare |")
    print("|---:|---|---:|---:|")
    for latency, what, rate, ratio in rows:
        print(f"| {latency:g} | {what} | {rate:,.0f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
