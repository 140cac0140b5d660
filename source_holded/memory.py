"""The CDK launcher's memory monitor (airbyte-cdk 7's `utils/memory_monitor.py`), without `airbyte_cdk`.

Inside a container with a cgroup memory limit, a sync near the limit is ended with a system_error trace
before the kernel's OOM killer ends it silently (the platform then sees why, and the states already
emitted stand): every 5,000 messages (every 100 once usage passed 90% of the limit) it reads the cgroup's
usage; at 95% of the limit, if anonymous memory (the process's own) is at least 85% of that usage, it
raises. Outside a cgroup with a limit (a laptop, CI) it does nothing. Same thresholds, files and log
lines as the CDK's, so the platform sees the same behaviour; the core streams (flat memory), so this is a
safety net, not the expected end of a read.
"""

from __future__ import annotations

import logging
from pathlib import Path

from source_holded.protocol import SYSTEM_ERROR, Failure

logger = logging.getLogger("airbyte")

CGROUP_V2 = (Path("/sys/fs/cgroup/memory.current"), Path("/sys/fs/cgroup/memory.max"))
CGROUP_V2_STAT = Path("/sys/fs/cgroup/memory.stat")
CGROUP_V1 = (Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
PROC_STATUS = Path("/proc/self/status")
CRITICAL = 0.95
ANON_SHARE = 0.85
HIGH_PRESSURE = 0.90
CHECK_EVERY = 5000
CHECK_EVERY_HIGH = 100


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def _field(path: Path, name: str) -> int | None:
    try:
        for text in path.read_text().splitlines():
            if text.startswith(name):
                return int(text.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class MemoryMonitor:
    """Call `check()` once per message written; it raises a `Failure` near the container's memory limit."""

    def __init__(self) -> None:
        self._count = 0
        self._every = CHECK_EVERY
        self._files: tuple[Path, Path] | None = None
        self._probed = False
        self._critical_logged = False
        logger.info(
            "MemoryMonitor instantiated with critical threshold: %d%%, anon share of usage threshold: %d%%, "
            "high-pressure threshold: %d%%, check interval: %d messages (tightens to %d under high pressure).",
            int(CRITICAL * 100),
            int(ANON_SHARE * 100),
            int(HIGH_PRESSURE * 100),
            CHECK_EVERY,
            CHECK_EVERY_HIGH,
        )

    def check(self) -> None:
        """Count one message; every `CHECK_EVERY` (or `CHECK_EVERY_HIGH`) messages, read the cgroup's usage.

        Raises:
            Failure: a system_error when usage is at 95% of the limit and mostly the process's own memory.
        """
        if not self._probed:
            self._probe()
        if self._files is None:
            return
        self._count += 1
        if self._count % self._every == 0:
            self._read()

    def _probe(self) -> None:
        self._probed = True
        for files in (CGROUP_V2, CGROUP_V1):
            if files[0].exists() and files[1].exists():
                self._files = files
                return
        logger.debug("No cgroup memory files found. Memory monitoring disabled (likely local dev / CI).")

    def _read(self) -> None:
        assert self._files is not None
        usage_path, limit_path = self._files
        try:
            limit_text = limit_path.read_text().strip()
            if limit_text == "max":  # no limit
                return
            usage, limit = int(usage_path.read_text().strip()), int(limit_text)
        except (OSError, ValueError):
            logger.debug("Failed to read cgroup memory files; skipping memory check.")
            return
        if limit <= 0:
            return
        ratio = usage / limit
        if ratio >= HIGH_PRESSURE and self._every != CHECK_EVERY_HIGH:
            self._every = CHECK_EVERY_HIGH
            logger.info(
                "Memory usage crossed %d%%; tightening check interval from %d to %d messages.",
                int(HIGH_PRESSURE * 100),
                CHECK_EVERY,
                CHECK_EVERY_HIGH,
            )
        if ratio < CRITICAL:
            return
        anon, source = self._anon()
        if anon is not None and anon / usage >= ANON_SHARE:
            raise Failure(
                message=f"Source memory usage exceeded critical threshold ({int(ratio * 100)}% of container limit).",
                internal_message=(
                    f"Cgroup memory: {_size(usage)} / {_size(limit)} ({int(ratio * 100)}%). Anonymous memory "
                    f"({source}): {_size(anon)} ({int(anon / usage * 100)}% of current cgroup usage). Thresholds: "
                    f"cgroup >= {int(CRITICAL * 100)}%, anon share of usage >= {int(ANON_SHARE * 100)}%."
                ),
                failure_type=SYSTEM_ERROR,
            )
        if self._critical_logged:
            return
        self._critical_logged = True
        if anon is None:
            logger.warning(
                "Cgroup usage crossed %d%% (%s of %s) but anonymous memory signal unavailable; skipping fail-fast.",
                int(CRITICAL * 100),
                _size(usage),
                _size(limit),
            )
        else:
            logger.info(
                "Cgroup usage crossed %d%% (%s of %s) but anonymous memory is only %d%% of current cgroup usage; "
                "not raising.",
                int(CRITICAL * 100),
                _size(usage),
                _size(limit),
                int(anon / usage * 100),
            )

    def _anon(self) -> tuple[int | None, str]:
        if self._files == CGROUP_V2:
            anon = _field(CGROUP_V2_STAT, "anon ")
            if anon is not None:
                return anon, "cgroup memory.stat anon"
        kib = _field(PROC_STATUS, "RssAnon:")
        return (kib * 1024, "process RssAnon") if kib is not None else (None, "")
