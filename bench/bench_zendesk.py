"""Benchmark of reaching Zendesk: requests and time for a customer's complete history and for a
whole account, the history store's way against a naive zenpy script; and sync at scale.

    .venv/bin/python bench/bench_zendesk.py [--customers 10000] [--seed 11] [--naive-customers 1000]
    .venv/bin/python bench/bench_zendesk.py --million [--scratch DIR]

It generates a seeded account (10,000 customers, about 100,000 tickets; seed 11 has a customer
of about 1,000 tickets, which the generator's long tail rarely lands near) and serves it from
the sandbox with 50 ms of latency on every request. Both of Zendesk's rate limits are lifted so
that the times measure requests and latency, not waiting; the floors the real limits set are
printed beside them.

- Ours: `plugin.service_layer.sync.sync` (what `customer-value sync` runs) loads the whole
  account from the incremental exports into a temporary SQLite store; then
  `plugin.service_layer.live.current_history` tops up
  one customer's stored history with what changed since (one request).
- Naive: a zenpy script as a typical user writes it: for each customer, the requested tickets
  (`zenpy.users.requested`), then `zenpy.tickets.metrics` ticket by ticket, the rating read from
  the ticket's embedded `satisfaction_rating` (no request, the cheapest common pattern).
  Zendesk leaves archived tickets (closed more than 120 days ago) out of both lists, so the
  script misses them. For the whole account it runs on a random sample of customers and is
  scaled to the account (all customers takes most of an hour at 50 ms a request).

Requests are counted by the sandbox (`/_sandbox/stats`); times are wall-clock, the median of
`--rounds` for one customer. The sandbox runs in this process (a thread), so its serving time
is part of both sides' times.

`--million` measures, instead, the sync of a 1,000,000-ticket account (100,000 customers; about
45 s and 2.2 GB to generate, removed afterwards) from the sandbox without latency:
`customer-value sync` runs in a subprocess, timed, with its peak resident memory as the
subprocess itself reports it at exit (`VmHWM`, the high-water mark of its own address space).
Not `wait4`'s `ru_maxrss`: at exec, Linux carries the spawning process's peak into it, and the
spawning process here holds the generator's and the sandbox's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from million import MILLION_CUSTOMERS, generate_account, scratch_folder, served_account

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin.demo.generator import generate
from plugin.service_layer.live import current_history
from plugin.service_layer.sync import SyncReport, sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect

if TYPE_CHECKING:
    from zenpy import Zenpy

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TARGETS = (10, 100, 1000)
LATENCY_MS = 50
EMAIL, TOKEN = "bench@example.com", "bench-token"
EXPORT_STREAMS = ("organizations", "users", "tickets")
"""The streams read from incremental exports (Zendesk's separate export rate limit)."""
ZENDESK_EXPORT_LIMIT, ZENDESK_ACCOUNT_LIMIT = 10, 700
"""Requests a minute: incremental exports (without the high-volume add-on), and the account
(Enterprise plan)."""
STREAM_LINE = re.compile(r"^(\w+)\s+([\d,]+) records in ([\d,]+) pages", re.MULTILINE)


@dataclass(frozen=True)
class Cost:
    """What getting some history took: requests sent, wall time, tickets it came back with."""

    requests: int
    seconds: float
    tickets: int


class Sandbox:
    """The sandbox's request counter."""

    def __init__(self, base: str):
        self.base = base

    def reset(self) -> None:
        requests.post(f"{self.base}/_sandbox/reset", timeout=10).raise_for_status()

    def count(self) -> int:
        return requests.get(f"{self.base}/_sandbox/stats", timeout=10).json()["requests"]

    def measure(self, fetch: Callable[[], int]) -> Cost:
        """The requests and time `fetch` takes; it returns how many tickets it got."""
        self.reset()
        started = time.perf_counter()
        tickets = fetch()
        seconds = time.perf_counter() - started
        return Cost(self.count(), seconds, tickets)

    def median(self, fetch: Callable[[], int], rounds: int) -> Cost:
        costs = [self.measure(fetch) for _ in range(rounds)]
        return Cost(costs[-1].requests, statistics.median(c.seconds for c in costs),
                    costs[-1].tickets)


# --- the account ---------------------------------------------------------------------------

def ticket_counts(folder: Path) -> Counter[int]:
    """Tickets per requester in the dataset: the true size of each complete history."""
    with (folder / "tickets.json").open(encoding="utf-8") as handle:
        records = json.load(handle)["tickets"]
    return Counter(record["requester_id"] for record in records)


def user_ids(folder: Path) -> list[int]:
    with (folder / "users.json").open(encoding="utf-8") as handle:
        return sorted(record["id"] for record in json.load(handle)["users"])


def nearest(counts: Counter[int], target: int) -> tuple[int, int]:
    """The customer whose ticket count is closest to `target` (lowest id on ties)."""
    user_id, count = min(counts.items(), key=lambda item: (abs(item[1] - target), item[0]))
    return user_id, count


# --- ours ----------------------------------------------------------------------------------

def our_client(base: str, mode: str) -> ZendeskClient:
    return ZendeskClient(Transport(base_url=base, session=requests.Session(),
                                   auth=(f"{EMAIL}/token", TOKEN), mode=mode))


def open_store(database: str, base: str) -> HistoryStore:
    upgrade(database)
    engine = connect(database)
    return HistoryStore(engine, account_id(engine, base, datetime.now(UTC)))


def run_sync(base: str, store: HistoryStore) -> SyncReport:
    """What `customer-value sync` runs: background mode, the real clock."""
    client = our_client(base, "background")
    try:
        return sync(client, store, clock=lambda: datetime.now(UTC))
    finally:
        client.close()


def our_history(store: HistoryStore, client: ZendeskClient, user_id: int) -> int:
    return len(current_history(store, client, user_id).tickets)


# --- naive ---------------------------------------------------------------------------------

def naive_zenpy(base: str) -> Zenpy:
    """A fresh Zenpy client aimed at the sandbox (zenpy builds `{subdomain}.{domain}` hosts)."""
    os.environ["ZENPY_FORCE_SCHEME"] = "http"
    from zenpy import Zenpy

    host, port = base.removeprefix("http://").rsplit(":", 1)
    subdomain, last = host.rsplit(".", 1)
    return Zenpy(subdomain=subdomain, domain=f"{last}:{port}", email=EMAIL, token=TOKEN)


def naive_history(zenpy: Zenpy, user_id: int) -> int:
    """A typical script: requested tickets, then metrics ticket by ticket, rating embedded."""
    history = []
    for ticket in zenpy.users.requested(user_id):
        metric = zenpy.tickets.metrics(ticket.id)
        rating = ticket.satisfaction_rating
        history.append((ticket.id, ticket.status, metric.reply_time_in_minutes,
                        metric.full_resolution_time_in_minutes, metric.reopens,
                        getattr(rating, "score", None)))
    return len(history)


def naive_account(base: str, customers: list[int]) -> int:
    zenpy = naive_zenpy(base)
    return sum(naive_history(zenpy, user_id) for user_id in customers)


# --- printing ------------------------------------------------------------------------------

def seconds(value: float) -> str:
    if value >= 120:
        return f"{value / 60:,.1f} min"
    return f"{value:,.2f} s" if value < 10 else f"{value:,.1f} s"


def ratio(naive: float, ours: float) -> str:
    return f"{naive / ours:,.1f}×" if ours else "n/a"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def account_section(base: str, folder: Path, store: HistoryStore, counts: Counter[int],
                    sample_size: int, seed: int) -> None:
    sandbox = Sandbox(base)
    sandbox.reset()
    report = run_sync(base, store)
    ours = Cost(sandbox.count(), report.seconds, store.counts()["tickets"])
    users = user_ids(folder)
    sample = sorted(random.Random(seed).sample(users, min(sample_size, len(users))))
    measured = sandbox.measure(lambda: naive_account(base, sample))
    scale = len(users) / len(sample)
    true_total, true_sample = sum(counts.values()), sum(counts[u] for u in sample)
    naive = Cost(round(measured.requests * scale), measured.seconds * scale,
                 round(measured.tickets * scale))
    export_pages = sum(report.streams[s].pages for s in EXPORT_STREAMS if s in report.streams)
    print(f"\n### Whole account: {len(users):,} customers, {true_total:,} tickets\n")
    print("| approach | requests | wall time | tickets found | of the true total |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| ours: `sync` (incremental exports) | {ours.requests:,} | {seconds(ours.seconds)} | "
          f"{ours.tickets:,} | {share(ours.tickets, true_total)} |")
    print(f"| naive zenpy, measured on {len(sample):,} customers | {measured.requests:,} | "
          f"{seconds(measured.seconds)} | {measured.tickets:,} of {true_sample:,} | "
          f"{share(measured.tickets, true_sample)} |")
    print(f"| naive zenpy, scaled ×{scale:g} to the account | ~{naive.requests:,} | "
          f"~{seconds(naive.seconds)} | ~{naive.tickets:,} | "
          f"{share(measured.tickets, true_sample)} |")
    print(f"\nNaive / ours: {ratio(naive.requests, ours.requests)} the requests, "
          f"{ratio(naive.seconds, ours.seconds)} the time; the naive script misses "
          f"{share(true_sample - measured.tickets, true_sample)} of the history (archived).")
    print("Sync records by stream: " + ", ".join(
        f"{name} {done.records:,} in {done.pages:,} pages"
        for name, done in report.streams.items()) + ".")
    floor = max(export_pages / ZENDESK_EXPORT_LIMIT, ours.requests / ZENDESK_ACCOUNT_LIMIT)
    print(f"Under Zendesk's real limits (lifted here): the sync's {export_pages:,} export pages "
          f"at {ZENDESK_EXPORT_LIMIT} a minute take at least {floor:,.1f} min; the naive "
          f"script's ~{naive.requests:,} requests at {ZENDESK_ACCOUNT_LIMIT} a minute at least "
          f"{naive.requests / ZENDESK_ACCOUNT_LIMIT:,.1f} min.")


def customer_section(base: str, store: HistoryStore, counts: Counter[int], rounds: int) -> None:
    sandbox = Sandbox(base)
    client = our_client(base, "web")
    print("\n### One customer's complete history (after the sync)\n")
    print("| customer (true tickets) | ours: requests | ours: time | ours: tickets | "
          "naive: requests | naive: time | naive: tickets (missed) | requests naive/ours | "
          "time naive/ours |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    try:
        for target in TARGETS:
            user_id, true = nearest(counts, target)
            ours = sandbox.median(lambda u=user_id: our_history(store, client, u), rounds)
            naive = sandbox.median(lambda u=user_id: naive_history(naive_zenpy(base), u), rounds)
            print(f"| {user_id} ({true:,}; nearest to {target:,}) | {ours.requests:,} | "
                  f"{seconds(ours.seconds)} | {ours.tickets:,} | {naive.requests:,} | "
                  f"{seconds(naive.seconds)} | {naive.tickets:,} "
                  f"({share(true - naive.tickets, true)}) | "
                  f"{ratio(naive.requests, ours.requests)} | "
                  f"{ratio(naive.seconds, ours.seconds)} |")
        far = [t for t in TARGETS if abs(nearest(counts, t)[1] - t) > t / 10]
        if far:
            print(f"\nNo customer within 10% of {', '.join(f'{t:,}' for t in far)} tickets: "
                  "the nearest is shown.")
    finally:
        client.close()


def history_benchmark(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-zendesk-") as scratch:
        folder = Path(scratch) / "account"
        summary = generate(folder, args.customers, seed=args.seed, now=NOW)
        counts = ticket_counts(folder)
        print(f"Account: seed {args.seed}, {summary.users:,} customers, {summary.tickets:,} "
              f"tickets, {summary.ratings:,} ratings, {summary.survey_responses:,} survey "
              f"responses, as of {NOW:%Y-%m-%d}. Sandbox: {LATENCY_MS} ms latency on every "
              f"request; the export limit ({ZENDESK_EXPORT_LIMIT}/min) and the account limit "
              f"({ZENDESK_ACCOUNT_LIMIT}/min) lifted.")
        with running_sandbox(folder, now=NOW, latency_ms=LATENCY_MS, export_rate_limit=0,
                             rate_limit=0, db_path=Path(scratch) / "sandbox.db") as base:
            store = open_store(f"sqlite:///{Path(scratch) / 'store.db'}", base)
            try:
                account_section(base, folder, store, counts, args.naive_customers, args.seed)
                customer_section(base, store, counts, args.rounds)
            finally:
                store.engine.dispose()


# --- a million tickets ---------------------------------------------------------------------

SYNC_CHILD = """\
import atexit
import sys

from plugin.cli import main


def report_peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(f"peak_kib {peak}", file=sys.stderr)


atexit.register(report_peak)
main()
"""
"""`customer-value sync`, reporting its own peak resident memory on stderr as it exits."""
PEAK_LINE = re.compile(r"^peak_kib (\d+)$", re.MULTILINE)


def sync_command() -> list[str]:
    return [sys.executable, "-c", SYNC_CHILD, "sync"]


def timed_subprocess(command: list[str], env: dict[str, str], cwd: Path
                     ) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB (as the command reports it, `SYNC_CHILD`) and stdout
    of a command run to completion."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.perf_counter()
        returncode = subprocess.run(command, env=env, cwd=cwd, stdout=stdout,
                                    stderr=stderr).returncode
        wall = time.perf_counter() - started
    if returncode != 0:
        sys.exit(f"sync failed ({returncode}):\n{err.read_text()[-2000:]}")
    peaks = PEAK_LINE.findall(err.read_text())
    if not peaks:
        sys.exit(f"the sync did not report its peak memory:\n{err.read_text()[-2000:]}")
    return wall, int(peaks[-1]) / 1024, out.read_text()


def million_benchmark(args: argparse.Namespace) -> None:
    root = scratch_folder(args.scratch)
    with tempfile.TemporaryDirectory(prefix="bench-million-", dir=root) as scratch:
        work = Path(scratch)
        summary, generated = generate_account(work, MILLION_CUSTOMERS, seed=args.seed, now=NOW)
        print(f"\n### Sync of a {summary.tickets:,}-ticket account\n")
        print(generated)
        with served_account(work, NOW) as base:
            sandbox = Sandbox(base)
            sandbox.reset()
            store = work / "store.db"
            env = dict(os.environ, ZENDESK_BASE_URL=base, ZENDESK_EMAIL=EMAIL,
                       ZENDESK_API_TOKEN=TOKEN, DATABASE_URL=f"sqlite:///{store}")
            wall, peak_mib, output = timed_subprocess(sync_command(), env, work)
            sent = sandbox.count()
        on_disk = sum(f.stat().st_size for f in work.glob(f"{store.name}*"))
        print_million(output, wall, peak_mib, sent, on_disk)


def print_million(output: str, wall: float, peak_mib: float, sent: int, store_bytes: int
                  ) -> None:
    streams = {name: (int(records.replace(",", "")), int(pages.replace(",", "")))
               for name, records, pages in STREAM_LINE.findall(output)}
    records = sum(r for r, _ in streams.values())
    tickets = streams.get("tickets", (0, 0))[0]
    export_pages = sum(streams[s][1] for s in EXPORT_STREAMS if s in streams)
    print("\n| what | figure |")
    print("| --- | --- |")
    for name, (count, pages) in streams.items():
        print(f"| {name} | {count:,} records in {pages:,} pages |")
    print(f"| requests | {sent:,} |")
    print(f"| wall time of `customer-value sync` (process start to exit) | {seconds(wall)} |")
    print(f"| tickets per second | {tickets / wall:,.0f} |")
    print(f"| records per second (all streams) | {records / wall:,.0f} |")
    print(f"| peak resident memory of the sync process | {peak_mib:,.0f} MiB |")
    print(f"| history store on disk (SQLite, with its WAL) | {store_bytes / 1024**2:,.0f} MiB |")
    print(f"\nAt Zendesk's {ZENDESK_EXPORT_LIMIT} export requests a minute, its {export_pages:,}"
          f" export pages would take at least {export_pages / ZENDESK_EXPORT_LIMIT:,.0f} min "
          f"({export_pages / ZENDESK_EXPORT_LIMIT / 60:,.1f} h).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--naive-customers", type=int, default=1_000,
                        help="customers the naive script reads for the whole-account figure")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--million", action="store_true",
                        help="instead, sync a 1,000,000-ticket account (several minutes)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="folder for the million-ticket account (default: the temp folder)")
    args = parser.parse_args()
    if args.million:
        million_benchmark(args)
    else:
        history_benchmark(args)


if __name__ == "__main__":
    main()
