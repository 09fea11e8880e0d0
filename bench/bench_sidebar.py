"""Benchmark of the sidebar's JSON (`GET /api/customers/<id>/value`): warm under concurrent
clients, and cold with Zendesk 100 ms away.

    .venv/bin/python bench/bench_sidebar.py [--customers 10000] [--clients 32] [--seconds 20]
                                            [--workers 2] [--threads 4] [--cold 40]
    .venv/bin/python bench/bench_sidebar.py --server werkzeug [--requests 3000]

It generates a seeded account, serves it from the sandbox, syncs it into a temporary SQLite
history store (as `customer-value sync` does) and runs the app in demo mode. Sessions are app
tokens sent as `Authorization: Bearer`, as the sidebar sends them.

- Warm: the production server, `customer-value serve` (granian, `--workers` processes of
  `--threads` threads, `serve`'s own defaults unless told; no queue consumer), under wrk
  (Debian's `wrk`, written in C, so the load costs the server's 2 cores little): one
  connection, then `--clients` keep-alive connections, each sending its next request as soon
  as the last is answered, for `--seconds` each, over 200 customers. Each process keeps its
  own value cache, so the customers are first requested round after round until a round costs
  Zendesk nothing; the table's last column checks that the measured runs cost nothing either.
  Goal: p95 under 25 ms with 32 clients.
  `--server werkzeug` measures werkzeug's development server in this process instead, with
  Python clients in a separate process.
- Cold: the sandbox at 100 ms latency; customers not yet in the app's cache are requested one
  at a time, each timed, and the sandbox's request count before and after gives the round trips
  to Zendesk it caused (they run in sequence). Goal: at most 3 round trips. Measured for stored
  customers (after a sync) and, with an empty store, for customers the sync has not reached.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin import create_app
from plugin.cli.server import ServerOptions
from plugin.demo.generator import generate
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from plugin.web.auth import issue_app_token

NOW = datetime(2025, 6, 1, tzinfo=UTC)
HOST = "127.0.0.1"
EMAIL, TOKEN = "bench@example.com", "bench-token"
SECRET = secrets.token_hex(32)
WARM_CUSTOMERS = 200
COLD_LATENCY_MS = 100
WARM_GOAL_MS, COLD_GOAL_TRIPS = 25.0, 3


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request."""

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


@dataclass(frozen=True)
class Cold:
    """One cold request: its time and the Zendesk requests it caused."""

    seconds: float
    trips: int
    status: int


# --- set-up --------------------------------------------------------------------------------

def customers_with_tickets(folder: Path) -> list[int]:
    """The requesters of the dataset's tickets."""
    with (folder / "tickets.json").open(encoding="utf-8") as handle:
        return sorted({record["requester_id"] for record in json.load(handle)["tickets"]})


def synced_store(base: str, database: str) -> None:
    """Sync the sandbox into `database`, as `customer-value sync` does."""
    upgrade(database)
    engine = connect(database)
    store = HistoryStore(engine, account_id(engine, base, datetime.now(UTC)))
    client = ZendeskClient(Transport(base_url=base, session=requests.Session(),
                                     auth=(f"{EMAIL}/token", TOKEN), mode="background"))
    try:
        sync(client, store, clock=lambda: datetime.now(UTC))
    finally:
        client.close()
        engine.dispose()


@contextmanager
def served_app(base: str, database: str, workers: int, threads: int) -> Iterator[str]:
    """`customer-value serve` over `database` and the sandbox at `base`, in demo
    mode with no queue consumer, on a free port; yields its URL once it answers."""
    port = free_port()
    instance = tempfile.mkdtemp(prefix="bench-sidebar-instance-")
    env = {**os.environ, "CUSTOMER_VALUE_INSTANCE": instance, "DATABASE_URL": database,
           "CUSTOMER_VALUE_DEMO_MODE": "true", "CUSTOMER_VALUE_SECRET_KEY": SECRET,
           "ZENDESK_BASE_URL": base, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), "--workers",
         str(workers), "--threads", str(threads), "--consumers", "0"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


