"""Webhooks against hourly polling: API requests per day and change-to-DuckDB latency, measured in one run.

    .venv/bin/python bench/webhooks_vs_polling.py [--contacts 10000] [--changes 20] [--per-day 200]

The account: the sandbox (its own process) seeded at the scale that gives `--contacts` contacts (scale 1 is
1,000 contacts; every other model at its usual ratio to them), read through API v2 with its `pat_` token
and the runner's default config (10 requests/s). A first `holded sync` (the ten unified streams and
`changeEvents`) loads a fresh DuckDB file. Then, on that file, in this order:

- webhooks: a `holded webhooks serve` (the real console script, 127.0.0.1, a free port) and Holded's
  webhook for every event pointing at it, made with `holded webhooks register --events all` (which records
  the events in the file, as `holded sync --webhooks` needs). `--changes` (K) contacts are
  changed one after another through `PUT /v2/contacts/{id}` (a new e-mail), `--gap` seconds apart; each
  change's latency runs from the PUT's answer until the receiver's `processed` counter (raised only after
  the row, its change event and its delivery mark are committed) counts it. The API requests the receiver
  spent are the sandbox's count over the phase less the PUTs. The rows and events are checked in the file.
- polling, two ways: K other contacts changed, then `holded sync --streams genericContact,genericCompany`
  (the contacts alone: `changeEvents` would list all ten models); K more, then `holded sync` (the runner's
  default streams). Each is one hourly poll: its requests (the sandbox's count; the run's JSON `requests`
  beside it) and its wall time d (the whole process). Each must find exactly its K changes, and none of
  the webhooks' again. A change made at a moment spread uniformly over the poll interval T waits U(0, T)
  for the next poll, then d: latency mean and median T/2 + d, p95 0.95 T + d, max T + d.
- webhooks on (`holded sync --webhooks`, the runner's reconcile schedule, `reconcile_every` 24h), both
  stream sets: the hourly run (contacts and invoices not due: left to the webhooks) and the daily
  reconciling run (`--reconcile`: everything listed); both must find nothing.

Requests per day: polling `86400 / T` syncs; webhooks `--per-day` changes x the requests per change, plus
the hourly `holded sync --webhooks` runs of a day, one of which reconciles. Prints the syncs measured and
a Markdown table with the ratios webhooks / polling for each stream set.

Every server started here (sandbox, receiver) is stopped on the way out, failures included; neither the
`pat_` token nor the `whsec_` secret is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine
from holded_cli.store import connect
from holded_core.secrets import redact
from holded_sandbox.testing import SandboxProcess, sandbox_process

HOLDED = os.path.join(ROOT, ".venv", "bin", "holded")
CONTACTS_AT_SCALE_1 = 1000  # holded_sandbox/README.md, "Seeded data"
CONTACT_STREAMS = "genericContact,genericCompany"  # changeEvents would list all ten models' resources
TABLE = {True: "genericContact", False: "genericCompany"}
SECRETS = re.compile(r"(pat_|whsec_)[A-Za-z0-9_\-]+")


def clean(text: str) -> str:
    """Text safe to print: no token or signing secret."""
    return SECRETS.sub(r"\1***", redact(text))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- the sandbox ---------------------------------------------------------------------------------


def served(sb: SandboxProcess) -> int:
    """API requests the sandbox answered so far (control routes are not counted)."""
    resp = requests.get(f"{sb.root}/__sandbox__/stats", timeout=30)
    resp.raise_for_status()
    return int(resp.json()["requests"]["total"])


def v2(sb: SandboxProcess, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {sb.api_token}"}
    resp = requests.request(method, f"{sb.base_url}/v2{path}", headers=headers, timeout=60, **kwargs)
    if resp.status_code >= 400:
        raise RuntimeError(f"{method} /v2{path}: HTTP {resp.status_code} {clean(resp.text[:300])}")
    return resp.json() if resp.content else None


def some_contacts(sb: SandboxProcess, n: int) -> list[dict[str, Any]]:
    """The first `n` contacts in Holded's order (before any measurement: these reads are the benchmark's)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while len(found) < n:
        page = v2(sb, "GET", "/contacts", params=params)
        found.extend(page["items"])
        if not page["has_more"]:
            break
        params["cursor"] = page["cursor"]
    if len(found) < n:
        raise SystemExit(f"the account has {len(found)} contacts; {n} are needed (2 x --changes)")
    return found[:n]


