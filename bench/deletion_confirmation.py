"""What confirming deletions costs: requests, time and memory of `holded sync` passes that have none,
one real deletion, a mass deletion, and a listing that lies (page 1 of contacts answered empty once).

    .venv/bin/python bench/deletion_confirmation.py [--scale 10] [--repeat 2]

One sandbox (its own process) at `--scale`. A first `holded sync` loads a fresh database; then, each
`--repeat` times and in this order, an incremental `holded sync` (the real console script, a fresh
process) of the ten unified streams and `changeEvents`:

- steady: nothing changed in Holded (the baseline: the listings and nothing else);
- one deletion: one lead deleted through Holded's route (one read by id confirms it);
- mass deletion: 30% of the leads left deleted (past the 20% share: 5 probes, then one read each);
- lying listing: page 1 of contacts answers `[]` once (5 probes find the listing incomplete; nothing
  is deleted). A later repeat starts from the leads the earlier ones left.

Requests are counted by the sandbox, peak RSS is the process's (`os.wait4`). Prints a Markdown table
with each pass's ratio to the steady pass of the same repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SandboxProcess, machine, sandbox_process

HOLDED = os.path.join(ROOT, ".venv", "bin", "holded")


def sync(sb: SandboxProcess, db: str) -> dict:
    """One `holded sync --json`: its summary plus seconds, peak RSS (MiB) and the sandbox's request count."""
    env = {**os.environ, "HOLDED_API_KEY": sb.api_key, "HOLDED_BASE_URL": sb.base_url}
    before = sb.control("GET", "stats")["requests"]["total"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [HOLDED, "sync", "--db", db, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"holded sync failed ({os.waitstatus_to_exitcode(status)})")
    summary = json.loads(out)
    summary["bench"] = {
        "seconds": seconds,
        "rss": usage.ru_maxrss / 1024,
        "requests": sb.control("GET", "stats")["requests"]["total"] - before,
        "deleted": sum(s.get("deleted", 0) for n, s in summary["streams"].items() if n != "changeEvents"),
    }
    return summary


def api(sb: SandboxProcess, method: str, path: str) -> object:
    import requests

    resp = requests.request(method, sb.base_url + path, headers={"key": sb.api_key}, timeout=60)
    resp.raise_for_status()
    return resp.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with sandbox_process(scale=args.scale, seed=1) as sb, tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        sync(sb, db)
        for repeat in range(args.repeat):
            steady = sync(sb, db)["bench"]
            passes = [("steady", steady)]
            leads = api(sb, "GET", "/crm/v1/leads")
            api(sb, "DELETE", f"/crm/v1/leads/{leads[0]['id']}")
            passes.append(("one deletion", sync(sb, db)["bench"]))
            leads = leads[1:]
            for lead in leads[: int(len(leads) * 0.3)]:
                api(sb, "DELETE", f"/crm/v1/leads/{lead['id']}")
            passes.append(("mass deletion (30% of leads)", sync(sb, db)["bench"]))
            empty = {"match": "/invoicing/v1/contacts", "method": "GET", "status": 200, "body": []}
            sb.control("PATCH", "faults", script=[empty])
            passes.append(("lying listing (contacts page 1 empty)", sync(sb, db)["bench"]))
            for name, run in passes:
                rows.append((repeat + 1, name, run, steady))
    print(f"`bench/deletion_confirmation.py --scale {args.scale:g} --repeat {args.repeat}` on {machine()}\n")
    print("| repeat | pass | deleted | requests | x steady | seconds | x steady | peak RSS MiB | x steady |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for repeat, name, run, steady in rows:
        print(
            f"| {repeat} | {name} | {run['deleted']} | {run['requests']} | {run['requests'] / steady['requests']:.2f} "
            f"| {run['seconds']:.1f} | {run['seconds'] / steady['seconds']:.2f} | {run['rss']:.0f} "
            f"| {run['rss'] / steady['rss']:.2f} |"
        )


if __name__ == "__main__":
    main()
