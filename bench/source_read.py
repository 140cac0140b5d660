"""`source-holded read` of the unified catalog against the client's raw fetch of the same Holded listings.

    .venv/bin/python bench/source_read.py [--scale 10] [--latencies 0,50] [--memory-scales 1,10] [--repeat 2]
        [--dialects v1,v2] [--settings all|defaults] [--before PATH/TO/source-holded]

The sandbox runs in its own process (`bench.common.sandbox_process`). For each API dialect (`--dialects`:
v1's API key, v2's API token, the same account) and each sandbox latency, in the same run:

- baseline: `HoldedClient.iter_records` over the seven distinct listings the ten unified streams read,
  one after another, no read-ahead, each record written as a JSON line (orjson, into a discarded buffer):
  the raw page fetch (Holded records/s);
- the low-code peer (`bench/lowcode_peer.py`): a declarative CDK source over the same seven lists, run by
  the same airbyte-cdk as a fresh process, emitting the Holded records as listed;
- `.venv/bin/source-holded read` (the real console script, a fresh process each time) of the ten
  unified streams in full_refresh/overwrite, the catalog taken from `source-holded discover`; stdout
  is piped, its RECORD lines counted per stream, then discarded (unified records/s, wall time of the
  whole process including its start-up). Three settings: one request at a time (read_ahead 0,
  stream_concurrency 1), the spec's defaults, and `--read-ahead`/`--streams` (`--settings defaults`:
  the spec's defaults alone);
- with `--before`, another checkout's `source-holded` (the branch point of a change), the same way.

Requests are counted by the sandbox; peak memory is the max RSS of each source process (`os.wait4`).
Memory is also measured at each `--memory-scales` scale (latency 0, default settings), next to the
RSS of `source-holded spec` (interpreter and imports only). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bench.common import ROOT, SandboxProcess, machine, sandbox_process
from bench.lowcode_peer import catalog as peer_catalog
from holded_core import HoldedClient
from holded_core.mappings import MAPPINGS
from holded_core.settings import parse_settings
from source_holded.spec import SPEC

SOURCE = os.path.join(ROOT, ".venv", "bin", "source-holded")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
PEER = os.path.join(ROOT, "bench", "lowcode_peer.py")
UNIFIED = tuple(MAPPINGS)  # the ten unified streams
_PROPS = SPEC["connectionSpecification"]["properties"]
DEFAULTS = (_PROPS["read_ahead"]["default"], _PROPS["stream_concurrency"]["default"])
RECORD_LINE = re.compile(rb'^\{"type":"RECORD","record":\{"stream":"([^"]+)"', re.M)
COMPLETE = re.compile(rb'"stream_descriptor":\{"name":"([^"]+)"\},"status":"COMPLETE"')
ERROR_TRACE = b'"trace":{"type":"ERROR"'


@dataclass
class Run:
    seconds: float
    records: int
    requests: int
    startup: float | None = None  # until the first byte on stdout (process start, imports, first message)
    max_rss_kb: int | None = None
    cpu: float | None = None  # user + system CPU seconds of the source process
    per_stream: Counter[str] = field(default_factory=Counter)


def requests_served(sb: SandboxProcess) -> int:
    return sb.control("GET", "stats")["requests"]["total"]


def credentials(sb: SandboxProcess, dialect: str) -> dict[str, str]:
    if dialect == "v2":
        return {"auth_type": "api_token", "token": sb.api_token}
    return {"auth_type": "api_key", "api_key": sb.api_key}


def listings(sb: SandboxProcess, dialect: str) -> list:
    """The distinct Holded listings the ten unified streams read (seven), in `dialect`."""
    config = {"credentials": credentials(sb, dialect), "base_url": sb.base_url}
    found: list = []
    for spec in parse_settings(config).unified():
        if spec.listing is not None and spec.listing not in found:
            found.append(spec.listing)
    return found


def raw_fetch(sb: SandboxProcess, dialect: str) -> Run:
    """The baseline: every page of the seven listings, one request at a time, each record a JSON line."""
    config = {"credentials": credentials(sb, dialect), "base_url": sb.base_url, "requests_per_second": 1000}
    sb.control("DELETE", "stats")
    sink = io.BytesIO()
    with HoldedClient({**config, "read_ahead": 0}) as client:
        started = time.perf_counter()
        total = 0
        for listing in listings(sb, dialect):
            for record in client.iter_records(listing.path, pagination=listing.pagination, page_size=listing.page_size):
                sink.write(orjson.dumps(record) + b"\n")
                total += 1
                if sink.tell() > 1 << 22:
                    sink.seek(0)
                    sink.truncate()
        seconds = time.perf_counter() - started
    return Run(seconds=seconds, records=total, requests=requests_served(sb))


def peer_read(sb: SandboxProcess, workdir: str, dialect: str) -> Run:
    """The low-code peer (`bench/lowcode_peer.py`) reading the same seven lists, a fresh process."""
    config = {"dialect": dialect, "base_url": sb.base_url, **credentials(sb, dialect)}
    config.pop("auth_type")
    config_path = os.path.join(workdir, f"peer-config-{dialect}.json")
    catalog_path = os.path.join(workdir, "peer-catalog.json")
    with open(config_path, "w") as fh:
        json.dump(config, fh)
    with open(catalog_path, "w") as fh:
        json.dump(peer_catalog(dialect), fh)
    return timed_read(sb, workdir, [PYTHON, PEER, "read", "--config", config_path, "--catalog", catalog_path],
                      "the low-code peer")  # fmt: skip


def timed_read(sb: SandboxProcess, workdir: str, cmd: list[str], what: str, expected: Sequence[str] = ()) -> Run:
    """Run one `read` process against the sandbox (its request count reset first) and measure it.

    Raises:
        RuntimeError: it failed, sent error traces, or left one of `expected` streams incomplete.
    """
    stderr_path = os.path.join(workdir, "stderr.txt")
    sb.control("DELETE", "stats")
    proc = run_process(cmd, stderr_path)
    incomplete = sorted(set(expected) - proc.complete)
    if proc.exit_code != 0 or proc.error_traces or incomplete:
        with open(stderr_path, "rb") as fh:
            stderr = fh.read()[-2000:]
        raise RuntimeError(
            f"{what} read failed (exit {proc.exit_code}, {proc.error_traces} error traces, incomplete "
            f"{incomplete}):\n{proc.tail.decode(errors='replace')}\n{stderr.decode(errors='replace')}"
        )
    return Run(
        seconds=proc.seconds,
        records=sum(proc.records.values()),
        requests=requests_served(sb),
        startup=proc.first_byte,
        max_rss_kb=proc.max_rss_kb,
        cpu=proc.cpu,
        per_stream=proc.records,
    )


def source_config(sb: SandboxProcess, workdir: str, read_ahead: int, concurrency: int, dialect: str = "v1") -> str:
    config = {
        "credentials": credentials(sb, dialect),
        "base_url": sb.base_url,
        "requests_per_second": 1000,
        "read_ahead": read_ahead,
        "stream_concurrency": concurrency,
    }
    path = os.path.join(workdir, f"config-{dialect}-{read_ahead}-{concurrency}.json")
    with open(path, "w") as fh:
        json.dump(config, fh)
    return path


def write_catalog(sb: SandboxProcess, workdir: str) -> str:
    """`source-holded discover`, then the ten unified streams configured full_refresh/overwrite."""
    config = source_config(sb, workdir, *DEFAULTS)
    out = subprocess.run([SOURCE, "discover", "--config", config], capture_output=True, check=True, cwd=ROOT)
    catalogs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith(b'{"type":"CATALOG"')]
    if not catalogs:
        raise RuntimeError(f"discover gave no catalog: {out.stdout[-2000:]!r} {out.stderr[-2000:]!r}")
    streams = {s["name"]: s for s in catalogs[0]["catalog"]["streams"]}
    missing = [name for name in UNIFIED if name not in streams]
    if missing:
        raise RuntimeError(f"discover does not offer {missing}")
    catalog = {
        "streams": [
            {"stream": streams[name], "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for name in UNIFIED
        ]
    }
    path = os.path.join(workdir, "catalog.json")
    with open(path, "w") as fh:
        json.dump(catalog, fh)
    return path


@dataclass
class Proc:
    seconds: float
    first_byte: float | None  # seconds until the first byte on stdout
    exit_code: int
    max_rss_kb: int
    cpu: float
    records: Counter[str]  # RECORD lines per stream
    complete: set[str]  # streams with a COMPLETE status
    error_traces: int
    tail: bytes  # the end of stdout, for error reports


def run_process(args: list[str], stderr_path: str) -> Proc:
    """One fresh process, stdout piped and consumed chunk by chunk (RECORD lines counted, then dropped)."""
    records: Counter[str] = Counter()
    complete: set[str] = set()
    errors = 0
    tail = pending = b""
    first: float | None = None
    with open(stderr_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(1 << 20):
            if first is None:
                first = time.perf_counter() - started
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            block, pending = data[:cut], data[cut:]
            records.update(m.decode() for m in RECORD_LINE.findall(block))
            complete.update(m.decode() for m in COMPLETE.findall(block))
            errors += block.count(ERROR_TRACE)
            tail = (tail + block)[-4000:]
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (ru_maxrss in KiB on Linux)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        proc.stdout.close()
    cpu = usage.ru_utime + usage.ru_stime
    return Proc(seconds, first, proc.returncode, usage.ru_maxrss, cpu, records, complete, errors, tail + pending)


def source_read(
    sb: SandboxProcess,
    workdir: str,
    catalog: str,
    read_ahead: int,
    concurrency: int,
    dialect: str = "v1",
    source: str = SOURCE,
) -> Run:
    config = source_config(sb, workdir, read_ahead, concurrency, dialect)
    return timed_read(sb, workdir, [source, "read", "--config", config, "--catalog", catalog], source, UNIFIED)


def spec_run(workdir: str, source: str = SOURCE) -> Proc:
    """`source-holded spec`: start-up alone (the interpreter with the connector and the CDK imported)."""
    return min(
        (run_process([source, "spec"], os.path.join(workdir, "stderr.txt")) for _ in range(2)), key=lambda p: p.seconds
    )


def empty_read(sb: SandboxProcess, workdir: str, source: str = SOURCE) -> Proc:
    """`source-holded read` of a catalog with no stream: a read's start-up alone (imports, inputs checked,
    the basics check's requests), best of 2."""
    config = source_config(sb, workdir, *DEFAULTS)
    catalog = os.path.join(workdir, "empty-catalog.json")
    with open(catalog, "w") as fh:
        json.dump({"streams": []}, fh)
    args = [source, "read", "--config", config, "--catalog", catalog]
    runs = [run_process(args, os.path.join(workdir, "stderr.txt")) for _ in range(2)]
    if any(run.exit_code != 0 for run in runs):
        raise RuntimeError(f"{source}: a read of nothing failed: {runs[0].tail.decode(errors='replace')}")
    return min(runs, key=lambda p: p.seconds)


