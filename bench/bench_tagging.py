"""Benchmark of tagging: webhooks accepted per second, end-to-end tag latency, the backfill's API
calls against the minimum, and a backfill of a 1,000,000-ticket account.

    .venv/bin/python bench/bench_tagging.py [--customers 2000] [--clients 8] [--calls 3000]
        [--tickets 100] [--interval 0.5] [--latency-ms 20] [--idle-probes 4] [--idle 60]
    .venv/bin/python bench/bench_tagging.py --million [--million-customers 100000] [--scratch DIR]

It generates a seeded account (2,000 customers, about 20,000 tickets, as of midnight UTC of the
day of the run) and serves it from the sandbox (a thread of this process) with both rate limits
lifted.

1. Webhooks accepted: the real app (built as `tests/test_hooks.py` builds it, WEBHOOK_SECRET =
   Zendesk's test secret, SQLite store and SQLite huey queue) runs in a child process, served by
   werkzeug's threaded development server on 127.0.0.1 (one thread per connection, no request
   log). `--clients` threads of this process, each with its own `requests.Session`, send
   `--calls` signed calls with distinct invocation ids; no consumer runs, so the figure is the
   receiver alone: verify, record the delivery, enqueue, answer 202. Beside it, `verify` alone
   on one pinned core.
2. End-to-end tag latency: the same app with an in-process huey consumer (2 worker threads, as
   `customer-value serve` runs beside the app) in the child process; the sandbox answers with
   `--latency-ms` of latency and finishes bulk update jobs after its default 0.3 s. A webhook
   goes out every `--interval` seconds for `--tickets` open tickets of distinct requesters whose
   value is clearly high or low (so a tag is expected); each ticket is polled every 20 ms until
   the tag shows. Then `--idle-probes` single webhooks, each after `--idle` seconds of quiet,
   show what an idle consumer adds (its polling of the SQLite queue backs off to at most 1 s,
   `plugin.service_layer.jobs.POLLING`, as in `customer-value worker`).
3. Backfill API calls: `plugin.service_layer.backfill.backfill` (background mode, a fresh
   SQLite store, the
   dataset's clock, default settings) against a fresh sandbox; requests counted by the sandbox
   (`/_sandbox/stats`) against the minimum: the sync's pages at the largest page sizes plus
   ceil(tickets tagged / 100) bulk updates. Job-status polls are listed apart.

`--million` runs, instead, a whole backfill of a generated 1,000,000-ticket account (100,000
customers; about 2.3 GB of JSON and 3 GB of sandbox database, removed afterwards) in a child
process (this script's `--backfill-child` mode: `customer-value backfill` with the dataset's
clock), timed, with its peak resident memory as the child itself reports it (`VmHWM`, the
high-water mark of its own address space). Not `getrusage`: at exec, Linux carries the
spawning process's peak into the child's `ru_maxrss`, and the spawning process here holds the
generator's and the sandbox's memory.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests
from million import MILLION_CUSTOMERS, generate_account, scratch_folder, served_account
from sqlalchemy import select

from integrations.http import Transport
from integrations.sandbox.server import QuietRequestHandler, running_sandbox
from integrations.zendesk import BULK_LIMIT, ZendeskClient
from plugin.core.model import absolute_cutoffs, score
from plugin.core.settings import Settings
from plugin.demo.generator import GenerationSummary, generate
from plugin.service_layer.backfill import BackfillReport, backfill
from plugin.service_layer.jobs import POLLING
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect, webhook_deliveries
from plugin.web.signature import TEST_SECRET, sign, verify

NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
"""The account's present: midnight (UTC) of the day of the run, so the worker, which scores
with the real clock, and the account agree on what is recent. The generator places everything
relative to it, so the same seed gives the same counts whatever the day."""
SEED = 2024
EMAIL, TOKEN = "bench@example.com", "bench-token"
AUTH = (f"{EMAIL}/token", TOKEN)
TAGS = ("cv_high", "cv_low")
POLL_SECONDS = 0.02
TAG_TIMEOUT = 60.0
VALUE_MARGIN = 1.0
"""Points beyond a tier threshold a requester's value must lie to be picked for part 2."""
EXPORT_PAGE, LIST_PAGE = 1000, 100
"""Records per page: incremental exports, and the cursor-paged rating lists."""
STREAMS = (
    ("organizations", "GET /api/v2/incremental/organizations", EXPORT_PAGE),
    ("users", "GET /api/v2/incremental/users/cursor", EXPORT_PAGE),
    ("tickets", "GET /api/v2/incremental/tickets/cursor", EXPORT_PAGE),
    ("satisfaction ratings", "GET /api/v2/satisfaction_ratings", LIST_PAGE),
    ("survey responses", "GET /api/v2/guide/survey_responses", LIST_PAGE),
)
"""What the sync reads: stream, the sandbox's stats key, the largest page."""
POLL_KEY = "GET /api/v2/tickets/{ticket_id}/tags"
UPDATE_KEY = "PUT /api/v2/tickets/update_many"
JOB_KEY = "GET /api/v2/job_statuses/{job_status_id}"
PROGRESS_EVERY = 10_000
"""Requesters between two progress lines of the backfill child."""


