"""`source_holded.memory.MemoryMonitor` against the CDK's own `MemoryMonitor`, on the same fake cgroup files:
the same messages raise, at the same message, with the same text (no cgroup limit on a laptop or in CI, so
only these tests see it act)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from airbyte_cdk.utils import memory_monitor as cdk_memory
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_holded import memory
from source_holded.protocol import Failure

GB = 1_000_000_000


def _cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usage: int, limit: str, anon: int | None) -> None:
    current, maximum, stat = tmp_path / "memory.current", tmp_path / "memory.max", tmp_path / "memory.stat"
    current.write_text(f"{usage}\n")
    maximum.write_text(f"{limit}\n")
    stat.write_text("file 10\n" + (f"anon {anon}\n" if anon is not None else ""))
    missing = tmp_path / "missing"
    monkeypatch.setattr(memory, "CGROUP_V2", (current, maximum))
    monkeypatch.setattr(memory, "CGROUP_V2_STAT", stat)
    monkeypatch.setattr(memory, "PROC_STATUS", missing)
    monkeypatch.setattr(cdk_memory, "_CGROUP_V2_CURRENT", current)
    monkeypatch.setattr(cdk_memory, "_CGROUP_V2_MAX", maximum)
    monkeypatch.setattr(cdk_memory, "_CGROUP_V2_STAT", stat)
    monkeypatch.setattr(cdk_memory, "_PROC_SELF_STATUS", missing)


def _first_raise(check, messages: int) -> tuple[int, str] | None:
    for n in range(1, messages + 1):
        try:
            check()
        except (Failure, AirbyteTracedException) as exc:
            return n, f"{exc.message} | {exc.internal_message}"
    return None


@pytest.mark.parametrize(
    "usage, limit, anon",
    [
        (int(1.96 * GB), str(2 * GB), int(1.9 * GB)),  # near the limit, mostly the process's own: raise
        (int(1.96 * GB), str(2 * GB), int(0.5 * GB)),  # near the limit, mostly page cache: do not
        (int(1.96 * GB), str(2 * GB), None),  # no anonymous-memory signal: do not
        (int(1.85 * GB), str(2 * GB), int(1.8 * GB)),  # high pressure, below the critical share
        (int(1.0 * GB), str(2 * GB), int(0.9 * GB)),  # plenty left
        (int(1.96 * GB), "max", int(1.9 * GB)),  # no limit
    ],
    ids=["raise", "page cache", "no anon signal", "high pressure", "plenty", "unlimited"],
)
def test_given_a_cgroup_when_messages_go_out_then_the_monitor_acts_as_the_cdks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    usage: int,
    limit: str,
    anon: int | None,
) -> None:
    _cgroup(tmp_path, monkeypatch, usage, limit, anon)
    caplog.set_level(logging.DEBUG, logger="airbyte")

    ours = _first_raise(memory.MemoryMonitor().check, 12_000)
    our_logs = [r.getMessage() for r in caplog.records]
    caplog.clear()
    theirs = _first_raise(cdk_memory.MemoryMonitor().check_memory_usage, 12_000)
    their_logs = [r.getMessage() for r in caplog.records]

    assert ours == theirs
    assert our_logs == their_logs
    if usage / 2e9 >= 0.95 and anon is not None and anon / usage >= 0.85 and limit != "max":
        assert ours is not None and ours[0] == 5000


def test_given_no_cgroup_then_the_monitor_never_reads_a_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = (tmp_path / "a", tmp_path / "b")
    monkeypatch.setattr(memory, "CGROUP_V2", missing)
    monkeypatch.setattr(memory, "CGROUP_V1", missing)
    monitor = memory.MemoryMonitor()
    for _ in range(10_000):
        monitor.check()
    assert monitor._files is None and monitor._count == 0
