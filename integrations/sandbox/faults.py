"""What can go wrong between a client and Zendesk, on purpose: latency, rate limits, faults.

`Traffic` decides, request by request, whether an answer is delayed, refused with 429 (a
per-minute account limit, and Zendesk's separate, lower limit on incremental exports), or
replaced by an injected fault (500/502/503, an answer slower than a client's timeout, or a
connection closed without an answer). Faults are drawn from one seeded `random.Random`, so a
test that sends the same requests in the same order sees the same faults.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.sandbox.config import SandboxConfig

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Admission:
    """The rate limiter's answer: whether to serve, and the numbers for the headers."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int = 0
    export: bool = False


class RateWindow:
    """The times of the requests admitted in the last minute, for one limit (sliding window)."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def check(self, now: float, limit: int) -> Admission:
        """Whether one more request fits under `limit` now (without admitting it)."""
        while self._times and self._times[0] <= now - WINDOW_SECONDS:
            self._times.popleft()
        used = len(self._times)
        if used < limit:
            return Admission(True, limit, limit - used - 1)
        wait = self._times[used - limit] + WINDOW_SECONDS - now
        return Admission(False, limit, 0, max(1, math.ceil(wait)))

    def admit(self, now: float) -> None:
        self._times.append(now)

    def clear(self) -> None:
        self._times.clear()


class Traffic:
    """Per-request decisions under the current `SandboxConfig`. Thread-safe."""

    def __init__(self, config: SandboxConfig, monotonic: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._config = config
        self._rng = random.Random(config.seed)
        self._account = RateWindow()
        self._exports = RateWindow()

    @property
    def config(self) -> SandboxConfig:
        return self._config

    def reconfigure(self, changes: dict[str, Any]) -> SandboxConfig:
        """Applies knob changes (ConfigError if invalid); a given `seed` restarts the draws."""
        with self._lock:
            self._config = self._config.updated(changes)
            if "seed" in changes:
                self._rng = random.Random(self._config.seed)
            return self._config

    def reset(self) -> None:
        """Forgets the requests counted against the rate limits."""
        with self._lock:
            self._account.clear()
            self._exports.clear()

    def delay(self) -> None:
        """Holds the request for the configured latency."""
        latency = self._config.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)

    def fault(self) -> str | None:
        """The fault to inject into this request (one of `FAULT_KINDS`), if any."""
        with self._lock:
            config = self._config
            if config.fault_rate <= 0 or self._rng.random() >= config.fault_rate:
                return None
            return self._rng.choice(config.fault_kinds)

    def admit(self, export: bool) -> Admission:
        """Counts the request against the account limit (and the export limit for exports).

        A refused request counts against neither, as Zendesk does not charge a 429.
        """
        with self._lock:
            now, config = self._monotonic(), self._config
            if export and config.export_rate_limit:
                verdict = self._exports.check(now, config.export_rate_limit)
                if not verdict.allowed:
                    return Admission(False, verdict.limit, 0, verdict.retry_after, export=True)
            account = Admission(True, 0, 0)
            if config.rate_limit:
                account = self._account.check(now, config.rate_limit)
                if not account.allowed:
                    return account
                self._account.admit(now)
            if export and config.export_rate_limit:
                self._exports.admit(now)
            return account
