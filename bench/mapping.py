"""The unified mappings alone: microseconds per unified record, per stream, against another checkout's.

    .venv/bin/python bench/mapping.py [--scale 10] [--seed 1] [--repeat 5] [--before PATH/TO/CHECKOUT]

The sandbox (its own process) is listed once through API v1 (`HoldedClient`, every page of the seven
listings the ten unified streams read). The records are then handed, in a fresh process per checkout,
to each unified stream's `StreamSpec.extract` exactly as the sync engine calls it (the account's
contacts as the invoice mapping's person lookup, no `raw`), best of `--repeat` passes in each of two
rounds. With `--before` (a checkout's root folder, e.g. a `git worktree` at the branch point) the same
records go through that checkout's mappings in the same run, the two taking turns, so the ratio is not
the machine's noise. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, sandbox_process

# Run inside the measured checkout (its root first on sys.path): prints {stream: [records, seconds]}.
_MEASURE = """
import json, pickle, sys, time
sys.path.insert(0, sys.argv[1])
from holded_core.streams import unified_streams
lists = pickle.load(open(sys.argv[2], "rb"))
repeat = int(sys.argv[3])
persons = {c["id"]: bool(c.get("isperson")) for c in lists["/invoicing/v1/contacts"]}
out = {}
for spec in unified_streams():
    best, count = float("inf"), 0
    for _ in range(repeat):
        started, count = time.perf_counter(), 0
        for listed in lists[spec.listing.path]:
            for _record in spec.extract(listed, default_currency="EUR", is_person=persons.get,
                                        include_raw=False, problems=[]):
                count += 1
        best = min(best, time.perf_counter() - started)
    out[spec.name] = [count, best]
print(json.dumps(out))
"""


def fetch_lists(scale: float, seed: int) -> dict[str, list[dict]]:
    """Every record of the listings the unified streams read, keyed by the listing's path."""
    from holded_core import HoldedClient
    from holded_core.streams import unified_streams

    lists: dict[str, list[dict]] = {}
    with sandbox_process(scale=scale, seed=seed) as sb:
        config = {"credentials": {"api_key": sb.api_key}, "base_url": sb.base_url, "requests_per_second": 1000}
        with HoldedClient(config) as client:
            for spec in unified_streams():
                listing = spec.listing
                if listing is not None and listing.path not in lists:
                    lists[listing.path] = list(
                        client.iter_records(
                            listing.path, listing.params, pagination=listing.pagination, page_size=listing.page_size
                        )
                    )
    return lists


def measure(checkout: str, data: str, repeat: int) -> dict[str, tuple[int, float]]:
    python = os.path.join(checkout, ".venv", "bin", "python")
    result = subprocess.run(
        [python if os.path.exists(python) else sys.executable, "-c", _MEASURE, checkout, data, str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name: (int(n), float(s)) for name, (n, s) in json.loads(result.stdout).items()}


def _best(seen: dict[str, tuple[int, float]], new: dict[str, tuple[int, float]]) -> dict[str, tuple[int, float]]:
    return {name: min(seen.get(name, value), value, key=lambda v: v[1]) for name, value in new.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", help="another checkout's root folder, measured on the same records")
    args = parser.parse_args()
    lists = fetch_lists(args.scale, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "lists.pkl")
        with open(data, "wb") as fh:
            pickle.dump(lists, fh)
        load = os.getloadavg()[0]
        after: dict[str, tuple[int, float]] = {}
        before: dict[str, tuple[int, float]] = {}
        for _round in range(2):  # the two checkouts take turns, so a busy spell of the machine hits both
            after = _best(after, measure(ROOT, data, args.repeat))
            if args.before:
                before = _best(before, measure(args.before, data, args.repeat))
    print(f"{machine()}; 1-minute load average {load:.2f}")
    command = f"bench/mapping.py --scale {args.scale:g} --seed {args.seed} --repeat {args.repeat}"
    print(f"`.venv/bin/python {command}" + (f" --before {args.before}`" if args.before else "`"))
    print(f"{sum(len(v) for v in lists.values()):,} Holded records\n")
    print("| stream | records | us / record | " + ("before: us / record | after / before |" if before else ""))
    print("|---|---:|---:|" + ("---:|---:|" if before else ""))
    rows = [*after.items(), ("all ten", (sum(n for n, _ in after.values()), sum(s for _, s in after.values())))]
    for name, (count, seconds) in rows:
        line = f"| {name} | {count:,} | {seconds / max(count, 1) * 1e6:.2f} |"
        if before:
            b_count, b_seconds = before.get(name) or (
                sum(n for n, _ in before.values()),
                sum(s for _, s in before.values()),
            )
            line += f" {b_seconds / max(b_count, 1) * 1e6:.2f} | {seconds / b_seconds:.2f} |"
        print(line)


if __name__ == "__main__":
    main()
