"""Customer values for the sidebar and the tagger: fresh, fast, and never a failure page.

`ValueCache` sits in front of the expensive part (a history from the store plus a live refresh
from Zendesk, then the model):
- concurrent requests for one customer share a single computation (single flight);
- a value younger than `fresh_for` is served as it is; an older one is served at once while
  one background refresh replaces it (stale-while-revalidate);
- when Zendesk is rate limited or down, the last known value is served with a notice saying
  so; only a customer never seen before, with Zendesk unreachable, gets the error.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from integrations.errors import IntegrationError, RateLimited

FRESH_SECONDS = 60.0
MAX_ENTRIES = 10_000

Compute = Callable[[], Any]


@dataclass(frozen=True)
class CachedValue:
    """A computed result (a customer's `Assessment`) and how current it is."""

    result: Any
    computed_at: float
    stale: bool = False
    notice: str = ""
    """Why a refresh failed, when the last known result is served instead."""
    retry_at: float = 0.0
    """After a failed refresh: no new attempt before this moment."""
    _encoded: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def encoded(self, encode: Callable[[CachedValue], bytes]) -> bytes:
        """`encode(self)`, made once per state: the web edge hands warm requests the same
        bytes (a stale or noticed copy is a new state and encodes anew)."""
        if "bytes" not in self._encoded:
            self._encoded["bytes"] = encode(self)
        return self._encoded["bytes"]


class ValueCache:
    def __init__(self, *, fresh_for: float = FRESH_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic,
                 start: Callable[[Callable[[], None]], None] | None = None):
        self.fresh_for = fresh_for
        self.max_entries = max_entries
        self.clock = clock
        self.start = start or _in_thread
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, CachedValue] = OrderedDict()
        self._flights: dict[tuple, Future] = {}

    def get(self, key: tuple, compute: Compute) -> CachedValue:
        """The value for `key`, computing it with `compute` at most once at a time."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                if self.clock() - cached.computed_at < self.fresh_for:
                    return cached
                if key not in self._flights and self.clock() >= cached.retry_at:
                    flight = self._flights[key] = Future()
                    self.start(lambda: self._run(key, compute, flight))
                return replace(cached, stale=True)
            flight, owner = self._flights.get(key), False
            if flight is None:
                flight, owner = Future(), True
                self._flights[key] = flight
        if owner:
            self._run(key, compute, flight)
        return flight.result()

    def invalidate(self, key: tuple) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget(self, first: object) -> int:
        """Drop every value whose key starts with `first` (an account); how many."""
        with self._lock:
            stale = [key for key in self._entries if key and key[0] == first]
            for key in stale:
                del self._entries[key]
        return len(stale)

    def _run(self, key: tuple, compute: Compute, flight: Future) -> None:
        try:
            value = CachedValue(compute(), self.clock())
        except IntegrationError as error:
            with self._lock:
                self._flights.pop(key, None)
                cached = self._entries.get(key)
                if cached is not None:
                    cached = replace(cached, notice=_notice(error),
                                     retry_at=self.clock() + _backoff(error, self.fresh_for))
                    self._entries[key] = cached
            if cached is not None:
                flight.set_result(replace(cached, stale=True))
            else:
                flight.set_exception(error)
            return
        except BaseException as error:  # noqa: BLE001 - handed to every waiter, then re-raised
            with self._lock:
                self._flights.pop(key, None)
            flight.set_exception(error)
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            self._flights.pop(key, None)
        flight.set_result(value)


def _backoff(error: IntegrationError, fresh_for: float) -> float:
    return error.retry_after if isinstance(error, RateLimited) else fresh_for


def _notice(error: IntegrationError) -> str:
    if isinstance(error, RateLimited):
        return (f"{error.service} is rate limiting; showing the last known value "
                f"(retry in {error.retry_after:.0f} s)")
    return f"{error.service} is unavailable; showing the last known value"


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="value-refresh", daemon=True).start()
