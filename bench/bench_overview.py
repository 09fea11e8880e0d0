"""Benchmark: the account overview's first page and filtered pages on a 100,000-customer
account, and the worker's refresh that fills the table they read.

    .venv/bin/python bench/bench_overview.py [--customers 100000] [--scored 3000]

1. A generated account of `--scored` customers is served by the sandbox, synced into a SQLite
   history store as `customer-value sync` does, and refreshed by the worker's job
   (`plugin.service_layer.overview.refresh`: every customer scored now, 30 days ago and weekly
   over 90 days): its time per customer.
2. Those scored rows are copied, with new ids and names, until the overview's table holds
   `--customers` customers of one account (`--full` instead generates, syncs and refreshes an
   account of that size: hours and about 8 GiB on this machine).
3. The overview's JSON endpoints are asked through the app (Flask's test client: routing,
   the session check, the query, the JSON): the first page, filtered pages, a search, a sort
   by change, the summary (shares, movers, at risk) and a CSV export. p50 / p95 / max of
   `--requests` requests each. Goal: p95 under 200 ms for the first and the filtered page.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_sidebar import EMAIL, TOKEN, synced_store
from sqlalchemy import event, select

from integrations.sandbox.server import running_sandbox
from integrations.zendesk import TicketFact
from plugin import create_app
from plugin.core.model import score
from plugin.demo.generator import generate
from plugin.service_layer.alerts import evaluate, facts_of
from plugin.service_layer.overview import refresh, refresh_changed
from plugin.storage import overview as overview_module
from plugin.storage.alerts import AlertStore
from plugin.storage.overview import Filters, OverviewStore
from plugin.storage.schema import customer_values
from plugin.web.session import DEMO_ACCOUNT, DEMO_USER_ID, new_session

NOW = datetime(2025, 6, 1, tzinfo=UTC)
GOAL_MS = 200.0
NEWLINE = b"\n"
QUERIES = (
    ("first page (by value)", "/api/overview/customers"),
    ("filtered: high tier, at risk", "/api/overview/customers?tier=high&at_risk=1"),
    ("filtered: organization, little data", None),  # filled with a real organization
    ("search by name", "/api/overview/customers?q=son"),
    ("sorted by change, page 40", "/api/overview/customers?sort=change&order=asc&page=40"),
    ("summary (shares, movers, at risk)", "/api/overview"),
)


def copied(rows: list[dict], customers: int):
    """The scored rows repeated, with fresh ids and names, to `customers` rows."""
    for index in range(customers):
        row = dict(rows[index % len(rows)])
        row["user_id"] = 10_000_000 + index
        copy = index // len(rows)
        if copy:
            row["name"] = f"{row['name']} {copy}"
            row["search"] = f"{row['search']} {copy}"
        yield row


def two_reads_check(services, config, value, ticket_id):
    """The tagging job's check as it was before it read in one query (for the interleaved
    comparison): the customer's overview row, then their open episodes."""
    store = services.store(config.base_url)
    alerts = AlertStore(services.engine, store.account)
    rules = services.cached(("alert_rules", store.account), alerts.rules)
    if not rules:
        return []
    row = OverviewStore(services.engine, store.account).get(value.user_id)
    before = (row.value_30d, row.tier_30d) if row else None
    return evaluate(services, services.config_for(config.base_url), rules,
                    [facts_of(value, before)], ticket_for=lambda user_id: ticket_id,
                    alerts=alerts)


