"""Benchmark of the pure model: tickets scored per second on one core, and memory per customer.

    .venv/bin/python bench/bench_model.py [--customers 4000] [--rounds 5]

It generates a seeded account (long-tailed: most customers have a few tickets, some hundreds),
reads it, adds a customer of 1,000 and one of 2,000 tickets, and times `score` (the value) and
`assess` (value, suggestions and the 13-point trend) over every customer with tickets, pinned
to one core, with the account's own norms. It also times the trend alone for the 1,000-ticket
customer (`score_series` at 13 dates: the value now and every two weeks back for six months).
Each figure is the best of several rounds, the usual way to read through noise on a shared
machine. Memory is the peak that scoring and assessing one customer allocate (tracemalloc), for
histories of growing size, oldest ticket first as the store reads them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrations.files.dataset import load
from plugin.core.assessment import TREND_POINTS, TREND_STEP, assess
from plugin.core.model import score, score_series
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.demo.generator import generate

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SIZES = (10, 100, 1000, 2000)


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    return "not pinned"


def best_rate(histories, func, rounds: int) -> tuple[float, float]:
    tickets = sum(len(h.tickets) for h in histories)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for history in histories:
            func(history)
        times.append(time.perf_counter() - start)
    return tickets / min(times), tickets / statistics.median(times)


def trend_ms(history, norms, rounds: int) -> tuple[float, float]:
    """Milliseconds for a 12-step trend (13 dates) of one history, best and median."""
    moments = [NOW - TREND_STEP * back for back in range(TREND_POINTS - 1, -1, -1)]
    times = []
    for _ in range(rounds * 5):
        start = time.perf_counter()
        score_series(history, Settings(), moments, norms=norms)
        times.append(time.perf_counter() - start)
    return min(times) * 1000, statistics.median(times) * 1000


def grown(history, size: int):
    """The history repeated (with fresh ids and shifted dates) to exactly `size` tickets."""
    tickets = []
    base = history.tickets
    while len(tickets) < size:
        for ticket in base:
            shift = timedelta(days=len(tickets) % 700)
            tickets.append(replace(ticket, id=len(tickets) + 1,
                                   created_at=ticket.created_at - shift))
            if len(tickets) == size:
                break
    return replace(history, tickets=tuple(sorted(tickets, key=lambda t: t.created_at)))


def peak_bytes(history, norms, func) -> int:
    settings = Settings()
    tracemalloc.start()
    func(history, settings, NOW, norms=norms)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    where = pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        generate(Path(folder), args.customers, seed=2024, now=NOW)
        dataset = load(Path(folder))
    histories = [h for h in dataset.histories() if h.tickets]
    heaviest = max(histories, key=lambda h: len(h.tickets))
    histories += [grown(heaviest, 1000), grown(heaviest, 2000)]
    counts = sorted(len(h.tickets) for h in histories)
    print(f"Pinned to {where}. {len(histories)} customers with tickets, {sum(counts):,} tickets; "
          f"per customer: median {counts[len(counts) // 2]}, max {counts[-1]}.")
    settings = Settings()
    norms = account_norms(histories, settings, NOW)
    for label, func in (
            ("score (value only)", lambda h: score(h, settings, NOW, norms=norms)),
            ("assess (value, suggestions, 13-point trend)",
             lambda h: assess(h, settings, NOW, norms=norms))):
        best, median = best_rate(histories, func, args.rounds)
        print(f"| {label} | {best:,.0f} tickets/s (best of {args.rounds}) | "
              f"{median:,.0f} tickets/s (median) |")
    best, median = trend_ms(grown(heaviest, 1000), norms, args.rounds)
    print(f"| 12-point trend of a 1,000-ticket customer | {best:.2f} ms (best) | "
          f"{median:.2f} ms (median) |")
    print("| tickets in the history | peak memory while scoring it | while assessing it |")
    for size in SIZES:
        history = grown(heaviest, size)
        print(f"| {size:,} | {peak_bytes(history, norms, score) / 1024:,.1f} KiB | "
              f"{peak_bytes(history, norms, assess) / 1024:,.1f} KiB |")


if __name__ == "__main__":
    main()
