"""Benchmark of `customer-value backtest` on a large account: wall time, CPU time and peak
resident memory of the command, on a dataset folder and on the history store (SQLite).

    .venv/bin/python bench/bench_backtest.py --data DIR [--store] [--settings FILE]
    .venv/bin/python bench/bench_backtest.py --generate 100000 [--scratch DIR] [--store]

`--generate N` first writes `generate --customers N --now 2025-06-01T00:00:00Z` (100,000
customers: about 1,000,000 tickets) into the scratch folder; `--data DIR` reuses a folder
written before. The folder's run is `customer-value backtest --data DIR --settings FILE --json`
in a child process. With `--store`, the folder is then written into a SQLite history store in
the scratch folder (straight through the store's own `save_page`, not through a sync from a
served sandbox, which for a million tickets takes longer than the benchmark), and the same
backtest runs on the store (`customer-value backtest --settings FILE --json`); the two answers
must be the same JSON. Each child's peak resident memory is its own (`os.wait4`'s
`ru_maxrss`); the load average is printed before and after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2025, 6, 1, tzinfo=UTC)
HORIZON = timedelta(days=90)
BASE_URL = "https://bench.zendesk.com"
AUTH = {"ZENDESK_BASE_URL": BASE_URL, "ZENDESK_EMAIL": "agent@example.com",
        "ZENDESK_API_TOKEN": "bench-token"}


def measured(args: list[str], env: dict[str, str], label: str) -> str:
    """Run the command with the progress bar on the terminal; its JSON answer."""
    print(f"\n{label}: {' '.join(args)}\n  load average before: {_load()}", flush=True)
    began = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{label}: exit status {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  wall time {wall // 60:.0f} min {wall % 60:.0f} s ({wall:.0f} s); CPU {cpu:.0f} s "
          f"({cpu / wall:.0%} of a core); peak RSS {usage.ru_maxrss / 1024:,.0f} MB\n"
          f"  load average after: {_load()}", flush=True)
    return out.decode()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fill_store(folder: Path, database: Path, settings_file: Path) -> None:
    """The folder's customers, tickets, ratings and CRM written into the store the command
    reads (the account of BASE_URL), a customer at a time."""
    from integrations.files.crm import read_records
    from integrations.files.staged import staged
    from integrations.records.crm import (
        bitrix_contact_fact,
        bitrix_deal_fact,
        sell_contact_fact,
        sell_deal_fact,
        sell_outcomes,
    )
    from integrations.zendesk import TicketFact, UserFact
    from plugin.cli.base import account_services
    from plugin.core.settings import Settings
    from plugin.storage.history import crm_stream

    os.environ.update(AUTH, DATABASE_URL=f"sqlite:///{database}")
    settings = Settings.from_dict(json.loads(settings_file.read_text()))
    services = account_services(zendesk_mode="background")
    store = services.store(services.zendesk.base_url)
    began = time.perf_counter()
    users, tickets, organizations = [], [], {}

    def flush() -> None:
        store.save_page("tickets", organizations_=list(organizations.values()), users_=users,
                        tickets_=tickets, now=NOW)
        users.clear(), tickets.clear(), organizations.clear()

    with staged(folder, spend_field=settings.spend_field) as dataset:
        for history in dataset.histories():
            profile = history.profile
            org = profile.organization
            if org is not None:
                organizations[org.id] = org
            users.append(UserFact(profile, org.id if org else None, profile.created_at))
            tickets += [TicketFact(profile.id, t, t.solved_at or t.created_at)
                        for t in history.tickets]
            if len(tickets) >= 20_000:
                flush()
        flush()
    source = settings.spend_source
    if source in ("sell", "bitrix24"):
        if source == "sell":
            outcomes = sell_outcomes(read_records(folder, "sell_stages"))
            contacts = [sell_contact_fact(r) for r in read_records(folder, "sell_contacts")]
            deals = [sell_deal_fact(r, outcomes) for r in read_records(folder, "sell_deals")]
        else:
            contacts = [bitrix_contact_fact(r) for r in read_records(folder, "bitrix_contacts")]
            deals = [bitrix_deal_fact(r) for r in read_records(folder, "bitrix_deals")]
        store.save_crm_page(crm_stream(source) + "_contacts", source, contacts=contacts,
                            cursor=None, synced_through=None, now=NOW)
        store.save_crm_page(crm_stream(source), source, deals=[d for d in deals
                                                               if d.contact_id is not None],
                            cursor=None, synced_through=NOW, now=NOW)
    print(f"  store filled in {time.perf_counter() - began:.0f} s: {store.counts()}", flush=True)
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--generate", type=int, default=None, metavar="CUSTOMERS")
    parser.add_argument("--scratch", type=Path, default=None)
    parser.add_argument("--settings", type=Path, default=None,
                        help='settings as JSON (default: {"spend_source": "sell"})')
    parser.add_argument("--store", action="store_true", help="also on the history store")
    parser.add_argument("--store-db", type=Path, default=None,
                        help="the store's SQLite file: filled unless it exists (default: in "
                             "the scratch folder)")
    parser.add_argument("--skip-folder", action="store_true",
                        help="only the store (its --at: 90 days before 2025-06-01)")
    args = parser.parse_args()
    command = str(Path(sys.executable).with_name("customer-value"))
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        work = Path(scratch)
        folder = args.data
        if folder is None:
            if args.generate is None:
                sys.exit("pass --data DIR or --generate CUSTOMERS")
            folder = work / "account"
            subprocess.run([command, "generate", "--customers", str(args.generate), "--now",
                            NOW.isoformat().replace("+00:00", "Z"), "--out", str(folder)],
                           check=True)
        settings = args.settings
        if settings is None:
            settings = work / "sell.json"
            settings.write_text(json.dumps({"spend_source": "sell"}))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(work)}
        at = (NOW - HORIZON).isoformat().replace("+00:00", "Z")
        if not args.skip_folder:
            on_folder = measured([command, "backtest", "--data", str(folder), "--settings",
                                  str(settings), "--json"], env, "Dataset folder")
            print(_summary(on_folder))
            at = json.loads(on_folder)["at"]
        if args.store:
            print("\nHistory store (SQLite)", flush=True)
            database = args.store_db or work / "store.db"
            if not database.exists():
                fill_store(folder, database, settings)
            on_store = measured([command, "backtest", "--at", at, "--settings", str(settings),
                                 "--json"],
                                {**env, **AUTH, "DATABASE_URL": f"sqlite:///{database}"},
                                "History store")
            print(_summary(on_store))
            if not args.skip_folder:
                print("  the same JSON as the folder's:", on_store == on_folder)


def _summary(answer: str) -> str:
    body = json.loads(answer)
    return (f"  at {body['at']}: {body['known_customers']:,} customers known, "
            f"{body['overall']['customers']:,} judged; AUC (leaving) "
            f"{body['overall']['auc']['leaving']['auc']}")


if __name__ == "__main__":
    main()