def change(sb: SandboxProcess, contact: dict[str, Any], email: str) -> float:
    """A user's change through API v2 (a contact PUT is a full replace: the whole contact goes back with a new
    e-mail). Returns the monotonic time of Holded's answer: the change exists from then on."""
    body = {k: v for k, v in contact.items() if k not in ("id", "created_at", "updated_at")}
    v2(sb, "PUT", f"/contacts/{contact['id']}", json={**body, "email": email})
    return time.monotonic()


# --- the runner ----------------------------------------------------------------------------------


def runner_env(sb: SandboxProcess, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOLDED_")}
    return {**env, "HOLDED_API_TOKEN": sb.api_token, "HOLDED_BASE_URL": sb.base_url, **extra}


@dataclass
class Sync:
    seconds: float
    requests: int  # counted by the sandbox
    reported: int  # the run's JSON `requests`
    summary: dict[str, Any]

    def found(self, kind: str) -> int:
        return sum(s.get(kind, 0) for name, s in self.summary["streams"].items() if name != "changeEvents")


def sync(sb: SandboxProcess, db: str, streams: str | None, *flags: str) -> Sync:
    """One `holded sync --json` (a fresh process, the default config; the default streams unless `streams`)
    with its wall time and requests."""
    before = served(sb)
    cmd = [HOLDED, "sync", "--db", db, "--json", "--no-progress", *(["--streams", streams] if streams else []), *flags]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=runner_env(sb), capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"holded sync failed ({proc.returncode}): {clean(proc.stderr[-2000:])}")
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    return Sync(seconds, served(sb) - before, int(summary["requests"]), summary)


