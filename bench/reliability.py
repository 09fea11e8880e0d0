"""Faults injected into the sync and the tagging pipeline, and what survived them: the figures
of docs/reliability.md.

    .venv/bin/python bench/reliability.py [--customers 120] [--webhooks 200] [--only NAME]

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

Not measured here: the tagging worker SIGKILLed mid-backfill and PostgreSQL restarted during
tagging (see docs/reliability.md).
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
from plugin.service_layer.jobs import consumer_threads, requeue_unfinished
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


def postgres_row(base: str, scratch: Path) -> dict:
    """A private cluster (initdb in a temporary folder, port 5440, trust on 127.0.0.1 only):
    a clean sync into one database; into another, a sync during which the server is restarted
    (`pg_ctl restart -m fast`) right after half of the pages, then the sync run again."""
    folder = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
    shutil.chown(folder, "postgres")
    data = folder / "data"
    control = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
               f"-p {PG_PORT} -k {folder} -c listen_addresses=127.0.0.1"]
    try:
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        as_postgres(*control[:1], "start", *control[1:])
        for name in ("clean", "restarted"):
            as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT),
                        "-U", "postgres", name)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/" + "{}"
        pages = run_sync(url.format("clean"), base)
        expected = fingerprint(url.format("clean"))
        restarted = []

        def restart(saved: int) -> None:
            if saved == pages // 2 and not restarted:
                as_postgres(*control[:1], "restart", "-m", "fast", *control[1:])
                restarted.append(saved)

        try:
            run_sync(url.format("restarted"), base, on_page=restart)
            first = "finished"
        except Exception as error:  # the restart's failure is the point
            first = f"stopped ({type(error).__name__})"
        run_sync(url.format("restarted"), base)
        equal = fingerprint(url.format("restarted")) == expected
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", *control[:1], "stop", "-m", "fast",
                        *control[1:]], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
    return {"fault": "PostgreSQL restarted during a sync",
            "running": f"sync of {expected[0]['tickets']} tickets ({pages} pages) into a "
                       "private PostgreSQL",
            "injected": f"pg_ctl restart -m fast after page {restarted[0] if restarted else '?'}"
                        f"; the sync {first}, then ran again",
            "jobs_lost": "n/a", "tags": "n/a",
            "partial": f"resumed store {'equals' if equal else 'DIFFERS from'} the clean run",
            "ok": equal and bool(restarted)}


ROWS: dict[str, Callable] = {"pages": pages_row, "burst": burst_row, "redis": redis_row,
                             "disk": disk_row, "postgres": postgres_row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=120)
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--only", choices=sorted(ROWS), action="append")
    parser.add_argument("--disk-child", nargs=3, metavar=("DB", "BASE", "LIMIT"))
    args = parser.parse_args()
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
        for name in args.only or list(ROWS):
            row_scratch = scratch / name
            row_scratch.mkdir()
            with running_sandbox(account, now=NOW, export_rate_limit=0, rate_limit=0,
                                 job_seconds=0.05) as base:
                started = time.monotonic()
                row = ROWS[name](base, row_scratch, *(
                    [args.webhooks] if name in ("burst", "redis") else []))
            row["seconds"] = round(time.monotonic() - started, 1)
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
