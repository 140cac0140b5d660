"""The account's request windows: a per-minute limit and a monthly quota, shared by v1 and v2.

Invariants:
- Limits are per account (every key and token together), as Holded's are. Both windows count every
  API request that got past authentication, v1 and v2 alike; a refused (429) request counts in none.
- The minute window is the current UTC minute, the month window the current UTC calendar month
  (`period` "2026-10"); each resets at its boundary (`X-RateLimit-Reset`, unix seconds).
- A window whose limit is None is off. The limits are read from `Faults` on every request
  (`rate_limit_per_minute`, `rate_limit_per_month`), so they change live.
- The monthly usage is also kept per route: every v1 call under `api_v1_legacy_1`, each v2 route under
  its own key (`api_contacts_contacts_list_1`), as `GET /v2/usage` reports them.
"""

from __future__ import annotations

import calendar
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

V1_USAGE_KEY = "api_v1_legacy_1"


@dataclass
class Verdict:
    """What the quota said of one request: the X-RateLimit-* headers, and the window that refused it."""

    headers: dict[str, str] = field(default_factory=dict)
    refused: str | None = None  # "minute" | "month" when over the limit
    retry_after: int = 0


def _month_bounds(now: float) -> tuple[str, int]:
    """("2026-10", unix seconds of the next month's first instant, UTC)."""
    tm = time.gmtime(now)
    year, month = (tm.tm_year + 1, 1) if tm.tm_mon == 12 else (tm.tm_year, tm.tm_mon + 1)
    return f"{tm.tm_year:04d}-{tm.tm_mon:02d}", calendar.timegm((year, month, 1, 0, 0, 0))


class AccountQuota:
    """Counters of the two windows and the month's per-route usage (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = -1
        self._minute_count = 0
        self._period = ""
        self._month_reset = 0
        self._month_count = 0
        self._usage: Counter[str] = Counter()

    def _roll(self, now: float) -> None:
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._minute_count = minute, 0
        period, reset = _month_bounds(now)
        if period != self._period:
            self._period, self._month_reset, self._month_count = period, reset, 0
            self._usage.clear()

    def consume(self, per_minute: int | None, per_month: int | None, usage_key: str) -> Verdict:
        """Count one request under `usage_key`, or refuse it when a window is full.

        Returns:
            The verdict: `refused` names the full window (then nothing was counted); `headers` are the
            X-RateLimit-* headers of the tightest window (none when both windows are off).
        """
        now = time.time()
        with self._lock:
            self._roll(now)
            windows = []  # (remaining before this request, limit, reset, name)
            if per_minute is not None:
                windows.append((per_minute - self._minute_count, per_minute, (self._minute + 1) * 60, "minute"))
            if per_month is not None:
                windows.append((per_month - self._month_count, per_month, self._month_reset, "month"))
            for remaining, limit, reset, name in windows:
                if remaining <= 0:
                    wait = max(1, math.ceil(reset - now))
                    return Verdict(_headers(limit, 0, reset, name), refused=name, retry_after=wait)
            self._minute_count += 1
            self._month_count += 1
            self._usage[usage_key] += 1
            if not windows:
                return Verdict()
            remaining, limit, reset, name = min(windows, key=lambda w: (w[0] / w[1], w[0]))
            return Verdict(_headers(limit, remaining - 1, reset, name))

    def report(self, per_month: int | None) -> dict[str, object]:
        """The month's usage as `GET /v2/usage` answers it (see the v2 README's live example)."""
        with self._lock:
            self._roll(time.time())
            return {
                "type": "api",
                "period": self._period,
                "usage": self._month_count,
                "limit": per_month,
                "count": self._month_count,
                "secondary_usages": dict(sorted(self._usage.items())),
            }

    def clear(self) -> None:
        """Forget every count (control route `DELETE /__sandbox__/usage`)."""
        with self._lock:
            self._minute, self._period = -1, ""
            self._minute_count = self._month_count = 0
            self._usage.clear()


def _headers(limit: int, remaining: int, reset: int, window: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(int(reset)),
        "X-RateLimit-Window": window,
    }