@dataclass
class Receiver:
    process: subprocess.Popen
    url: str
    lines: list[str] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        resp = requests.get(self.url, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def tail(self) -> str:
        return clean("".join(self.lines[-5:]))


@contextmanager
def receiving(sb: SandboxProcess, db: str) -> Iterator[tuple[Receiver, str]]:
    """`holded webhooks serve` on 127.0.0.1 (a free port) and Holded's webhook for every event pointing at it,
    made with `holded webhooks register` (so `holded sync --webhooks` knows the events Holded sends); the
    receiver stopped on the way out (SIGTERM, killed if it hangs) and the webhook removed from the sandbox."""
    # The receiver needs the secret to start and the webhook needs the receiver's URL: reserve the port first.
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/holded"
    secret_file = os.path.join(os.path.dirname(db), "webhook-secret")
    register = [HOLDED, "webhooks", "register", "--url", url, "--events", "all", "--db", db, "--json"]
    done = subprocess.run(
        [*register, "--secret-file", secret_file], env=runner_env(sb), capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"holded webhooks register failed: {clean(done.stderr[-2000:])}")
    made = json.loads(done.stdout)
    with open(secret_file) as fh:
        made["secret"] = fh.read().strip()
    cmd = [HOLDED, "webhooks", "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--secret-file", secret_file],
        env=runner_env(sb),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    receiver = Receiver(proc, url)
    reader: threading.Thread | None = None
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        receiver.lines.append(first)
        if "listening on http://127.0.0.1:" not in first:
            raise RuntimeError(f"holded webhooks serve did not start: {clean(first + proc.stderr.read())}")
        reader = threading.Thread(target=lambda: receiver.lines.extend(iter(proc.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        yield receiver, made["id"]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if reader is not None:
            reader.join(timeout=5)
        requests.delete(f"{sb.root}/__sandbox__/webhooks/{made['id']}", timeout=30)
        if any(made["secret"] in line for line in receiver.lines):
            raise RuntimeError("the receiver printed the signing secret")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the phases ----------------------------------------------------------------------------------


@dataclass
class Webhooks:
    latencies: list[float]  # seconds, change answered -> committed in DuckDB, one per change
    requests: int  # API requests the receiver spent on the changes (the sandbox's count less the PUTs)
    receiver_requests: int  # the receiver's own count
    receiver_latency: float | None  # the receiver's last arrival -> commit


def webhooks_phase(sb: SandboxProcess, db: str, contacts: list[dict[str, Any]], gap: float, timeout: float) -> Webhooks:
    latencies: list[float] = []
    with receiving(sb, db) as (receiver, _hook):
        before = served(sb)
        for i, contact in enumerate(contacts):
            answered = change(sb, contact, f"bench-webhook-{i}@example.es")
            while receiver.status()["processed"] < i + 1:
                if time.monotonic() - answered > timeout:
                    raise RuntimeError(f"change {i} not in DuckDB within {timeout}s; receiver: {receiver.tail()}")
                time.sleep(0.005)
            latencies.append(time.monotonic() - answered)
            time.sleep(gap)
        status = receiver.status()
        spent = served(sb) - before - len(contacts)
    return Webhooks(latencies, spent, int(status["requests"]), status["last_latency_seconds"])


def landed(db: str, contacts: list[dict[str, Any]]) -> list[tuple[str, str | None, int]]:
    """(id, e-mail in its table, its `updated` change events naming the e-mail) for each contact."""
    con = connect(Path(db), read_only=True, wait=10)
    try:
        out = []
        for c in contacts:
            table = TABLE[bool(c["is_person"])]
            row = con.execute(f'SELECT email FROM "{table}" WHERE id = ?', [c["id"]]).fetchone()
            events = con.execute(
                "SELECT count(*) FROM changeEvents WHERE recordId = ? AND type = 'updated' AND changedFields LIKE ?",
                [c["id"], "%email%"],
            ).fetchone()
            out.append((c["id"], row[0] if row else None, int(events[0]) if events else 0))
        return out
    finally:
        con.close()


def check_landed(db: str, contacts: list[dict[str, Any]], prefix: str, what: str) -> None:
    for i, (cid, email, events) in enumerate(landed(db, contacts)):
        if email != f"{prefix}-{i}@example.es" or events != 1:
            raise RuntimeError(f"{what}: contact {cid} has e-mail {email!r} and {events} change events (1 expected)")


# --- report --------------------------------------------------------------------------------------


def fmt_seconds(s: float) -> str:
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.2f} s"


@dataclass
class Row:
    method: str
    unit: str  # how `per_day` is made up
    per_day: float
    latency: dict[str, float]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts in the account (scale = n / 1000)")
    parser.add_argument("--changes", type=int, default=20, help="contact changes measured in each phase (K)")
    parser.add_argument("--per-day", type=int, default=200, help="changes a day in the account")
    parser.add_argument("--interval", type=float, default=3600, help="polling interval, seconds")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between two webhook-phase changes")
    parser.add_argument("--latency", type=float, default=0, help="sandbox latency per API request, ms")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30, help="seconds a change may take to land")
    args = parser.parse_args()
    if args.changes < 1:
        parser.error("--changes must be at least 1")
    k, t = args.changes, args.interval
    scale = args.contacts / CONTACTS_AT_SCALE_1
    started = time.monotonic()
    with sandbox_process("--scale", f"{scale:g}", "--seed", str(args.seed)) as sb, tempfile.TemporaryDirectory() as tmp:
        if args.latency:
            requests.patch(f"{sb.root}/__sandbox__/faults", json={"latency_ms": args.latency}, timeout=30)
        counts = requests.get(f"{sb.root}/__sandbox__/stats", timeout=30).json()["counts"]
        db = os.path.join(tmp, "holded.duckdb")
        first = sync(sb, db, None)
        chosen = some_contacts(sb, 3 * k)
        hooked, lean, full = chosen[:k], chosen[k : 2 * k], chosen[2 * k :]

        hooks = webhooks_phase(sb, db, hooked, args.gap, args.timeout)
        check_landed(db, hooked, "bench-webhook", "webhooks")

        polls: dict[str, Sync] = {}
        for name, streams, contacts in (("contacts", CONTACT_STREAMS, lean), ("default", None, full)):
            for i, contact in enumerate(contacts):
                change(sb, contact, f"bench-poll-{name}-{i}@example.es")
            polls[name] = poll = sync(sb, db, streams, "--no-webhooks")
            if poll.found("changed") != k or poll.found("new") or poll.found("deleted"):
                raise RuntimeError(f"the {name} poll found {poll.summary['streams']}, not just the {k} changes")
        check_landed(db, hooked, "bench-webhook", "webhooks, after the polls")  # never found twice
        check_landed(db, full, "bench-poll-default", "the default poll")
        check_landed(db, lean, "bench-poll-contacts", "the contacts poll (its events at the default poll)")

        # With webhooks on, the hourly sync lists only what Holded sends no events for; once a day
        # (`reconcile_every` 24h) it lists everything. Nothing changed since the polls: nothing is found.
        on: dict[str, Sync] = {}
        for name, streams in (("default", None), ("contacts", CONTACT_STREAMS)):
            on[name] = sync(sb, db, streams, "--webhooks")
            on[f"{name} reconcile"] = sync(sb, db, streams, "--webhooks", "--reconcile")
        for name, run in on.items():
            kept = {n: s.get("source") for n, s in run.summary["streams"].items() if n in TABLE.values()}
            expected = "listing" if name.endswith("reconcile") else "webhooks"
            if set(kept.values()) != {expected} or any(run.found(kind) for kind in ("new", "changed", "deleted")):
                raise RuntimeError(f"`holded sync --webhooks` ({name}): contacts {kept}, {run.summary['streams']}")
    elapsed = time.monotonic() - started

    def polled(d: float) -> dict[str, float]:
        return {"mean": t / 2 + d, "p50": t / 2 + d, "p95": 0.95 * t + d, "max": t + d}

    lat = hooks.latencies
    hook_lat = {"mean": statistics.fmean(lat), "p50": statistics.median(lat), "p95": percentile(lat, 0.95)}
    hook_lat["max"] = max(lat)
    per_change = hooks.requests / k
    syncs_a_day = round(86400 / t)
    every = f"every {t / 60:g} min"
    pairs = []
    for name, label in (("default", "`holded sync`"), ("contacts", f"`holded sync --streams {CONTACT_STREAMS}`")):
        poll, hourly, daily = polls[name], on[name], on[f"{name} reconcile"]
        day = args.per_day * per_change + (syncs_a_day - 1) * hourly.requests + daily.requests
        how = (
            f"{args.per_day} x {per_change:.2f} + {syncs_a_day - 1} x {hourly.requests} "
            f"+ 1 x {daily.requests} (reconcile)"
        )
        polling = Row(f"poll {every}: {label}", f"{syncs_a_day} x {poll.requests}", syncs_a_day * poll.requests,
                      polled(poll.seconds))  # fmt: skip
        hooked_row = Row(f"webhooks: `holded webhooks serve` + {label.rstrip('`')} --webhooks` {every}", how, day,
                         hook_lat)  # fmt: skip
        pairs.append((polling, hooked_row))

    print(f"Machine: {machine()}")
    print(
        f"Sandbox seed {args.seed}, scale {scale:g}: {counts.get('contacts', 0):,} contacts, "
        f"{sum(counts.values()):,} records; API v2 token, the runner's default config (10 requests/s); "
        f"sandbox latency {args.latency:g} ms; {args.per_day} changes a day; K = {k} changes per phase."
    )
    print(
        f"First `holded sync`: {first.requests} requests, {first.seconds:.1f} s. Benchmark wall time {elapsed:.0f} s."
    )
    print(
        f"Webhooks: {hooks.requests} API requests for {k} changes (receiver's own count {hooks.receiver_requests}); "
        f"latency PUT answered -> committed in DuckDB, {k} changes {args.gap:g} s apart (the receiver's own "
        f"arrival -> commit for the last: {hooks.receiver_latency} s)."
    )
    print("Syncs measured (requests counted by the sandbox; the run's JSON `requests` in brackets):\n")
    print("| sync | requests | seconds |")
    print("|---|---:|---:|")
    for name, run in (("poll, default streams", polls["default"]), ("poll, contacts only", polls["contacts"]),
                      *((f"`--webhooks`, {n}", r) for n, r in on.items())):  # fmt: skip
        print(f"| {name} | {run.requests} ({run.reported}) | {run.seconds:.1f} |")
    print(
        "\n| method | requests/day | = | x polling | latency mean | p50 | p95 | max | mean x polling | p95 x polling |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for polling, hooked_row in pairs:
        for row in (polling, hooked_row):
            print(
                f"| {row.method} | {row.per_day:,.0f} | {row.unit} | {row.per_day / polling.per_day:.3f} "
                f"| {fmt_seconds(row.latency['mean'])} | {fmt_seconds(row.latency['p50'])} "
                f"| {fmt_seconds(row.latency['p95'])} | {fmt_seconds(row.latency['max'])} "
                f"| {row.latency['mean'] / polling.latency['mean']:.5f} "
                f"| {row.latency['p95'] / polling.latency['p95']:.5f} |"
            )
    print(
        f"\nPolling latency: a change at a moment uniform over the interval T = {t:g} s waits U(0, T) for the next "
        "poll, then the poll's measured duration d: mean and p50 T/2 + d, p95 0.95 T + d, max T + d. Webhooks' "
        "latency is the contacts' (measured); with webhooks on, the streams Holded sends no events for (leads, "
        "CRM events, projects, employees, funnels) keep the polling latency."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
