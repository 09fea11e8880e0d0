"""Faults injected into the sync and the tagging pipeline, and what survived them: the figures
of docs/reliability.md.

    .venv/bin/python bench/reliability.py [--customers 120] [--webhooks 200] [--only NAME]

(docs/reliability.md's table: `--webhooks 1000`, every row.)

Every row runs against the sandbox (a thread of this process, rate limits lifted) serving a
generated account (`--customers`, seed 11). The sync reads small pages here (100 records per
export page, 25 per list page, instead of 1,000 and 100) so that a small account has page
boundaries to interrupt at. Rows:

- `pages`: a clean sync into a fresh SQLite store, then, for every page boundary k, a fresh
  store whose sync is stopped right after its k-th page is committed (an exception from the
  store, as a killed process would stop) and then run again to the end; each resumed store's
  rows are compared with the clean run's.
- `burst`: the app (SQLite store and huey queue, TAG_ALWAYS) receives `--webhooks` signed calls
  for the account's open tickets (each ticket in turn, distinct invocation ids), then a
  2-thread consumer works them off while the sandbox fails 20% of answers (429, 500, 502, 503,
  answers slower than the client's 1 s timeout, dropped connections). Tags are compared with
  each requester's tier.
- `redis`: the same app on a Redis queue: a redis-server of this script's own on port 6400
  (no persistence: `--save "" --appendonly no`, the worst case), `--webhooks` calls queued,
  Redis stopped and started again (its queue is then empty), then the sweep
  (`requeue_unfinished`, with REQUEUE_AFTER_SECONDS=1 instead of
  the default 600, run once 1.5 s later) and a consumer; the deliveries table is the
  durable copy that the sweep queues again.
- `disk`: a sync in a child process whose file size limit (RLIMIT_FSIZE; SIGXFSZ ignored, so a
  write past it fails with EFBIG) stops the SQLite store from growing past a third of the
  clean store's size; then the store is checked (`PRAGMA integrity_check`, every stream's
  cursor against its rows) and the sync resumed without the limit and compared with the clean
  run. A tmpfs was not used: mounting needs privileges this script should not assume.
- `postgres`: a private PostgreSQL cluster (initdb in a temporary folder, port 5440, run as the
  postgres user): a clean sync into one database, and into another a sync during which the
  server is restarted after half of its pages, then run again; the two are compared.
- `backfill`: the periodic sync's first run (the sync, then the backfill's bulk tag updates) in
  a `customer-value worker` process on a SQLite store and queue, its process group SIGKILLed
  at each of KILL_POINTS (during the sync, and as bulk updates arrive) and started again at
  once, with a 6 s claim lease; the tickets' tags and the writes Zendesk received are compared
  with a clean run of the same job's code on a second sandbox of the same account.
- `pg_tagging`: `--worker-webhooks` calls worked off by a `customer-value worker` on the private
  PostgreSQL cluster and this script's Redis; the cluster is stopped once a third are done and
  started again PG_DOWN_SECONDS later; tags are compared with each requester's tier.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests
from bench_tagging import open_store
from sqlalchemy import select, text

import integrations.zendesk as zendesk_module
from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin import create_app
from plugin.demo.generator import generate
from plugin.service_layer.account_sync import sync_account
from plugin.service_layer.backfill import CHECKPOINT
from plugin.service_layer.jobs import consumer_threads, queue_due_syncs, requeue_unfinished
from plugin.service_layer.sync import sync
from plugin.storage.migrations import upgrade
from plugin.storage.schema import (
    connect,
    organizations,
    ratings,
    sync_state,
    tickets,
    users,
)
from plugin.storage.sync_runs import SyncRuns
from plugin.web.signature import TEST_SECRET, sign

NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
SEED = 11
EMAIL, TOKEN = "agent@example.com", "sandbox-token"
AUTH = (f"{EMAIL}/token", TOKEN)
EXPORT_PAGE, LIST_PAGE = 100, 25
FACT_TABLES = (organizations, users, tickets, ratings)
REDIS_PORT = 6400
FAULTS = {"fault_rate": 0.2, "seed": 3, "slow_seconds": 1.5,
          "fault_kinds": ["429", "500", "502", "503", "slow", "drop"]}


class Interrupted(Exception):
    """Raised by the store right after the page it was told to stop at is committed."""


def client_for(base: str) -> ZendeskClient:
    return ZendeskClient(Transport(base_url=base, session=requests.Session(), auth=AUTH,
                                   mode="background"))


def fingerprint(database: str) -> tuple[dict[str, int], str]:
    """Rows per fact table and one digest of all of them (sorted, every column)."""
    engine = connect(database)
    counts, digest = {}, hashlib.sha256()
    with engine.connect() as conn:
        for table in FACT_TABLES:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            counts[table.name] = len(rows)
            for row in rows:
                digest.update(row.encode())
    engine.dispose()
    return counts, digest.hexdigest()


def run_sync(database: str, base: str, stop_after: int | None = None,
             on_page: Callable[[int], None] | None = None) -> int:
    """Sync into `database`; with `stop_after`, stop right after that many pages are saved;
    `on_page(n)` is called after the n-th page is saved. The pages saved."""
    store = open_store(database, base)
    saved = 0
    original = store.save_page

    def counting(*args, **kwargs):
        nonlocal saved
        original(*args, **kwargs)
        saved += 1
        if on_page is not None:
            on_page(saved)
        if stop_after is not None and saved >= stop_after:
            raise Interrupted

    store.save_page = counting
    client = client_for(base)
    try:
        sync(client, store, clock=lambda: datetime.now(UTC))
    except Interrupted:
        pass
    finally:
        client.close()
        store.engine.dispose()
    return saved


# --- rows ------------------------------------------------------------------------------------

def pages_row(base: str, scratch: Path) -> dict:
    clean = f"sqlite:///{scratch / 'clean.db'}"
    pages = run_sync(clean, base)
    expected = fingerprint(clean)
    mismatches = []
    for boundary in range(1, pages):
        database = f"sqlite:///{scratch / f'cut-{boundary}.db'}"
        run_sync(database, base, stop_after=boundary)
        run_sync(database, base)
        if fingerprint(database) != expected:
            mismatches.append(boundary)
        (scratch / f"cut-{boundary}.db").unlink()
    return {"fault": "sync interrupted at every page boundary",
            "running": f"sync of {expected[0]['users']} users, {expected[0]['tickets']} "
                       f"tickets ({pages} pages)",
            "injected": f"{pages - 1} interruptions, each resumed",
            "jobs_lost": "n/a", "tags": "n/a",
            "partial": f"{len(mismatches)} of {pages - 1} resumed stores differ from the clean "
                       "run" + (f" (boundaries {mismatches[:10]})" if mismatches else ""),
            "ok": not mismatches}


def app_for(base: str, scratch: Path, **queue) -> object:
    database = f"sqlite:///{scratch / 'app.db'}"
    run_sync(database, base)
    return create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "DATABASE_URL": database,
                       "QUEUE_PATH": str(scratch / "queue.db"), "ZENDESK_BASE_URL": base,
                       "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN,
                       "WEBHOOK_SECRET": TEST_SECRET, "TAG_ALWAYS": True,
                       "ZENDESK_READ_TIMEOUT": 1.0, "REQUEUE_AFTER_SECONDS": 1, **queue})


def open_tickets(base: str, limit: int) -> list[tuple[int, int]]:
    found, page = [], 1
    while len(found) < limit and page < 50:
        body = requests.get(f"{base}/api/v2/tickets", auth=AUTH, timeout=30,
                            params={"per_page": 100, "page": page}).json()
        found += [(t["id"], t["requester_id"]) for t in body["tickets"]
                  if t["status"] != "closed"]
        if not body.get("next_page"):
            break
        page += 1
    return found[:limit]


def deliver(client, calls: list[tuple[int, int]]) -> int:
    accepted = 0
    for ticket_id, requester_id in calls:
        raw = json.dumps({"ticket_id": str(ticket_id), "requester_id": str(requester_id)})
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        answer = client.post("/webhooks/zendesk", data=raw.encode(), headers={
            "X-Zendesk-Webhook-Signature": sign(TEST_SECRET, stamp, raw.encode()),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "X-Zendesk-Webhook-Invocation-Id": uuid.uuid4().hex,
            "Content-Type": "application/json"})
        accepted += answer.status_code == 202
    return accepted


def drain(app, quiet_for: float = 3.0, limit: float = 900.0) -> float:
    huey, started = app.extensions["queue"], time.monotonic()
    with consumer_threads(huey, workers=2):
        idle_since = None
        while time.monotonic() - started < limit:
            if len(huey) or huey.scheduled_count():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > quiet_for:
                break
            time.sleep(0.2)
    return time.monotonic() - started


def tag_check(app, base: str, calls: list[tuple[int, int]]) -> tuple[int, int, int, int]:
    """Tickets with a wrong tag set (missing or extra), with both tags, deliveries unfinished,
    failed jobs."""
    services = app.extensions["customer_value"]
    wrong = both = 0
    for ticket_id, requester_id in dict.fromkeys(calls):
        tier = services.value(services.zendesk, requester_id, ticket_id).result.value.tier
        tags = requests.get(f"{base}/api/v2/tickets/{ticket_id}", auth=AUTH,
                            timeout=30).json()["ticket"]["tags"]
        ours = [t for t in tags if t in ("cv_high", "cv_low")]
        wrong += ours != {"high": ["cv_high"], "low": ["cv_low"]}.get(tier, [])
        both += len(ours) > 1
    with services.engine.connect() as conn:
        unfinished = conn.execute(text(
            "SELECT count(*) FROM webhook_deliveries WHERE done_at IS NULL")).scalar_one()
    return wrong, both, unfinished, len(services.failed_jobs(base))


def burst_row(base: str, scratch: Path, webhooks: int) -> dict:
    app = app_for(base, scratch)
    targets = open_tickets(base, 100)
    calls = [targets[i % len(targets)] for i in range(webhooks)]
    accepted = deliver(app.test_client(), calls)
    requests.post(f"{base}/_sandbox/config", json=FAULTS, timeout=10)
    seconds = drain(app)
    requests.post(f"{base}/_sandbox/config", json={"fault_rate": 0}, timeout=10)
    wrong, both, unfinished, failed = tag_check(app, base, calls)
    app.extensions["customer_value"].close()
    return {"fault": "Zendesk failing 20% of answers (429/5xx/timeouts/drops)",
            "running": f"{webhooks} webhooks for {len(set(calls))} tickets, 2 worker threads",
            "injected": f"20% faults for the whole run ({seconds:.0f} s of work)",
            "jobs_lost": f"{unfinished} unfinished of {accepted} accepted, {failed} failed",
            "tags": f"{wrong} tickets with a wrong tag set, {both} with both tags",
            "partial": "n/a", "ok": not (wrong or both or unfinished or failed)}


def redis_server(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            import redis

            if redis.Redis(port=REDIS_PORT).ping():
                return process
        except Exception:  # not up yet
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def redis_row(base: str, scratch: Path, webhooks: int) -> dict:
    folder = scratch / "redis"
    folder.mkdir()
    server = redis_server(folder)
    try:
        app = app_for(base, scratch, REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0")
        targets = open_tickets(base, 100)
        calls = [targets[i % len(targets)] for i in range(webhooks)]
        accepted = deliver(app.test_client(), calls)
        queued_before = len(app.extensions["queue"])
        server.terminate()
        server.wait(30)
        server = redis_server(folder)
        queued_after = len(app.extensions["queue"])
        time.sleep(1.5)  # past REQUEUE_AFTER_SECONDS, as the minutely sweep would be
        requeued = requeue_unfinished(app)
        drain(app)
        wrong, both, unfinished, failed = tag_check(app, base, calls)
        app.extensions["customer_value"].close()
    finally:
        server.terminate()
        server.wait(30)
    return {"fault": "Redis restarted with jobs queued (no persistence)",
            "running": f"{accepted} accepted webhooks queued, no consumer yet",
            "injected": f"redis-server stopped and started: queue {queued_before} → "
                        f"{queued_after}; the sweep queued {requeued} again",
            "jobs_lost": f"{unfinished} unfinished of {accepted}, {failed} failed",
            "tags": f"{wrong} tickets with a wrong tag set, {both} with both tags",
            "partial": "n/a", "ok": not (wrong or both or unfinished or failed)}


def disk_child(database: str, base: str, limit: int) -> None:
    """Child process: the sync with the file size limit set."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    zendesk_module.EXPORT_PAGE_SIZE, zendesk_module.LIST_PAGE_SIZE = EXPORT_PAGE, LIST_PAGE
    try:
        run_sync(database, base)
    except Exception as error:  # the failure the full disk causes is the point
        print(f"stopped: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
        sys.exit(3)
    print("finished")


def disk_row(base: str, scratch: Path) -> dict:
    clean = scratch / "clean-disk.db"
    run_sync(f"sqlite:///{clean}", base)
    expected = fingerprint(f"sqlite:///{clean}")
    target = scratch / "full.db"
    upgrade(f"sqlite:///{target}")  # the schema fits; the pages do not
    limit = max(target.stat().st_size + 8192, clean.stat().st_size // 3)
    child = subprocess.run([sys.executable, __file__, "--disk-child", str(target), base,
                            str(limit)], capture_output=True, text=True, timeout=600)
    said = (child.stdout.strip().splitlines() or ["(nothing)"])[-1]
    engine = connect(f"sqlite:///{target}")
    with engine.connect() as conn:
        integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()
        cursors = conn.execute(select(sync_state)).all()
        counts = {t.name: conn.execute(select(t)).all().__len__() for t in FACT_TABLES}
    engine.dispose()
    run_sync(f"sqlite:///{target}", base)
    resumed_equal = fingerprint(f"sqlite:///{target}") == expected
    return {"fault": "disk full on the SQLite store (RLIMIT_FSIZE)",
            "running": f"sync of {expected[0]['tickets']} tickets",
            "injected": f"file size limit {limit:,} B (a third of the clean store); child {said}",
            "jobs_lost": "n/a", "tags": "n/a",
            "partial": f"integrity_check {integrity}; {len(cursors)} stream cursor(s) saved with "
                       f"{counts['tickets']} tickets; resumed store "
                       f"{'equals' if resumed_equal else 'DIFFERS from'} the clean run",
            "ok": integrity == "ok" and resumed_equal and child.returncode != 0}


PG_PORT = 5440
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/usr/bin"))


def as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                   capture_output=True, timeout=120)


@contextmanager
def private_postgres(scratch: Path, names: tuple[str, ...]):
    """A private cluster (initdb in a temporary folder, port 5440, trust on 127.0.0.1 only)
    with the databases `names`: yields (the URL of a database by name, a function restarting
    the server: `pg_ctl restart -m fast`, or with `down` seconds, `stop -m fast`, that wait,
    then `start`)."""
    folder = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
    shutil.chown(folder, "postgres")
    data = folder / "data"
    control = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
               f"-p {PG_PORT} -k {folder} -c listen_addresses=127.0.0.1"]
    try:
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        as_postgres(*control[:1], "start", *control[1:])
        for name in names:
            as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT),
                        "-U", "postgres", name)
        def restart(down: float = 0.0) -> None:
            if not down:
                as_postgres(*control[:1], "restart", "-m", "fast", *control[1:])
                return
            as_postgres(*control[:1], "stop", "-m", "fast", *control[1:])
            time.sleep(down)
            as_postgres(*control[:1], "start", *control[1:])

        yield (lambda name: f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{name}",
               restart)
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", *control[:1], "stop", "-m", "fast",
                        *control[1:]], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def postgres_row(base: str, scratch: Path) -> dict:
    """A clean sync into one database of the private cluster; into another, a sync during
    which the server is restarted (`pg_ctl restart -m fast`) right after half of the pages,
    then the sync run again."""
    with private_postgres(scratch, ("clean", "restarted")) as (url, restart_server):
        pages = run_sync(url("clean"), base)
        expected = fingerprint(url("clean"))
        restarted = []

        def restart(saved: int) -> None:
            if saved == pages // 2 and not restarted:
                restart_server()
                restarted.append(saved)

        try:
            run_sync(url("restarted"), base, on_page=restart)
            first = "finished"
        except Exception as error:  # the restart's failure is the point
            first = f"stopped ({type(error).__name__})"
        run_sync(url("restarted"), base)
        equal = fingerprint(url("restarted")) == expected
    return {"fault": "PostgreSQL restarted during a sync",
            "running": f"sync of {expected[0]['tickets']} tickets ({pages} pages) into a "
                       "private PostgreSQL",
            "injected": f"pg_ctl restart -m fast after page {restarted[0] if restarted else '?'}"
                        f"; the sync {first}, then ran again",
            "jobs_lost": "n/a", "tags": "n/a",
            "partial": f"resumed store {'equals' if equal else 'DIFFERS from'} the clean run",
            "ok": equal and bool(restarted)}