# --- helpers -------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def duration(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min" if seconds >= 120 else f"{seconds:,.1f} s"


def heading(label: str) -> None:
    """Print `label` as the heading of a part of the run."""
    print(f"\n### {label}\n", flush=True)


class Sandbox:
    """The sandbox's control endpoints: its request counter and its knobs."""

    def __init__(self, base: str):
        self.base = base

    def reset(self) -> None:
        requests.post(f"{self.base}/_sandbox/reset", timeout=10).raise_for_status()

    def stats(self) -> Counter[str]:
        body = requests.get(f"{self.base}/_sandbox/stats", timeout=30).json()
        return Counter(body["by_endpoint"])

    def configure(self, **knobs: Any) -> None:
        requests.post(f"{self.base}/_sandbox/config", json=knobs, timeout=10).raise_for_status()

    def tags(self, session: requests.Session, ticket_id: int) -> list[str]:
        """The ticket's tags (`/tags`: an endpoint the worker does not use, so the polls are
        counted apart from its requests)."""
        answer = session.get(f"{self.base}/api/v2/tickets/{ticket_id}/tags", auth=AUTH,
                             timeout=30)
        return answer.json()["tags"]


def client_for(base: str) -> ZendeskClient:
    """A Zendesk client as the command line's sync and backfill make one (background mode)."""
    return ZendeskClient(Transport(base_url=base, session=requests.Session(), auth=AUTH,
                                   mode="background"))


def open_store(database: str, base: str) -> HistoryStore:
    upgrade(database)
    engine = connect(database)
    return HistoryStore(engine, account_id(engine, base, NOW))


def synced_store(database: str, base: str) -> HistoryStore:
    """A history store loaded from the sandbox, as `build_app` in the tests loads it."""
    store = open_store(database, base)
    client = client_for(base)
    try:
        sync(client, store, clock=lambda: datetime.now(UTC))
    finally:
        client.close()
    return store


# --- the app in a child process -----------------------------------------------------------

def app_config(database: str, base: str, queue_path: str) -> dict[str, Any]:
    """The test suite's app configuration (`tests/test_hooks.py` `build_app`)."""
    return {"TESTING": True, "SECRET_KEY": "k" * 40, "DATABASE_URL": database,
            "ZENDESK_BASE_URL": base, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN,
            "WEBHOOK_SECRET": TEST_SECRET, "QUEUE_PATH": queue_path, "TAG_ALWAYS": True}