def best_of(repeat: int, run) -> tuple[Run, list[Run]]:
    runs = [run() for _ in range(repeat)]
    records = {r.records for r in runs}
    assert len(records) == 1, f"record counts differ between runs: {records}"
    return min(runs, key=lambda r: r.seconds), runs


def mib(kb: int | None) -> str:
    return "" if kb is None else f"{kb / 1024:,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10, help="sandbox scale of the throughput runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latencies", default="0,50", help="sandbox latency in ms, comma-separated")
    parser.add_argument("--dialects", default="v1", help="Holded APIs read: v1, v2 or v1,v2")
    parser.add_argument("--settings", choices=("all", "defaults"), default="all", help="source settings run")
    parser.add_argument("--read-ahead", type=int, default=4, help="the third source setting's read_ahead")
    parser.add_argument("--streams", type=int, default=3, help="the third source setting's stream_concurrency")
    parser.add_argument("--before", help="another checkout's source-holded console script, run the same way")
    parser.add_argument("--memory-scales", default="1,10", help="sandbox scales of the memory runs (latency 0)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the fastest is kept")
    args = parser.parse_args()
    settings = [DEFAULTS] if args.settings == "defaults" else [(0, 1), DEFAULTS]
    if args.settings == "all" and (args.read_ahead, args.streams) not in settings:
        settings.append((args.read_ahead, args.streams))
    names = {(0, 1): "one request at a time", DEFAULTS: "spec defaults"}
    sources = [("", SOURCE)] + ([("before: ", args.before)] if args.before else [])
    dialects = args.dialects.split(",")
    # dialect, latency, what, settings, run, time / raw, time / peer, speed-up vs one at a time
    rows: list[tuple[str, float, str, tuple[int, int] | None, Run, float, float | None, float | None]] = []
    memory: dict[float, Run] = {}
    per_stream: Counter[str] = Counter()
    holded_records = 0
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-source-read-") as workdir:
        spec = spec_run(workdir)
        with sandbox_process(scale=args.scale, seed=args.seed) as sb:
            catalog = write_catalog(sb, workdir)
            startups = [
                (prefix, spec_run(workdir, source), empty_read(sb, workdir, source)) for prefix, source in sources
            ]
            raw_fetch(sb, "v1")  # warm-up: the sandbox caches each record's JSON on first serving
            for dialect in dialects:
                for latency in [float(x) for x in args.latencies.split(",")]:
                    sb.control("PATCH", "faults", latency_ms=latency)
                    raw, _ = best_of(args.repeat, lambda d=dialect: raw_fetch(sb, d))
                    holded_records = raw.records
                    rows.append(
                        (
                            dialect,
                            latency,
                            "raw fetch: HoldedClient.iter_records + JSON lines, 7 listings",
                            (0, 1),
                            raw,
                            1.0,
                            None,
                            None,
                        )
                    )
                    peer, _ = best_of(args.repeat, lambda d=dialect: peer_read(sb, workdir, d))
                    assert peer.records == raw.records, f"the peer read {peer.records}, the raw fetch {raw.records}"
                    rows.append(
                        (
                            dialect,
                            latency,
                            "low-code peer (declarative CDK source, same lists)",
                            None,
                            peer,
                            peer.seconds / raw.seconds,
                            1.0,
                            None,
                        )
                    )
                    for prefix, source in sources:
                        sequential: Run | None = None
                        for read_ahead, concurrency in settings:
                            best, runs = best_of(
                                args.repeat,
                                lambda ra=read_ahead, sc=concurrency, d=dialect, src=source: source_read(
                                    sb, workdir, catalog, ra, sc, d, src
                                ),
                            )
                            best.max_rss_kb = max(r.max_rss_kb or 0 for r in runs)
                            per_stream = best.per_stream
                            sequential = sequential or best
                            setting = names.get((read_ahead, concurrency), "more concurrency")
                            what = f"{prefix}source-holded read, {setting}"
                            speed_up = sequential.seconds / best.seconds if len(settings) > 1 else None
                            rows.append(
                                (
                                    dialect,
                                    latency,
                                    what,
                                    (read_ahead, concurrency),
                                    best,
                                    best.seconds / raw.seconds,
                                    best.seconds / peer.seconds,
                                    speed_up,
                                )
                            )
                            if (
                                dialect == dialects[0]
                                and latency == 0
                                and (read_ahead, concurrency) == DEFAULTS
                                and not prefix
                            ):
                                memory[args.scale] = best
        for scale in [float(x) for x in args.memory_scales.split(",") if x]:
            if scale in memory:
                continue
            with sandbox_process(scale=scale, seed=args.seed) as sb:
                raw_fetch(sb, "v1")  # warm-up
                memory[scale] = source_read(sb, workdir, catalog, *DEFAULTS)
    elapsed = time.perf_counter() - started

    print(f"Machine: {machine()}")
    print(
        f"Command: .venv/bin/python bench/source_read.py --scale {args.scale:g} --latencies {args.latencies} "
        f"--dialects {args.dialects} --settings {args.settings} --read-ahead {args.read_ahead} "
        f"--streams {args.streams} --memory-scales {args.memory_scales} --repeat {args.repeat}"
        + (f" --before {args.before}" if args.before else "")
    )
    print(
        f"Took {elapsed:.0f} s; 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after. "
        f"Best of {args.repeat} runs each (peak RSS: the highest of them)."
    )
    print(f"Start-up alone (`source-holded spec`, best of 2): {spec.seconds:.2f} s")
    print("\n| start-up (best of 2) | `spec` seconds | `read` of no stream seconds | peak RSS of that read (MiB) |")
    print("|---|---:|---:|---:|")
    for prefix, spec_proc, empty in startups:
        print(
            f"| {prefix or 'after: '}source-holded | {spec_proc.seconds:.2f} | {empty.seconds:.2f} "
            f"| {mib(empty.max_rss_kb)} |"
        )
    print(
        f"\nSandbox scale {args.scale:g}, seed {args.seed}: {holded_records:,} Holded records in the 7 listings -> "
        f"{sum(per_stream.values()):,} unified records ("
        + ", ".join(f"{name} {per_stream[name]:,}" for name in UNIFIED)
        + ")\n"
    )
    print(
        "| API | latency (ms) | what | read_ahead / streams | requests | records | seconds (first output at) | CPU s "
        "| records/s | time / raw fetch | time / low-code peer | speed-up vs one at a time | peak RSS (MiB) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dialect, latency, what, setting, run, ratio, vs_peer, speed_up in rows:
        cpu = "" if run.cpu is None else f"{run.cpu:.2f}"
        seconds = f"{run.seconds:.2f}" + (f" ({run.startup:.2f})" if run.startup is not None else "")
        shown = "" if setting is None else f"{setting[0]} / {setting[1]}"
        print(
            f"| {dialect} | {latency:g} | {what} | {shown} | {run.requests} | {run.records:,} | {seconds} | {cpu} "
            f"| {run.records / run.seconds:,.0f} | {ratio:.2f} | {'' if vs_peer is None else f'{vs_peer:.2f}'} "
            f"| {'' if speed_up is None else f'{speed_up:.2f}x'} | {mib(run.max_rss_kb)} |"
        )
    if memory:
        print(
            f"\nPeak memory, latency 0, spec defaults (read_ahead {DEFAULTS[0]}, stream_concurrency {DEFAULTS[1]}):\n"
        )
        print("| sandbox scale | unified records | seconds | peak RSS (MiB) |")
        print("|---:|---:|---:|---:|")
        print(f"| `source-holded spec` (start-up only) | | {spec.seconds:.2f} | {mib(spec.max_rss_kb)} |")
        for scale in sorted(memory):
            run = memory[scale]
            print(f"| {scale:g} | {run.records:,} | {run.seconds:.2f} | {mib(run.max_rss_kb)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