# --- a real worker process -------------------------------------------------------------------

BULK = 3
"""Tickets per bulk update in the backfill row (100 in production), so a small account's
backfill (27 tickets to tag) has nine bulk updates to be killed between."""
SECRET = "k" * 40
ACCOUNT: list[Path] = []
"""The generated account's folder (set by `main`), for the backfill row's second sandbox."""


def worker_child(threads: str) -> None:
    """Child process: `customer-value worker` itself, with this script's page and bulk sizes."""
    import plugin.service_layer.backfill as backfill_module
    from plugin.cli import main as cli

    zendesk_module.EXPORT_PAGE_SIZE, zendesk_module.LIST_PAGE_SIZE = EXPORT_PAGE, LIST_PAGE
    zendesk_module.BULK_LIMIT = backfill_module.BULK_LIMIT = BULK
    sys.argv = ["customer-value", "worker", "--workers", threads]
    cli()


def start_worker(app, base: str, log: Path, threads: int = 2) -> subprocess.Popen:
    """A `customer-value worker` process (its own session, so a SIGKILL takes all of it) on the
    app's database and queue, with the app's settings."""
    config = app.config
    env = {**os.environ, "DATABASE_URL": config["DATABASE_URL"], "ZENDESK_BASE_URL": base,
           "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN,
           "CUSTOMER_VALUE_SECRET_KEY": config["SECRET_KEY"],
           "CUSTOMER_VALUE_QUEUE_PATH": config["QUEUE_PATH"],
           "CUSTOMER_VALUE_TAG_ALWAYS": "true",
           "CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS": str(config["REQUEUE_AFTER_SECONDS"]),
           "CUSTOMER_VALUE_SYNC_INTERVAL_SECONDS": str(config["SYNC_INTERVAL_SECONDS"]),
           "CUSTOMER_VALUE_SYNC_CLAIM_SECONDS": str(config["SYNC_CLAIM_SECONDS"]),
           "CUSTOMER_VALUE_INSTANCE": str(log.parent / "instance")}
    env.pop("REDIS_URL", None)
    if config.get("REDIS_URL"):
        env["REDIS_URL"] = config["REDIS_URL"]
    with log.open("a") as out:
        return subprocess.Popen([sys.executable, __file__, "--worker-child", str(threads)],
                                env=env, stdout=out, stderr=out, start_new_session=True)


def kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(30)


def stop(worker: subprocess.Popen) -> None:
    with __import__("contextlib").suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(60)
    except subprocess.TimeoutExpired:
        kill(worker)


def wait_until(condition: Callable[[], bool], limit: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def served(base: str, part: str) -> int:
    """Requests the sandbox served so far to endpoints whose key contains `part`."""
    stats = requests.get(f"{base}/_sandbox/stats", timeout=30).json()["by_endpoint"]
    return sum(count for key, count in stats.items() if part in key)


def done_deliveries(app) -> int:
    with app.extensions["customer_value"].engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM webhook_deliveries "
                                 "WHERE done_at IS NOT NULL")).scalar_one()


def sandbox_tags(base: str) -> dict[int, tuple[str, ...]]:
    """Every listed (not archived) ticket's tier tags, by id."""
    found, page = {}, 1
    while True:
        body = requests.get(f"{base}/api/v2/tickets", auth=AUTH, timeout=60,
                            params={"per_page": 100, "page": page}).json()
        for ticket in body["tickets"]:
            found[ticket["id"]] = tuple(sorted(t for t in ticket["tags"]
                                               if t in ("cv_high", "cv_low")))
        if not body.get("next_page"):
            return found
        page += 1


def ticket_writes(base: str) -> tuple[int, int]:
    """Tickets written by bulk updates, and how many of those writes repeated an earlier one
    (the same ticket again), from the sandbox's job statuses."""
    jobs = requests.get(f"{base}/api/v2/job_statuses", auth=AUTH, timeout=60).json()
    seen: dict[int, int] = {}
    for job in jobs["job_statuses"]:
        for result in job.get("results") or []:
            seen[result["id"]] = seen.get(result["id"], 0) + 1
    return sum(seen.values()), sum(count - 1 for count in seen.values())