def serve_app(config: dict[str, Any], workers: int, pipe: Connection) -> None:
    """Child process: the app on werkzeug's threaded server (and `workers` queue consumer
    threads), until the parent sends anything down `pipe`."""
    from huey.consumer import Consumer
    from werkzeug.serving import make_server

    from plugin import create_app

    app = create_app(config)
    consumer = None
    if workers:
        consumer = Consumer(app.extensions["queue"], workers=workers, worker_type="thread",
                            periodic=False, **POLLING)
        consumer.start()
    server = make_server("127.0.0.1", 0, app, threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pipe.send(server.server_port)
    pipe.recv()
    server.shutdown()
    server.server_close()
    if consumer is not None:
        consumer.stop(graceful=True)
    app.extensions["customer_value"].close()
    pipe.send("stopped")


@contextmanager
def app_process(config: dict[str, Any], workers: int) -> Iterator[str]:
    """The app served from a fresh (spawned) process; yields its base URL."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_app, args=(config, workers, theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(120):
            raise RuntimeError("the app process did not start")
        yield f"http://127.0.0.1:{ours.recv()}"
    finally:
        ours.send("stop")
        if ours.poll(60):
            ours.recv()
        process.join(30)
        if process.is_alive():
            process.terminate()


def signed_call(session: requests.Session, url: str, ticket_id: int, requester_id: int,
                invocation: str) -> requests.Response:
    """One call as Zendesk's trigger sends it, signed with the test secret."""
    raw = json.dumps({"ticket_id": str(ticket_id), "requester_id": str(requester_id)}).encode()
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    headers = {"X-Zendesk-Webhook-Signature": sign(TEST_SECRET, stamp, raw),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp,
               "X-Zendesk-Webhook-Invocation-Id": invocation,
               "Content-Type": "application/json"}
    return session.post(f"{url}/webhooks/zendesk", data=raw, headers=headers, timeout=30)


# --- 1. webhooks accepted per second -------------------------------------------------------

@dataclass
class Burst:
    """What a burst of webhook calls got back."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


def send_share(url: str, count: int, start: threading.Barrier, burst: Burst,
               lock: threading.Lock) -> None:
    """One client thread: `count` signed calls, one after another, on its own session."""
    session = requests.Session()
    latencies, statuses = [], Counter()
    start.wait()
    for number in range(count):
        began = time.perf_counter()
        answer = signed_call(session, url, 1 + number, 10_000_001, uuid.uuid4().hex)
        latencies.append(time.perf_counter() - began)
        statuses[answer.status_code] += 1
    session.close()
    with lock:
        burst.latencies += latencies
        burst.statuses += statuses


def burst(url: str, clients: int, calls: int) -> Burst:
    """`calls` signed calls from `clients` concurrent threads; wall time from the first to
    the last answer."""
    result, lock = Burst(), threading.Lock()
    start = threading.Barrier(clients + 1)
    shares = [calls // clients + (1 if i < calls % clients else 0) for i in range(clients)]
    threads = [threading.Thread(target=send_share, args=(url, share, start, result, lock))
               for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


@contextmanager
def one_core() -> Iterator[str]:
    """This process pinned to one core while the block runs."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return
    before = os.sched_getaffinity(0)
    core = min(before)
    os.sched_setaffinity(0, {core})
    try:
        yield f"core {core}"
    finally:
        os.sched_setaffinity(0, before)


def verify_rate(rounds: int = 5, count: int = 20_000) -> tuple[str, float]:
    """Calls of `verify` a second on one core (best of `rounds`), on a typical body."""
    raw = json.dumps({"ticket_id": "123456", "requester_id": "10000001"}).encode()
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.isoformat().replace("+00:00", "Z")
    signature = sign(TEST_SECRET, stamp, raw)
    with one_core() as where:
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            for _ in range(count):
                verify(TEST_SECRET, raw, signature, stamp, now=now)
            times.append(time.perf_counter() - began)
    return where, count / min(times)


def webhooks_section(base: str, scratch: Path, args: argparse.Namespace) -> None:
    heading("Webhooks accepted per second")
    database = f"sqlite:///{scratch / 'receiver.db'}"
    synced_store(database, base).engine.dispose()
    config = app_config(database, base, str(scratch / "receiver-queue.db"))
    with app_process(config, workers=0) as url:
        burst(url, args.clients, min(200, args.calls))  # warm-up, not counted
        result = burst(url, args.clients, args.calls)
    accepted = result.statuses[202]
    others = ", ".join(f"{n:,} × {s}" for s, n in sorted(result.statuses.items()) if s != 202)
    print(f"{args.calls:,} signed calls (distinct invocation ids) from {args.clients} client "
          f"threads with keep-alive sessions, after {min(200, args.calls)} warm-up calls; "
          f"the app in its own process on werkzeug's threaded development server, no consumer "
          f"running. Answers other than 202: {others or 'none'}.\n")
    print("| what | figure |")
    print("| --- | --- |")
    print(f"| webhooks accepted (202) per second | {accepted / result.seconds:,.0f} |")
    print(f"| answer time p50 / p95 / max | {ms(percentile(result.latencies, 0.5))} / "
          f"{ms(percentile(result.latencies, 0.95))} / {ms(max(result.latencies))} |")
    where, rate = verify_rate()
    print(f"| signature check alone (`verify`, one pinned {where}, best of 5) | "
          f"{rate:,.0f} calls/s |")


# --- 2. end-to-end tag latency -------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """An open ticket whose requester's value is clearly high or low."""

    ticket_id: int
    requester_id: int
    tag: str


@dataclass
class Timing:
    """One webhook's way to a tag: when it was sent, answered and the tag seen (wall clock)."""

    target: Target
    invocation: str
    sent: datetime
    answered: datetime | None = None
    status: int | None = None
    seen: datetime | None = None
    tags: tuple[str, ...] = ()


def targets(store: HistoryStore, count: int) -> list[Target]:
    """`count` open, untagged tickets of distinct requesters whose value lies VALUE_MARGIN
    points beyond a threshold at the moment (the worker scores with the real clock)."""
    settings, now = Settings(), datetime.now(UTC)
    cutoffs = absolute_cutoffs(settings)
    found: list[Target] = []
    for history in store.histories():
        value = score(history, settings, now, cutoffs).value
        tag = (settings.tag_high if value >= cutoffs.high + VALUE_MARGIN else
               settings.tag_low if value <= cutoffs.low - VALUE_MARGIN else None)
        ticket = next((t for t in history.tickets if t.status != "closed"
                       and not set(t.tags) & set(TAGS)), None)
        if tag and ticket is not None:
            found.append(Target(ticket.id, history.profile.id, tag))
    found.sort(key=lambda t: t.requester_id)
    highs = [t for t in found if t.tag == settings.tag_high]
    lows = [t for t in found if t.tag == settings.tag_low]
    mixed = [t for pair in zip(highs, lows, strict=False) for t in pair]
    mixed += highs[len(lows):] + lows[len(highs):]
    return mixed[:count]


def follow(url: str, sandbox: Sandbox, timing: Timing) -> None:
    """Send the webhook, then poll the ticket every POLL_SECONDS until one of our tags shows."""
    session = requests.Session()
    target = timing.target
    answer = signed_call(session, url, target.ticket_id, target.requester_id, timing.invocation)
    timing.answered, timing.status = datetime.now(UTC), answer.status_code
    deadline = time.monotonic() + TAG_TIMEOUT
    while time.monotonic() < deadline:
        tags = tuple(t for t in sandbox.tags(session, target.ticket_id) if t in TAGS)
        if tags:
            timing.seen, timing.tags = datetime.now(UTC), tags
            break
        time.sleep(POLL_SECONDS)
    session.close()


def paced(url: str, sandbox: Sandbox, chosen: list[Target], interval: float) -> list[Timing]:
    """One webhook every `interval` seconds, each followed by its own thread."""
    timings, threads = [], []
    began = time.monotonic()
    for number, target in enumerate(chosen):
        time.sleep(max(0.0, began + number * interval - time.monotonic()))
        timing = Timing(target, uuid.uuid4().hex, datetime.now(UTC))
        thread = threading.Thread(target=follow, args=(url, sandbox, timing))
        thread.start()
        timings.append(timing)
        threads.append(thread)
    for thread in threads:
        thread.join()
    return timings


def after_idle(url: str, sandbox: Sandbox, chosen: list[Target], idle: float) -> list[Timing]:
    """One webhook at a time, each after `idle` seconds without any."""
    timings = []
    for target in chosen:
        time.sleep(idle)
        timing = Timing(target, uuid.uuid4().hex, datetime.now(UTC))
        follow(url, sandbox, timing)
        timings.append(timing)
    return timings


def finished_at(database: str, invocations: list[str]) -> dict[str, datetime]:
    """When the worker marked each delivery done (`done_at`, the app's wall clock)."""
    engine = connect(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(webhook_deliveries.c.invocation_id,
                                       webhook_deliveries.c.done_at).where(
                webhook_deliveries.c.invocation_id.in_(invocations))).all()
    finally:
        engine.dispose()
    return {row.invocation_id: row.done_at.replace(tzinfo=UTC) for row in rows
            if row.done_at is not None}


def wait_done(database: str, invocations: list[str], limit: float = 60.0) -> None:
    """Until the worker has finished every delivery (its last job-status poll included)."""
    deadline = time.monotonic() + limit
    while (len(finished_at(database, invocations)) < len(invocations)
           and time.monotonic() < deadline):
        time.sleep(0.5)


def latency_rows(label: str, timings: list[Timing], done: dict[str, datetime]) -> None:
    seen = [(t.seen - t.sent).total_seconds() for t in timings if t.seen]
    worker = [(done[t.invocation] - t.sent).total_seconds() for t in timings
              if t.invocation in done]
    accepted = [(t.answered - t.sent).total_seconds() for t in timings if t.answered]
    for what, values in (("202 answered", accepted), ("tag visible in the sandbox", seen),
                         ("worker's job finished (`done_at`)", worker)):
        if values:
            print(f"| {label} | {what} | {len(values)} | {ms(percentile(values, 0.5))} | "
                  f"{ms(percentile(values, 0.95))} | {ms(max(values))} |")


def wrong_tags(timings: list[Timing]) -> list[str]:
    return [f"{t.target.ticket_id}: {t.tags or 'none'} (expected {t.target.tag})"
            for t in timings if t.tags != (t.target.tag,) or t.status != 202]


def latency_section(base: str, scratch: Path, args: argparse.Namespace) -> None:
    heading("End-to-end tag latency")
    database = f"sqlite:///{scratch / 'worker.db'}"
    store = synced_store(database, base)
    chosen = targets(store, args.tickets + args.idle_probes)
    store.engine.dispose()
    sandbox = Sandbox(base)
    sandbox.configure(latency_ms=args.latency_ms)
    config = app_config(database, base, str(scratch / "worker-queue.db"))
    with app_process(config, workers=2) as url:
        sandbox.reset()
        timings = paced(url, sandbox, chosen[:args.tickets], args.interval)
        wait_done(database, [t.invocation for t in timings])
        traffic = sandbox.stats()
        probes = after_idle(url, sandbox, chosen[args.tickets:], args.idle)
    sandbox.configure(latency_ms=0)
    done = finished_at(database, [t.invocation for t in timings + probes])
    print(f"{len(timings)} open tickets of distinct requesters (value beyond a threshold by at "
          f"least {VALUE_MARGIN:g} point: "
          f"{sum(t.target.tag == 'cv_high' for t in timings)} high, "
          f"{sum(t.target.tag == 'cv_low' for t in timings)} low), one webhook every "
          f"{args.interval:g} s; the app and one huey consumer (2 worker threads) in their own "
          f"process; the sandbox answers after {args.latency_ms:g} ms and finishes bulk update "
          f"jobs after 0.3 s; each ticket polled every {POLL_SECONDS * 1000:.0f} ms (plus the "
          f"latency). Times from sending the webhook.\n")
    print("| traffic | from sending the webhook to | tickets | p50 | p95 | max |")
    print("| --- | --- | --- | --- | --- | --- |")
    latency_rows(f"one every {args.interval:g} s", timings, done)
    latency_rows(f"one after {args.idle:g} s idle", probes, done)
    wrong = wrong_tags(timings + probes)
    print(f"\nTickets without the expected tag (or not answered 202): {len(wrong)}"
          + (f": {'; '.join(wrong[:10])}" if wrong else "."))
    polls = traffic.pop(POLL_KEY, 0)
    print(f"The worker's requests to Zendesk for the {len(timings)} paced tickets: "
          + ", ".join(f"`{k}` {n:,}" for k, n in sorted(traffic.items()))
          + f" (besides the benchmark's {polls:,} tag polls).")


# --- 3. backfill API calls against the minimum ---------------------------------------------

def pages(records: int, size: int) -> int:
    """The fewest pages `records` fit in (an empty stream still takes one request)."""
    return max(1, math.ceil(records / size))


def records_by_stream(summary: GenerationSummary, store: HistoryStore) -> dict[str, int]:
    """Records each stream holds: the store's counts after the sync, the generator's for the
    two rating sources (the store keeps them in one table)."""
    counts = store.counts()
    return {"organizations": counts["organizations"], "users": counts["users"],
            "tickets": counts["tickets"], "satisfaction ratings": summary.ratings,
            "survey responses": summary.survey_responses}


class Watch:
    """A backfill progress callback: when the first requester was scored (the sync's end)
    and, if `every` is set, a progress line on stderr every `every` requesters."""

    def __init__(self, every: int = 0):
        self.began = time.monotonic()
        self.every = every
        self.sync_seconds: float | None = None

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.began
        if self.sync_seconds is None:
            self.sync_seconds = elapsed
            if self.every:
                print(f"sync done after {elapsed:.0f} s; scoring {total:,} requesters",
                      file=sys.stderr, flush=True)
        if self.every and (done % self.every == 0 or done == total):
            print(f"{done:,} of {total:,} requesters after {elapsed:.0f} s", file=sys.stderr,
                  flush=True)


def counting_updates(client: ZendeskClient, sizes: list[int]) -> None:
    """Record the size of each bulk update the backfill sends (instrumentation only)."""
    update = client.update_tags

    def counted(ticket_ids: list[int], **changes: Any):
        sizes.append(len(ticket_ids))
        return update(ticket_ids, **changes)

    client.update_tags = counted  # type: ignore[method-assign]


def run_backfill(base: str, database: str, sizes: list[int]
                 ) -> tuple[BackfillReport, HistoryStore, float]:
    """The backfill's report, its store, and the seconds until the first requester was
    scored (the sync, and the tier cutoffs)."""
    store = open_store(database, base)
    client = client_for(base)
    counting_updates(client, sizes)
    watch = Watch()
    try:
        report = backfill(client, store, Settings(), clock=lambda: NOW, progress=watch)
    finally:
        client.close()
    return report, store, watch.sync_seconds or 0.0


def backfill_section(folder: Path, summary: GenerationSummary, scratch: Path) -> None:
    heading("Backfill API calls against the minimum")
    with running_sandbox(folder, now=NOW, export_rate_limit=0, rate_limit=0,
                         db_path=scratch / "sandbox-backfill.db") as base:
        sandbox = Sandbox(base)
        sandbox.reset()
        sizes: list[int] = []
        report, store, sync_seconds = run_backfill(base, f"sqlite:///{scratch / 'backfill.db'}",
                                                   sizes)
        sent = sandbox.stats()
    records = records_by_stream(summary, store)
    store.engine.dispose()
    print(f"`backfill` (default settings, the dataset's clock) on {summary.users:,} "
          f"customers and {summary.tickets:,} tickets, against a fresh sandbox without "
          f"latency and with its default 0.3 s bulk jobs: {report.seconds:,.1f} s, of which "
          f"{sync_seconds:,.1f} s until the first requester was scored (the sync); "
          f"{report.api_calls:,} calls counted by the client. Tiers: "
          + ", ".join(f"{report.tiers[t]:,} {t}" for t in ("high", "medium", "low")) + ".\n")
    print("| requests | records | sent | minimum |")
    print("| --- | --- | --- | --- |")
    minimum = 0
    for stream, key, size in STREAMS:
        least = pages(records[stream], size)
        minimum += least
        print(f"| {stream} pages ({size:,} a page) | {records[stream]:,} | {sent[key]:,} | "
              f"{least:,} |")
    least = math.ceil(report.tickets_tagged / BULK_LIMIT)
    minimum += least
    print(f"| bulk updates (100 tickets each) | {report.tickets_tagged:,} tickets tagged | "
          f"{sent[UPDATE_KEY]:,} | {least:,} |")
    counted = {key for _, key, _ in STREAMS} | {UPDATE_KEY, JOB_KEY}
    other = sum(n for k, n in sent.items() if k not in counted)
    total = sum(n for k, n in sent.items() if k != JOB_KEY)
    print(f"| other requests | | {other:,} | 0 |")
    print(f"| **total, without job-status polls** | | **{total:,}** | **{minimum:,}** "
          f"(ratio {total / minimum:.2f}) |")
    print(f"| job-status polls (extra by design: one wait per update) | | {sent[JOB_KEY]:,} | "
          f"|")
    full = sum(1 for s in sizes if s == BULK_LIMIT)
    print(f"\nBulk update sizes: {full} of 100 tickets, {len(sizes) - full} smaller "
          f"({', '.join(str(s) for s in sorted(s for s in sizes if s < BULK_LIMIT))}).")


# --- 4. a million tickets ------------------------------------------------------------------

def backfill_child() -> None:
    """Child mode: what `customer-value backfill` runs, with the dataset's clock; prints the
    report (and when the first requester was done, i.e. the sync's end) as JSON."""
    base, database = os.environ["ZENDESK_BASE_URL"], os.environ["DATABASE_URL"]
    now = datetime.fromisoformat(os.environ["BENCH_NOW"])
    store = open_store(database, base)
    client = client_for(base)
    watch = Watch(every=PROGRESS_EVERY)
    try:
        report = backfill(client, store, Settings(), clock=lambda: now, progress=watch)
    finally:
        client.close()
    print(json.dumps({"tickets_tagged": report.tickets_tagged, "updates": report.updates,
                      "api_calls": report.api_calls, "seconds": report.seconds,
                      "sync_seconds": watch.sync_seconds,
                      "tiers": dict(report.tiers), "failed": len(report.failed_tickets),
                      "tickets": store.counts()["tickets"], "peak_mib": own_peak_mib()}))


def own_peak_mib() -> float:
    """This process's peak resident memory in MiB: the high-water mark of its own address
    space (`VmHWM`). `getrusage`'s `ru_maxrss` would also count the peak of the process that
    started it, which Linux carries over at exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def timed_child(env: dict[str, str], cwd: Path, limit: float) -> tuple[float, float, dict]:
    """Wall seconds, peak resident MiB (as the child reports it) and the JSON report of the
    backfill child; stopped, with what it got through, after `limit` seconds."""
    command = [sys.executable, str(Path(__file__).resolve()), "--backfill-child"]
    log = cwd / "stderr.txt"
    began = time.perf_counter()
    try:
        with log.open("w") as stderr:
            done = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=stderr, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        sys.exit(f"stopped after {limit:.0f} s; its progress:\n{log.read_text()[-2000:]}")
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"backfill failed ({done.returncode}):\n"
                 f"{(cwd / 'stderr.txt').read_text()[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, report["peak_mib"], report


def million_benchmark(args: argparse.Namespace) -> None:
    root = scratch_folder(args.scratch)
    with tempfile.TemporaryDirectory(prefix="bench-tagging-million-", dir=root) as scratch:
        work = Path(scratch)
        summary, generated = generate_account(work, args.million_customers, seed=SEED,
                                              now=NOW)
        heading(f"Backfill of a {summary.tickets:,}-ticket account")
        print(generated)
        with served_account(work, NOW, jobs_note=", bulk jobs done after 0.3 s") as base:
            sandbox = Sandbox(base)
            sandbox.reset()
            env = dict(os.environ, ZENDESK_BASE_URL=base, ZENDESK_EMAIL=EMAIL,
                       ZENDESK_API_TOKEN=TOKEN, DATABASE_URL=f"sqlite:///{work / 'store.db'}",
                       BENCH_NOW=NOW.isoformat())
            wall, peak, report = timed_child(env, work, args.limit)
            sent = sandbox.stats()
        print_million(summary, report, wall, peak, sent)


def print_million(summary: GenerationSummary, report: dict, wall: float, peak: float,
                  sent: Counter[str]) -> None:
    sync_seconds = report["sync_seconds"] or 0.0
    tiers = report["tiers"]
    print("\n| what | figure |")
    print("| --- | --- |")
    print(f"| wall time of the backfill process (start to exit) | {duration(wall)} |")
    print(f"| of which the sync (until the first requester was scored) | "
          f"{duration(sync_seconds)} |")
    print(f"| tickets per second, whole run (sync included) | {summary.tickets / wall:,.0f} |")
    print(f"| tickets per second, scoring and tagging after the sync | "
          f"{summary.tickets / max(report['seconds'] - sync_seconds, 1e-9):,.0f} |")
    print(f"| peak resident memory of the backfill process | {peak:,.0f} MiB |")
    print(f"| customers by tier | {tiers.get('high', 0):,} high, {tiers.get('medium', 0):,} "
          f"medium, {tiers.get('low', 0):,} low |")
    print(f"| tickets tagged | {report['tickets_tagged']:,} in {report['updates']:,} bulk "
          f"updates (minimum {math.ceil(report['tickets_tagged'] / BULK_LIMIT):,}); "
          f"{report['failed']} refused |")
    print(f"| requests (sandbox count) | {sum(sent.values()):,}, of which "
          f"{sent[JOB_KEY]:,} job-status polls |")


# --- main ----------------------------------------------------------------------------------

def small_benchmark(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tagging-") as folder:
        scratch = Path(folder)
        summary = generate(scratch / "account", args.customers, seed=SEED, now=NOW)
        print(f"Account: seed {SEED}, {summary.users:,} customers, {summary.tickets:,} tickets, "
              f"{summary.ratings:,} ratings, {summary.survey_responses:,} survey responses, as "
              f"of {NOW:%Y-%m-%d}. Sandbox in this process, both rate limits lifted.")
        with running_sandbox(scratch / "account", now=NOW, export_rate_limit=0, rate_limit=0,
                             db_path=scratch / "sandbox.db") as base:
            webhooks_section(base, scratch, args)
            latency_section(base, scratch, args)
        backfill_section(scratch / "account", summary, scratch)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent webhook senders")
    parser.add_argument("--calls", type=int, default=3_000, help="webhook calls in the burst")
    parser.add_argument("--tickets", type=int, default=100, help="tickets timed end to end")
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between webhooks in the latency run")
    parser.add_argument("--latency-ms", type=float, default=20.0,
                        help="the sandbox's latency in the latency run")
    parser.add_argument("--idle-probes", type=int, default=4,
                        help="webhooks sent one at a time after --idle seconds of quiet")
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--million", action="store_true",
                        help="instead, backfill a 1,000,000-ticket account (long)")
    parser.add_argument("--million-customers", type=int, default=MILLION_CUSTOMERS)
    parser.add_argument("--scratch", type=Path, default=None,
                        help="folder for the million-ticket account (default: the temp folder)")
    parser.add_argument("--limit", type=float, default=1200.0,
                        help="seconds the million-ticket backfill may take before it is stopped")
    parser.add_argument("--backfill-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.backfill_child:
        backfill_child()
    elif args.million:
        million_benchmark(args)
    else:
        small_benchmark(args)


if __name__ == "__main__":
    main()
