"""The value cache: single flight, stale-while-revalidate, last known value on outages."""

import threading
import time

import pytest

from integrations.errors import RateLimited, Unavailable
from plugin.service_layer.values import ValueCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def later(queue):
    """A `start` that keeps background refreshes until the test runs them."""
    return queue.append


def test_concurrent_requests_share_one_computation():
    calls, gate = [], threading.Event()

    def compute():
        calls.append(1)
        gate.wait(5)
        return {"value": 1}

    cache = ValueCache()
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("a", 1), compute)))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert len(results) == 16 and all(r.result == {"value": 1} for r in results)


def test_fresh_values_are_served_without_recomputing():
    clock, calls = Clock(), []
    cache = ValueCache(fresh_for=60, clock=clock)
    compute = lambda: calls.append(1) or {"value": len(calls)}  # noqa: E731
    assert cache.get(("a", 1), compute).result == {"value": 1}
    clock.now += 59
    assert cache.get(("a", 1), compute).result == {"value": 1}
    assert len(calls) == 1


def test_stale_values_are_served_while_one_refresh_runs():
    clock, queued, calls = Clock(), [], []
    cache = ValueCache(fresh_for=60, clock=clock, start=later(queued))
    compute = lambda: calls.append(1) or {"value": len(calls)}  # noqa: E731
    cache.get(("a", 1), compute)
    clock.now += 61
    stale = cache.get(("a", 1), compute)
    again = cache.get(("a", 1), compute)
    assert stale.stale and again.stale and stale.result == {"value": 1}
    assert len(queued) == 1, "one refresh, however many requests"
    queued[0]()
    fresh = cache.get(("a", 1), compute)
    assert fresh.result == {"value": 2} and not fresh.stale


@pytest.mark.parametrize(("error", "notice"), [
    (RateLimited(30), "rate limiting; showing the last known value (retry in 30 s)"),
    (Unavailable("down"), "unavailable; showing the last known value"),
])
def test_outages_serve_the_last_known_value_with_a_notice(error, notice):
    clock, queued = Clock(), []
    cache = ValueCache(fresh_for=60, clock=clock, start=later(queued))
    cache.get(("a", 1), lambda: {"value": 7, "notices": []})

    def failing():
        raise error

    clock.now += 61
    cache.get(("a", 1), failing)
    queued[0]()
    cache.invalidate(("b", 2))
    clock.now += 1
    served = cache.get(("a", 1), failing)
    assert served.result["value"] == 7 and served.stale
    assert notice in served.notice
    assert len(queued) == 1, "no new attempt before the back-off ends"
    clock.now += 61
    cache.get(("a", 1), lambda: {"value": 8, "notices": []})
    assert len(queued) == 2
    queued[1]()
    recovered = cache.get(("a", 1), failing)
    assert recovered.result["value"] == 8 and recovered.notice == ""


def test_a_first_request_during_an_outage_gets_the_error():
    cache = ValueCache()

    def failing():
        raise Unavailable("down")

    with pytest.raises(Unavailable):
        cache.get(("a", 1), failing)
    assert cache.get(("a", 1), lambda: {"value": 3}).result == {"value": 3}


def test_the_cache_is_bounded():
    cache = ValueCache(max_entries=3)
    for user in range(10):
        cache.get(("a", user), lambda: {"value": 0})
    assert len(cache._entries) == 3