def worker_app(base: str, scratch: Path, **config) -> object:
    return create_app({"TESTING": True, "SECRET_KEY": SECRET,
                       "DATABASE_URL": f"sqlite:///{scratch / 'app.db'}",
                       "QUEUE_PATH": str(scratch / "queue.db"), "ZENDESK_BASE_URL": base,
                       "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN,
                       "WEBHOOK_SECRET": TEST_SECRET, "TAG_ALWAYS": True, **config})


KILL_POINTS = (("incremental", 8, "after 8 export pages of the sync"),
               ("update_many", 2, "as the 2nd bulk update arrived"),
               ("update_many", 5, "as the 5th arrived"),
               ("update_many", 8, "as the 8th arrived"))
"""Where the worker is killed: once the sandbox has served that many requests of the kind
(polled every 20 ms, so a bulk update's kill falls while the worker waits on its job status,
before its checkpoint is saved)."""


def backfill_row(base: str, scratch: Path) -> dict:
    """The periodic sync's first run (sync, then backfill) in a `customer-value worker`
    process, SIGKILLed at each of KILL_POINTS and started again at once; then compared with a
    clean run of the same job's code on a second sandbox of the same account."""
    claim = 6.0
    app = worker_app(base, scratch, SYNC_INTERVAL_SECONDS=300, SYNC_CLAIM_SECONDS=claim)
    services = app.extensions["customer_value"]
    store = services.store(base)
    queue_due_syncs(app)  # what the minutely tick does: claim the account, queue its job
    log = scratch / "worker.log"
    worker, kills, started = start_worker(app, base, log), [], time.monotonic()

    def backfilled() -> bool:
        return store.state(CHECKPOINT).synced_through is not None

    try:
        for part, count, said in KILL_POINTS:
            if not wait_until(lambda part=part, count=count: served(base, part) >= count
                              or backfilled(), 300, every=0.02) or backfilled():
                kills.append(f"{said}: never reached")
                continue
            kill(worker)
            kills.append(said)
            print(f"killed {said} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
            worker = start_worker(app, base, log)
        finished = wait_until(lambda: backfilled()
                              and not SyncRuns(services.engine).all()[0].claimed_by, 600,
                              every=0.5)
    finally:
        stop(worker)
    seconds = time.monotonic() - started
    killed_tags, (writes, repeated) = sandbox_tags(base), ticket_writes(base)
    with services.engine.connect() as conn:
        integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()
    runs = SyncRuns(services.engine).all()
    services.close()

    with running_sandbox(ACCOUNT[0], now=NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.05) as clean_base:
        (scratch / "clean").mkdir()
        clean_app = worker_app(clean_base, scratch / "clean", SYNC_INTERVAL_SECONDS=300)
        clean = clean_app.extensions["customer_value"]
        subdomain = next(iter(clean.installed_accounts()))
        sync_account(clean, subdomain, forced_tags=True)
        clean_tags, (clean_writes, _) = sandbox_tags(clean_base), ticket_writes(clean_base)
        clean.close()
    differ = [t for t in clean_tags if killed_tags.get(t) != clean_tags[t]]
    both = sum(len(tags) > 1 for tags in killed_tags.values())
    tagged = sum(bool(tags) for tags in clean_tags.values())
    lost = 0 if finished else 1
    return {"fault": "worker SIGKILLed mid-backfill",
            "running": f"the periodic sync's first run (sync of {store.counts()['tickets']:,} "
                       f"tickets, then a backfill tagging {tagged} of {len(clean_tags)} listed "
                       f"tickets in bulk updates of {BULK}) in a `customer-value worker` "
                       "process (SQLite store and queue)",
            "injected": f"kill -9 of the worker's process group {len(kills)} times ("
                        + "; ".join(kills) + f"), each restarted at once; the claim lease "
                        f"{claim:g} s (a restarted worker's first periodic tick claims the "
                        "account again once the dead one's claim lapses); finished "
                        f"{seconds:.0f} s after the first start",
            "jobs_lost": f"{lost} (the account's backfill "
                         f"{'finished' if finished else 'DID NOT finish'}; "
                         f"last run error: {runs[0].error if runs else '?'})",
            "tags": f"{len(differ)} of {len(clean_tags)} tickets' tier tags differ from a "
                    f"clean run's, {both} with both tags; {writes} ticket writes "
                    f"({repeated} repeats) against the clean run's {clean_writes}",
            "partial": f"integrity_check {integrity}; none seen by Zendesk beyond the tag "
                       "comparison",
            "ok": finished and not differ and not both and integrity == "ok"}


PG_DOWN_SECONDS = 10.0
"""How long the cluster stays down in the tagging row: a restart with crash recovery or a
failover, longer than `pg_ctl restart` on an idle cluster (under a second)."""


def pg_tagging_row(base: str, scratch: Path, webhooks: int) -> dict:
    """Webhook calls worked off by a `customer-value worker` on the scale-out set-up (the
    private PostgreSQL cluster and Redis), the cluster stopped once a third are done and
    started again PG_DOWN_SECONDS later."""
    requeue = 5
    with private_postgres(scratch, ("tagging",)) as (url, restart):
        folder = scratch / "redis"
        folder.mkdir()
        server = redis_server(folder)
        worker = None
        try:
            run_sync(url("tagging"), base)
            app = worker_app(base, scratch, DATABASE_URL=url("tagging"),
                             REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
                             REQUEUE_AFTER_SECONDS=requeue, SYNC_INTERVAL_SECONDS=0)
            targets = open_tickets(base, 100)
            calls = [targets[i % len(targets)] for i in range(webhooks)]
            accepted = deliver(app.test_client(), calls)
            worker, started = start_worker(app, base, scratch / "worker.log"), time.monotonic()
            wait_until(lambda: done_deliveries(app) >= accepted // 3, 600, every=0.05)
            at_restart = done_deliveries(app)
            restart(PG_DOWN_SECONDS)
            app.extensions["customer_value"].engine.dispose()
            finished = wait_until(lambda: done_deliveries(app) >= accepted
                                  and not len(app.extensions["queue"]), 900, every=0.5)
            seconds = time.monotonic() - started
            stop(worker)
            worker = None
            wrong, both, unfinished, failed = tag_check(app, base, calls)
            app.extensions["customer_value"].close()
        finally:
            if worker is not None:
                stop(worker)
            server.terminate()
            server.wait(30)
    return {"fault": "PostgreSQL restarted during tagging",
            "running": f"{accepted} accepted webhooks for {len(set(calls))} tickets worked off "
                       "by a `customer-value worker` (2 threads) on the private PostgreSQL "
                       "and Redis",
            "injected": f"pg_ctl stop -m fast once {at_restart} of {accepted} were done, "
                        f"start {PG_DOWN_SECONDS:g} s later; "
                        f"all done {'after' if finished else 'NOT within'} {seconds:.0f} s "
                        f"(REQUEUE_AFTER_SECONDS={requeue})",
            "jobs_lost": f"{unfinished} unfinished of {accepted}, {failed} failed",
            "tags": f"{wrong} tickets with a wrong tag set, {both} with both tags",
            "partial": "n/a", "ok": finished and not (wrong or both or unfinished or failed)}


ROWS: dict[str, Callable] = {"pages": pages_row, "burst": burst_row, "redis": redis_row,
                             "disk": disk_row, "postgres": postgres_row,
                             "backfill": backfill_row, "pg_tagging": pg_tagging_row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=120)
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--only", choices=sorted(ROWS), action="append")
    parser.add_argument("--worker-webhooks", type=int, default=100,
                        help="webhooks of the PostgreSQL-during-tagging row")
    parser.add_argument("--disk-child", nargs=3, metavar=("DB", "BASE", "LIMIT"))
    parser.add_argument("--worker-child", metavar="THREADS")
    parser.add_argument("--logs", type=Path, help="keep the worker processes' logs here")
    args = parser.parse_args()
    if args.worker_child:
        worker_child(args.worker_child)
        return
    if args.disk_child:
        database, base, limit = args.disk_child
        disk_child(f"sqlite:///{database}", base, int(limit))
        return
    zendesk_module.EXPORT_PAGE_SIZE, zendesk_module.LIST_PAGE_SIZE = EXPORT_PAGE, LIST_PAGE
    scratch = Path(tempfile.mkdtemp(prefix="reliability-"))
    results = []
    try:
        account = scratch / "account"
        generate(account, args.customers, seed=SEED, now=NOW)
        ACCOUNT[:] = [account]
        for name in args.only or list(ROWS):
            row_scratch = scratch / name
            row_scratch.mkdir()
            with running_sandbox(account, now=NOW, export_rate_limit=0, rate_limit=0,
                                 job_seconds=0.05) as base:
                started = time.monotonic()
                counts = {"burst": [args.webhooks], "redis": [args.webhooks],
                          "pg_tagging": [args.worker_webhooks]}
                row = ROWS[name](base, row_scratch, *counts.get(name, []))
            row["seconds"] = round(time.monotonic() - started, 1)
            if args.logs:
                args.logs.mkdir(parents=True, exist_ok=True)
                for found in row_scratch.rglob("worker.log"):
                    shutil.copy(found, args.logs / f"{name}-worker.log")
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n| fault | what was running | injected | jobs lost | tags duplicated/missing | "
          "partial writes visible |\n|---|---|---|---|---|---|")
    for row in results:
        print(f"| {row['fault']} | {row['running']} | {row['injected']} | {row['jobs_lost']} | "
              f"{row['tags']} | {row['partial']} |")
    os._exit(0 if all(row["ok"] for row in results) else 1)


if __name__ == "__main__":
    main()