@contextmanager
def serving_app(base: str, database: str) -> Iterator[str]:
    """The app over `database` and the sandbox at `base`, on a free port; yields its URL."""
    app = create_app({"DEMO_MODE": True, "SECRET_KEY": SECRET, "DATABASE_URL": database,
                      "ZENDESK_BASE_URL": base, "ZENDESK_EMAIL": EMAIL,
                      "ZENDESK_API_TOKEN": TOKEN})
    server = make_server(HOST, 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="app", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        app.extensions["customer_value"].close()


def session_headers() -> dict[str, str]:
    token = issue_app_token(SECRET.encode(), account="demo", user_id=1, role="agent",
                            now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def sessions(ids: list[int]) -> dict[int, dict[str, str]]:
    """One session per customer, as each sidebar load has its own (a session is bound to the
    customer it first reads; any other is a 403)."""
    return {user_id: session_headers() for user_id in ids}


def sandbox_requests(base: str) -> int:
    return requests.get(f"{base}/_sandbox/stats", timeout=10).json()["requests"]


def set_latency(base: str, latency_ms: float) -> None:
    requests.post(f"{base}/_sandbox/config", json={"latency_ms": latency_ms},
                  timeout=10).raise_for_status()


# --- warm ----------------------------------------------------------------------------------

def client_thread(url: str, headers: dict[int, dict[str, str]], ids: list[int], start: int,
                  step: int, total: int, out: list[float], failures: list[int]) -> None:
    """Requests number start, start+step, ... below `total`, each timed, on one connection."""
    with requests.Session() as session:
        for number in range(start, total, step):
            user_id = ids[number % len(ids)]
            began = time.perf_counter()
            response = session.get(f"{url}/api/customers/{user_id}/value",
                                   headers=headers[user_id], timeout=30)
            out.append(time.perf_counter() - began)
            if response.status_code != 200:
                failures.append(response.status_code)


def load(url: str, headers: dict[int, dict[str, str]], ids: list[int], clients: int, total: int
         ) -> tuple[list[float], list[int], float, float]:
    """Runs in its own process: `clients` threads share `total` requests. Latencies (s),
    failed statuses, the wall time of the whole burst and the CPU time the clients used."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[int] = []
    threads = [threading.Thread(target=client_thread, args=(
        url, headers, ids, n, clients, total, latencies[n], failures)) for n in range(clients)]
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ([s for part in latencies for s in part], failures, time.perf_counter() - began,
            time.process_time() - cpu)


def warm_row(url: str, base: str, headers: dict[int, dict[str, str]], ids: list[int], clients: int,
             total: int) -> float:
    """One burst of `clients` clients, printed as a table row; its p95 in ms."""
    before = sandbox_requests(base)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        latencies, failures, wall, cpu = pool.apply(load, (url, headers, ids, clients, total))
    caused = sandbox_requests(base) - before
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p95, p99 = (cuts[i - 1] * 1000 for i in (50, 95, 99))
    print(f"| {clients} | {len(latencies):,} | {len(latencies) / wall:,.0f} req/s | "
          f"{p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {max(latencies) * 1000:.1f} ms | "
          f"{len(failures)} | {caused} | {100 * cpu / wall:.0f}% |")
    return p95


def warm(url: str, base: str, ids: list[int], clients: int, total: int) -> None:
    headers = sessions(ids)
    with requests.Session() as session:
        for user_id in ids:
            session.get(f"{url}/api/customers/{user_id}/value", headers=headers[user_id],
                        timeout=60).raise_for_status()
    print(f"\n### Warm cache: {len(ids)} cached customers\n")
    print("| clients | requests | throughput | p50 | p95 | p99 | max | failed | "
          "Zendesk requests caused | clients' CPU (of one core) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    warm_row(url, base, headers, ids, 1, total)
    p95 = warm_row(url, base, headers, ids, clients, total)
    verdict = "met" if p95 < WARM_GOAL_MS else "MISSED"
    print(f"\nGoal p95 < {WARM_GOAL_MS:.0f} ms with {clients} clients: {verdict} "
          f"({p95:.1f} ms).")


def warm_up(url: str, base: str, ids: list[int], headers: dict[int, dict[str, str]]) -> int:
    """Request every customer from many connections, round after round, until a round costs
    Zendesk nothing: then every server process has each one cached. The rounds it took."""
    def fetch(user_id: int) -> None:
        requests.get(f"{url}/api/customers/{user_id}/value", headers=headers[user_id],
                     timeout=60).raise_for_status()

    with ThreadPoolExecutor(16) as pool:
        for round_number in range(1, 41):
            before = sandbox_requests(base)
            list(pool.map(fetch, ids * 4))
            if sandbox_requests(base) == before:
                return round_number
    raise RuntimeError("the cache did not settle after 40 rounds")


WRK_SCRIPT = r"""
local paths = {%(paths)s}
local auths = {%(authorizations)s}
local n = 0
request = function()
  n = n + 1
  local i = (n %% #paths) + 1
  return wrk.format("GET", paths[i], {["Authorization"] = auths[i]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status,
    0, 0))
end
"""


def wrk_row(url: str, base: str, headers: dict[int, dict[str, str]], ids: list[int], clients: int,
            seconds: int) -> float:
    """One wrk run of `clients` connections for `seconds`, printed as a table row; p95 in ms."""
    paths = ", ".join(f'"/api/customers/{user_id}/value"' for user_id in ids)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"paths": paths, "authorizations": ", ".join(
            f'"{headers[user_id]["Authorization"]}"' for user_id in ids)})
    before = sandbox_requests(base)
    try:
        output = subprocess.run(
            ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s",
             "-s", script.name, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    caused = sandbox_requests(base) - before
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    total, duration, p50, p95, p99, top, broken, bad, _, _ = map(int, line.split()[1:])
    print(f"| {clients} | {total:,} | {total / (duration / 1e6):,.0f} req/s | {p50 / 1000:.1f} ms "
          f"| {p95 / 1000:.1f} ms | {p99 / 1000:.1f} ms | {top / 1000:.1f} ms | "
          f"{broken + bad} | {caused} |")
    return p95 / 1000


def warm_served(url: str, base: str, ids: list[int], clients: int, seconds: int,
                  workers: int, threads: int) -> None:
    headers = sessions(ids)
    rounds = warm_up(url, base, ids, headers)
    print(f"\n### Warm cache under `serve` (granian, {workers} worker processes x {threads} "
          f"threads), "
          f"load from wrk: {len(ids)} customers, cached in every process after {rounds} "
          f"round(s)\n")
    print("| connections | requests | throughput | p50 | p95 | p99 | max | failed | "
          "Zendesk requests caused |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    wrk_row(url, base, headers, ids, 1, seconds)
    p95 = wrk_row(url, base, headers, ids, clients, seconds)
    verdict = "met" if p95 < WARM_GOAL_MS else "MISSED"
    print(f"\nGoal p95 < {WARM_GOAL_MS:.0f} ms with {clients} clients: {verdict} "
          f"({p95:.1f} ms).")


# --- cold ----------------------------------------------------------------------------------

def cold_request(url: str, base: str, session: requests.Session, headers: dict[str, str],
                 user_id: int) -> Cold:
    before = sandbox_requests(base)
    began = time.perf_counter()
    response = session.get(f"{url}/api/customers/{user_id}/value", headers=headers, timeout=60)
    seconds = time.perf_counter() - began
    return Cold(seconds, sandbox_requests(base) - before, response.status_code)


def cold(url: str, base: str, ids: list[int]) -> list[Cold]:
    with requests.Session() as session:
        return [cold_request(url, base, session, session_headers(), user_id)
                for user_id in ids]


def cold_row(label: str, results: list[Cold]) -> str:
    times = [r.seconds * 1000 for r in results]
    trips = [r.trips for r in results]
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    failed = sum(1 for r in results if r.status != 200)
    return (f"| {label} | {len(results)} | {min(trips)} / {statistics.median(trips):g} / "
            f"{max(trips)} | {cuts[49]:.0f} ms | {cuts[94]:.0f} ms | {max(times):.0f} ms | "
            f"{failed} |")


def print_cold(stored: list[Cold], unsynced: list[Cold]) -> None:
    print(f"\n### Cold: not in the app's cache, sandbox at {COLD_LATENCY_MS} ms a request, "
          "one request at a time\n")
    print("| customers | requests | Zendesk round trips min / median / max | p50 | p95 | max | "
          "failed |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(cold_row("stored (after a sync)", stored))
    print(cold_row("not reached by the sync (empty store)", unsynced))
    worst = max(r.trips for r in stored)
    verdict = "met" if worst <= COLD_GOAL_TRIPS else "MISSED"
    print(f"\nGoal at most {COLD_GOAL_TRIPS} round trips (stored customers): {verdict} "
          f"(at most {worst}).")
    beyond = sum(1 for r in unsynced if r.trips > COLD_GOAL_TRIPS)
    if beyond:
        print(f"Before the sync reaches them, {beyond} of {len(unsynced)} customers took more "
              f"than {COLD_GOAL_TRIPS} (a user request, then a page per 100 listed tickets).")


# --- run -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--cold", type=int, default=40, help="customers requested cold")
    parser.add_argument("--server", choices=("serve", "werkzeug"), default="serve",
                        help="`customer-value serve` (granian, load from wrk) or werkzeug's "
                             "development server in this process (load from Python clients)")
    parser.add_argument("--workers", type=int, default=ServerOptions.workers,
                        help="`serve`'s worker processes")
    parser.add_argument("--threads", type=int, default=ServerOptions.threads,
                        help="threads per worker process")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run")
    parser.add_argument("--database-url", default=None,
                        help="sync into this (empty) database instead of a SQLite file, e.g. "
                             "postgresql://user:password@127.0.0.1/db")
    args = parser.parse_args()
    if args.server == "serve" and shutil.which("wrk") is None:
        parser.error("the `serve` run needs wrk (Debian package `wrk`)")
    with tempfile.TemporaryDirectory(prefix="bench-sidebar-") as scratch:
        folder = Path(scratch) / "account"
        summary = generate(folder, args.customers, seed=args.seed, now=NOW)
        with running_sandbox(folder, now=NOW, export_rate_limit=0, rate_limit=0) as base:
            stored_db = args.database_url or f"sqlite:///{Path(scratch) / 'store.db'}"
            synced_store(base, stored_db)
            with_tickets = customers_with_tickets(folder)
            print(f"Account: seed {args.seed}, {summary.users:,} customers "
                  f"({len(with_tickets):,} with tickets), {summary.tickets:,} tickets, synced "
                  f"into a {'PostgreSQL' if 'postgres' in stored_db else 'SQLite'} store; "
                  "sandbox rate limits lifted.")
            chosen = random.Random(args.seed).sample(with_tickets,
                                                     WARM_CUSTOMERS + 2 * args.cold)
            warm_ids = chosen[:WARM_CUSTOMERS]
            cold_ids, unsynced_ids = (chosen[WARM_CUSTOMERS:WARM_CUSTOMERS + args.cold],
                                      chosen[WARM_CUSTOMERS + args.cold:])
            if args.server == "serve":
                with served_app(base, stored_db, args.workers, args.threads) as url:
                    warm_served(url, base, warm_ids, args.clients, args.seconds,
                                  args.workers, args.threads)
            with serving_app(base, stored_db) as url:
                if args.server == "werkzeug":
                    warm(url, base, warm_ids, args.clients, args.requests)
                set_latency(base, COLD_LATENCY_MS)
                stored = cold(url, base, cold_ids)
            with serving_app(base, f"sqlite:///{Path(scratch) / 'empty.db'}") as url:
                unsynced = cold(url, base, unsynced_ids)
            print_cold(stored, unsynced)


if __name__ == "__main__":
    main()