def alert_costs(services, base: str, seed: int, customers: int = 500):
    """The time `Services.check_alerts` adds to a tagging job, per customer, with three rules
    set (one of each kind) and values already computed (as the job has them); interleaved
    with the previous two-read check on the same customers; each check's wall time and this
    thread's CPU time (which waiting for a core does not inflate), the statements it sends
    and the garbage collections that ran during it."""
    store = services.store(base)
    alerts = AlertStore(services.engine, store.account)
    for kind, threshold in (("tier_drop", 0), ("value_drop", 15), ("bad_rating", 0)):
        alerts.add_rule({"kind": kind, "threshold": threshold, "actions": [{"type": "tag",
                         "tag": "cv_alert"}], "enabled": True}, author_id=0, now=NOW)
    config = services.config_for(base)
    settings = services.settings_for(store)
    ids = random.Random(seed).sample(store.user_ids(), customers)
    statements, collections = [0], [0]
    event.listen(services.engine, "before_cursor_execute",
                 lambda *args: statements.__setitem__(0, statements[0] + 1))
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.__setitem__(
        0, collections[0] + 1))
    found = {"one query (now)": ([], [], [], []), "two reads (before)": ([], [], [], [])}
    fired = 0
    for index, user_id in enumerate(ids):
        value = score(store.history(user_id), settings, NOW)
        ticket_id = store.open_ticket(user_id) or 1
        ways = [("one query (now)", services.check_alerts),
                ("two reads (before)", lambda c, v, t: two_reads_check(services, c, v, t))]
        for label, check in ways if index % 2 else ways[::-1]:
            before = len(alerts.recent(limit=customers))
            statements[0] = collections[0] = 0
            began, cpu = time.perf_counter(), time.thread_time()
            check(config, value, ticket_id)
            spent = 1000 * (time.perf_counter() - began)
            used = 1000 * (time.thread_time() - cpu)
            sent, collected = statements[0], collections[0]
            if len(alerts.recent(limit=customers)) > before:
                fired += 1
                continue
            found[label][0].append(spent)
            found[label][1].append(sent)
            found[label][2].append(collected)
            found[label][3].append(used)
    return found, fired


