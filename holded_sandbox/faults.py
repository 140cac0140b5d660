"""Fault injection: settings (`Faults`), per-credential token buckets and the fault RNG."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

SCRIPT_KINDS = ("reset", "html", "truncate", "lost_create", "status0", "slow")


@dataclass
class Faults:
    """Fault settings and quirk switches. Mutate live with `update(**kw)`; every field applies from the
    next request."""

    latency_ms: float = 0
    latency_jitter_ms: float = 0
    rate_limit_rps: float | None = None
    rate_limit_burst: int = 1
    retry_after_format: Literal["seconds", "http-date"] = "seconds"
    error_rate: float = 0
    reset_rate: float = 0
    lost_create_rate: float = 0
    html_rate: float = 0
    truncate_rate: float = 0
    denied_modules: list[str] = field(default_factory=list)
    ignore_page: list[str] = field(default_factory=list)  # list routes (path prefixes) that ignore `page`
    imported_status: bool = False  # document creates keep a `status` sent as a stored badge (imports)
    script: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    # Quirk switch (not random): the numbering series overrides the `invoiceNum` sent on sales documents;
    # purchases keep the supplier's number (shared/holded-api/README.md, "what integrators report").
    series_overrides_number: bool = False
    # The account's request windows, shared by API v1 and v2 (Holded counts every key and token together):
    # requests per UTC minute and per UTC calendar month; None is off. Over one: 429 with X-RateLimit-*.
    rate_limit_per_minute: int | None = None
    rate_limit_per_month: int | None = 100_000
    # Webhook delivery (holded_sandbox/webhooks.py); these apply to outgoing deliveries, not to requests.
    webhook_duplicate_rate: float = 0  # share of delivered events sent a second time (same webhook id)
    webhook_shuffle: int = 0  # >= 2: each batch of up to this many queued events goes out in a shuffled order
    webhook_shuffle_wait_ms: float = 100  # how long a batch waits to fill before it goes out anyway
    webhook_retry_base_ms: float = 50  # first retry delay; doubles on each further failure
    webhook_retry_max_ms: float = 1000  # cap of one retry delay
    webhook_max_attempts: int = 8  # attempts per event before it is given up (counted as failed)
    webhook_timeout_s: float = 2  # per-attempt connect + answer timeout

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._rng = random.Random(self.seed)
        self._webhook_rng = random.Random(self.seed)  # drawn only by the delivery worker: its own sequence
        self._buckets: dict[str, list[float]] = {}  # credential -> [tokens, last refill (monotonic)]
        self._validate()

    def _validate(self) -> None:
        if self.retry_after_format not in ("seconds", "http-date"):
            raise ValueError("retry_after_format must be 'seconds' or 'http-date'")
        for name in ("error_rate", "reset_rate", "lost_create_rate", "html_rate", "truncate_rate"):
            if not 0 <= float(getattr(self, name)) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if not isinstance(self.series_overrides_number, bool):
            raise ValueError("series_overrides_number must be true or false")
        if isinstance(self.webhook_shuffle, bool):  # `true` from JSON or a CLI flag: a window of 4
            self.webhook_shuffle = 4 if self.webhook_shuffle else 0
        if not 0 <= float(self.webhook_duplicate_rate) <= 1:
            raise ValueError("webhook_duplicate_rate must be between 0 and 1")
        if not isinstance(self.webhook_shuffle, int) or self.webhook_shuffle < 0:
            raise ValueError("webhook_shuffle must be an integer >= 0 (0 or 1: off; N: shuffle batches of N)")
        for name in ("webhook_shuffle_wait_ms", "webhook_retry_base_ms", "webhook_retry_max_ms"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not isinstance(self.webhook_max_attempts, int) or self.webhook_max_attempts < 1:
            raise ValueError("webhook_max_attempts must be an integer >= 1")
        if float(self.webhook_timeout_s) <= 0:
            raise ValueError("webhook_timeout_s must be > 0")
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ValueError("rate_limit_rps must be > 0 (or null to disable)")
        for name in ("rate_limit_per_minute", "rate_limit_per_month"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an integer >= 1 (or null to disable)")
        for entry in self.script:
            if not isinstance(entry, dict) or ("status" not in entry and entry.get("kind") not in SCRIPT_KINDS):
                raise ValueError(f"script entry needs 'status' or 'kind' in {SCRIPT_KINDS}: {entry!r}")

    def update(self, **changes: Any) -> Faults:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            previous = self.as_dict()
            for key, value in changes.items():
                setattr(self, key, list(value) if key in ("denied_modules", "ignore_page", "script") else value)
            try:
                self._validate()
            except ValueError:
                for key, value in previous.items():
                    setattr(self, key, value)
                raise
            if "seed" in changes:
                self._rng = random.Random(self.seed)
                self._webhook_rng = random.Random(self.seed)
            if "rate_limit_rps" in changes or "rate_limit_burst" in changes:
                self._buckets.clear()
        return self

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {f.name: _copy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    # --- used by the server -------------------------------------------------------------

    def roll(self, name: str) -> bool:
        """True with probability `getattr(self, name)`; draws only when the rate is set."""
        with self._lock:
            rate = float(getattr(self, name))
            return rate > 0 and self._rng.random() < rate

    def webhook_duplicate(self) -> bool:
        """True with probability `webhook_duplicate_rate` (the delivery worker's own RNG sequence)."""
        with self._lock:
            rate = float(self.webhook_duplicate_rate)
            return rate > 0 and self._webhook_rng.random() < rate

    def webhook_order(self, count: int) -> list[int]:
        """A shuffled order of `count` queued events, never the queue order itself when count >= 2."""
        with self._lock:
            order = list(range(count))
            self._webhook_rng.shuffle(order)
        if count >= 2 and order == sorted(order):
            order = order[1:] + order[:1]
        return order

    def choice(self, options: list[int]) -> int:
        with self._lock:
            return self._rng.choice(options)

    def latency(self) -> float:
        with self._lock:
            if not self.latency_ms and not self.latency_jitter_ms:
                return 0.0
            jitter = self._rng.uniform(0, self.latency_jitter_ms) if self.latency_jitter_ms else 0.0
            return max(0.0, (self.latency_ms + jitter) / 1000)

    def ignores_page(self, path: str) -> bool:
        """True when the `ignore_page` switch makes this list route answer the same page for every `page`."""
        with self._lock:
            return any(path.startswith(prefix) for prefix in self.ignore_page)

    def take_script(self, path: str, method: str) -> dict[str, Any] | None:
        """Consume the first script entry matching this API request (path under /api)."""
        with self._lock:
            for index, entry in enumerate(self.script):
                if not path.startswith(entry.get("match", "")):
                    continue
                if entry.get("method") and entry["method"].upper() != method:
                    continue
                return self.script.pop(index)
            return None

    def throttle(self, credential: str) -> dict[str, str] | None:
        """Token bucket per credential. None when allowed, else the Retry-After header to send."""
        with self._lock:
            rps = self.rate_limit_rps
            if not rps:
                return None
            burst = max(1, int(self.rate_limit_burst))
            now = time.monotonic()
            tokens, last = self._buckets.get(credential, [float(burst), now])
            tokens = min(float(burst), tokens + (now - last) * rps)
            if tokens >= 1:
                self._buckets[credential] = [tokens - 1, now]
                return None
            self._buckets[credential] = [tokens, now]
            wait = max(1, math.ceil((1 - tokens) / rps))
            if self.retry_after_format == "http-date":
                return {"Retry-After": formatdate(time.time() + wait, usegmt=True)}
            return {"Retry-After": str(wait)}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value
