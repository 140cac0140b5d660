"""One rate budget per credential, shared by every thread and client of the process.

Requests are spaced at `1 / rate` seconds (with a small burst allowance). A 429 halves the rate and
pauses everybody for the `Retry-After` time; successes then raise the rate back by 5% steps once the
budget has gone `RECOVERY_SECONDS` without a throttle, up to the configured rate.
"""

from __future__ import annotations

import threading
import time

RECOVERY_SECONDS = 2.0
MIN_RATE = 0.2


class RateBudget:
    def __init__(self, rate: float, burst: int = 1) -> None:
        self.target_rate = float(rate)
        self.rate = float(rate)
        self.burst = max(1, burst)
        self._next = 0.0
        self._paused_until = 0.0
        self._last_throttle = -1e9
        self._lock = threading.Lock()
        self.throttles = 0

    def acquire(self) -> float:
        """Block until this request may go; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            interval = 1.0 / self.rate
            # Idle time earns at most `burst` requests of credit.
            self._next = max(self._next, now - (self.burst - 1) * interval)
            start = max(self._next, self._paused_until, now)
            self._next = start + interval
        wait = start - now
        if wait > 0:
            time.sleep(wait)
        return max(0.0, wait)

    def on_throttled(self, retry_after: float | None) -> None:
        with self._lock:
            now = time.monotonic()
            self.throttles += 1
            self.rate = max(MIN_RATE, self.rate / 2)
            self._last_throttle = now
            if retry_after:
                self._paused_until = max(self._paused_until, now + retry_after)

    def pause_for(self, seconds: float) -> None:
        """Everybody waits `seconds` before the next request (a window Holded says is used up)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def on_success(self) -> None:
        if self.rate >= self.target_rate:
            return
        with self._lock:
            if time.monotonic() - self._last_throttle >= RECOVERY_SECONDS:
                self.rate = min(self.target_rate, self.rate * 1.05)

    def set_target(self, rate: float) -> None:
        with self._lock:
            self.target_rate = float(rate)
            self.rate = min(self.rate, self.target_rate) if self.rate else self.target_rate


_budgets: dict[str, RateBudget] = {}
_registry_lock = threading.Lock()


def budget_for(fingerprint: str, rate: float) -> RateBudget:
    """The process-wide budget of a credential. Two clients asking different rates share the lower one."""
    with _registry_lock:
        budget = _budgets.get(fingerprint)
        if budget is None:
            budget = _budgets[fingerprint] = RateBudget(rate)
        elif rate < budget.target_rate:
            budget.set_target(rate)
        return budget