def incremental_costs(services, base: str, seed: int, tickets: int = 60):
    """A typical sync's effect: `tickets` stored tickets of random customers saved again as a
    sync page would save them (marking their requesters), then the incremental refresh."""
    store = services.store(base)
    chosen = random.Random(seed + 1).sample(store.user_ids(), tickets)
    facts = []
    for user_id in chosen:
        history = store.history(user_id)
        if history is not None and history.tickets:
            facts.append(TicketFact(user_id, history.tickets[-1], NOW))
    store.save_page("tickets", tickets_=facts, now=NOW)
    return facts, refresh_changed(services, base)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--scored", type=int, default=3_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--full", action="store_true",
                        help="generate, sync and refresh --customers customers for real")
    args = parser.parse_args()
    scored = args.customers if args.full else args.scored
    with tempfile.TemporaryDirectory(prefix="bench-overview-") as scratch:
        folder = Path(scratch) / "account"
        summary = generate(folder, scored, seed=args.seed, now=NOW)
        database = f"sqlite:///{Path(scratch) / 'store.db'}"
        with running_sandbox(folder, now=NOW, export_rate_limit=0, rate_limit=0) as base:
            synced_store(base, database)
            app = create_app({"DEMO_MODE": True, "DATABASE_URL": database,
                              "ZENDESK_BASE_URL": base, "ZENDESK_EMAIL": EMAIL,
                              "ZENDESK_API_TOKEN": TOKEN, "SECRET_KEY": "bench-" * 8,
                              "QUEUE_PATH": str(Path(scratch) / "queue.db")})
            services = app.extensions["customer_value"]
            services.clock = lambda: NOW
            done = refresh(services, base)
            synced, changed = incremental_costs(services, base, args.seed)
            alert_found, fired = alert_costs(services, base, args.seed)
        print(f"Account: seed {args.seed}, {summary.users:,} customers, {summary.tickets:,} "
              f"tickets, synced into SQLite. Refresh: {done.customers:,} customers in "
              f"{done.seconds:.1f} s ({1000 * done.seconds / max(done.customers, 1):.2f} ms "
              "a customer).")
        print(f"Incremental refresh after a sync page of {len(synced)} tickets: "
              f"{changed.customers} customers in {1000 * changed.seconds:.0f} ms "
              f"({1000 * changed.seconds / max(changed.customers, 1):.2f} ms a customer).")
        print(f"Alert evaluation added to a tagging job (3 rules, 500 customers, each checked "
              f"both ways in alternating order; {fired} checks that fired are left out, their "
              "time is the actions' Zendesk calls):")
        for label, (times, sent, collected, used) in alert_found.items():
            print(f"  {label}: {len(times)} checks, p50 {statistics.median(times):.2f} ms, "
                  f"p95 {percentile(times, 0.95):.2f} ms, max {max(times):.2f} ms; CPU time "
                  f"p50 {statistics.median(used):.2f} ms, p95 {percentile(used, 0.95):.2f} ms; "
                  f"statements per check {statistics.mean(sent):.2f} (max {max(sent)}); "
                  f"checks during a garbage collection {sum(1 for c in collected if c)}")
        overview = OverviewStore(services.engine, services.store(base).account)
        if not args.full:
            with services.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(select(customer_values))]
            for row in rows:
                row.pop("account_id")
                row.pop("refreshed_at")
            began = time.perf_counter()
            count = overview.replace(copied(rows, args.customers), NOW)
            print(f"Table: the {len(rows):,} scored rows copied to {count:,} customers in "
                  f"{time.perf_counter() - began:.0f} s.")
        version = services.settings_for(services.store(base)).version
        began = time.perf_counter()
        for _ in range(10):
            overview.last_full(), overview.scored_otherwise(version)
        print(f"The periodic job's choice between a full and an incremental refresh on "
              f"{args.customers:,} rows (the last full refresh, any row under other "
              f"settings): {100 * (time.perf_counter() - began):.1f} ms.")
        organization = next(o for o in overview.choices()["organizations"])
        queries = [(label, path or "/api/overview/customers?organization="
                    f"{organization}&little_data=0") for label, path in QUERIES]
        queries.append(("CSV export: high tier, at risk",
                        "/api/overview/customers.csv?tier=high&at_risk=1"))
        client = app.test_client()
        with app.app_context():
            headers = {"Authorization": "Bearer " + new_session(DEMO_ACCOUNT, DEMO_USER_ID,
                                                                "admin")}
        print(f"\n{args.requests} requests each, in this process (Python "
              f"{sys.version.split()[0]}), SQLite:\n")
        print("| request | matching | p50 | p95 | max |")
        print("| --- | --- | --- | --- | --- |")
        random.seed(args.seed)
        for label, path in queries:
            times, matched = [], "–"
            for _ in range(args.requests):
                began = time.perf_counter()
                answer = client.get(path, headers=headers)
                body = answer.get_data()
                times.append(1000 * (time.perf_counter() - began))
                assert answer.status_code == 200, (path, answer.status_code, body[:200])
            if path.startswith("/api/overview/customers?") or path == "/api/overview/customers":
                found = answer.get_json()
                matched = ("over " if found["more"] else "") + f"{found['total']:,}"
            elif path.endswith(".csv?tier=high&at_risk=1"):
                matched = f"{body.count(NEWLINE) - 1:,} rows"
            print(f"| {label} | {matched} | {statistics.median(times):.1f} ms | "
                  f"{percentile(times, 0.95):.1f} ms | {max(times):.1f} ms |")
        search_ab(overview, args.requests)
        services.close()


def search_ab(overview: OverviewStore, requests: int) -> None:
    """The search's first page with its index and as the plain substring scan it replaced,
    alternating on the same table."""
    indexed = overview_module.matching

    def scan(conn, query):
        return customer_values.c.search.contains(query, autoescape=True)

    print("\nThe search's first page (with its count) in the store, the index and the plain "
          "substring scan alternating:\n")
    print("| query | matching | index p50 | index p95 | scan p50 | scan p95 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for query in ("son", "jason", "a b"):
        times: dict[str, list[float]] = {"index": [], "scan": []}
        for index in range(requests):
            ways = [("index", indexed), ("scan", scan)]
            answers = {}
            for label, way in ways if index % 2 else ways[::-1]:
                overview_module.matching = way
                began = time.perf_counter()
                answers[label] = overview.page(Filters(search=query))
                times[label].append(1000 * (time.perf_counter() - began))
            assert answers["index"] == answers["scan"], query
            shown = answers["index"]
        overview_module.matching = indexed
        print(f"| {query} | {shown[1]:,} | {statistics.median(times['index']):.1f} ms | "
              f"{percentile(times['index'], 0.95):.1f} ms | "
              f"{statistics.median(times['scan']):.1f} ms | "
              f"{percentile(times['scan'], 0.95):.1f} ms |")


if __name__ == "__main__":
    main()
