"""Every installed account kept current by the server itself: a periodic sync per account.

Each minute the queue's periodic task (`service_layer.jobs`) asks `claim_due` which accounts
are due (never synced, or last finished SYNC_INTERVAL_SECONDS ago) and claims them in the
database (`storage.sync_runs`), a few per minute so a deployment with many accounts spreads
their syncs over time and over its workers; each claimed account gets one queued job that
runs `sync_account` and releases the claim. The first run of an account does its backfill
(sync, score every customer, tag their open tickets); later runs fetch only what changed and
re-tag the customers whose user record, tickets or ratings changed, so tags follow a value as
it moves. Tagging obeys the one rule (`core.tagging.tagging_refusal`): an account with tagging
off is synced and scored, and the run says why it wrote no tag.

The set-up's first sync of a newly connected account (`run_first_sync`) is the same run under
the same claim, taken at once rather than when due: the periodic sync and the first sync never
sync one account twice at once. An account waiting for an admin to reconnect it is not
claimed: nothing calls Zendesk for it until then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugin.core.domain import CRM_NAMES
from plugin.core.tagging import tagging_refusal
from plugin.service_layer.backfill import CHECKPOINT, BackfillReport, backfill
from plugin.service_layer.services import Services
from plugin.service_layer.sync import STREAMS, SyncReport, sync
from plugin.storage.sync_runs import SyncRun, SyncRuns

log = logging.getLogger(__name__)

SYNC_INTERVAL_SECONDS = 300.0
"""Default time between the end of one account's sync and the start of its next."""
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claim holds unless renewed: the worker running the sync renews it every third
of this (`holding`), so a first sync of a million tickets (minutes, docs/benchmarks.md) keeps
its account, while a worker killed mid-sync gives it up at most this long after its death.
CUSTOMER_VALUE_SYNC_CLAIM_SECONDS sets it."""
CLAIMS_PER_TICK = 4
"""Accounts claimed per minute at most, so many due accounts start spread over minutes."""


@dataclass
class AccountSyncReport:
    subdomain: str
    sync: SyncReport | None = None
    refused: str | None = None
    """Why no tag was written (the tagging rule's answer), if so."""
    tagging: BackfillReport | None = None
    """The first run's backfill, or a later run's re-tagging of the changed customers."""
    first: bool = False


def sync_account(services: Services, subdomain: str, *, forced_tags: bool = False
                 ) -> AccountSyncReport:
    """Bring one installed account's history store up to date and its tags with it.

    The first run that may tag (no backfill finished yet) backfills: it syncs the whole
    account, scores every customer and tags their open tickets. Later runs sync what changed
    and re-tag the customers it touched. While the tagging rule refuses the account, runs
    only sync, and the report says why. LookupError for an unknown subdomain; integration
    errors pass up (what was saved is kept and the next run resumes)."""
    config = services.account_config(subdomain)
    client = services.patient_client(config)
    store = services.store(config.base_url)
    settings = services.versions(store).current()
    crm = _crm_export(services, config, store, settings)
    report = AccountSyncReport(subdomain, refused=tagging_refusal(settings, forced=forced_tags))
    if report.refused is None and store.state(CHECKPOINT).synced_through is None:
        report.first = True
        report.tagging = backfill(client, store, settings, clock=services.clock, crm=crm,
                                  forced=forced_tags)
    else:
        report.sync = sync(client, store, clock=services.clock, crm=crm)
        if report.refused is None:
            report.tagging = backfill(client, store, settings, clock=services.clock,
                                      synced=True, only=report.sync.changed_requesters,
                                      forced=forced_tags)
        else:
            log.info("account %s synced; no tag written: %s", subdomain, report.refused)
    services.cache.forget(config.base_url)
    return report


def claim_due(services: Services, worker: str, *, every: timedelta,
              limit: int = CLAIMS_PER_TICK, lease: timedelta = CLAIM_LEASE) -> list[str]:
    """Claim up to `limit` due accounts for `worker`; their subdomains, oldest run first."""
    runs, now = SyncRuns(services.engine), services.clock()
    last = {run.account: run.finished_at for run in runs.all()}
    waiting = services.registry.awaiting_reconnect()
    accounts = sorted(((subdomain, config) for subdomain, config
                       in services.installed_accounts().items() if subdomain not in waiting),
                      key=lambda item: _order(last.get(services.store(item[1].base_url)
                                                       .account)))
    claimed = []
    for subdomain, config in accounts:
        if len(claimed) >= limit:
            break
        if runs.claim(services.store(config.base_url).account, worker, now, every=every,
                      lease=lease):
            claimed.append(subdomain)
    return claimed


def run_claimed(services: Services, subdomain: str, worker: str, *, forced_tags: bool = False,
                lease: timedelta = CLAIM_LEASE) -> AccountSyncReport | None:
    """Sync a claimed account, renewing the claim while it runs, and release it with how it
    ended."""
    base_url = services.registry.get_base_url(subdomain) or \
        services.account_config(subdomain).base_url
    account = services.store(base_url).account
    try:
        with holding(services, account, worker, lease):
            report = sync_account(services, subdomain, forced_tags=forced_tags)
    except Exception as error:
        SyncRuns(services.engine).finish(account, worker, services.clock(),
                                         error=f"{type(error).__name__}: {error}"[:500])
        raise
    SyncRuns(services.engine).finish(account, worker, services.clock())
    return report


def run_first_sync(services: Services, account_key: str, worker: str, *,
                   forced_tags: bool = False, lease: timedelta = CLAIM_LEASE
                   ) -> AccountSyncReport | None:
    """The set-up's first sync of the account known by `account_key` (its base URL): the
    periodic sync's run (`sync_account`, which backfills when tagging is on) under the
    account's claim, taken whatever the interval; None when another worker holds the claim
    (it is syncing the account now, and that run is the first sync)."""
    installation = services.registry.by_base_url(account_key)
    if installation is None:
        raise LookupError(f"no installation for {account_key}")
    account = services.store(account_key).account
    if not SyncRuns(services.engine).claim(account, worker, services.clock(),
                                           every=timedelta(0), lease=lease):
        log.info("the first sync of %s is left to the run that holds it",
                 installation.subdomain)
        return None
    return run_claimed(services, installation.subdomain, worker, forced_tags=forced_tags,
                       lease=lease)


@contextmanager
def holding(services: Services, account: int, worker: str, lease: timedelta) -> Iterator[None]:
    """Renew `worker`'s claim on `account` every third of `lease` while the block runs (a
    thread of its own: a page or a bulk update may take longer than a renewal period). A
    renewal that fails (the database restarting) is tried again at the next period."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                SyncRuns(services.engine).renew(account, worker, services.clock(), lease=lease)
            except Exception:  # the next period tries again; the lease covers two misses
                log.warning("the sync claim of account %s could not be renewed", account,
                            exc_info=True)

    thread = threading.Thread(target=renew, name=f"claim-{account}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def sync_status(services: Services, base_url: str, now: datetime) -> dict[str, Any]:
    """The account's sync for people: when the periodic sync last ran, when the store was
    last brought up to date (by it or by `customer-value sync`), how far behind the store is
    (seconds since then), whether a periodic sync runs now, and its last error."""
    store = services.store(base_url)
    return _status(SyncRuns(services.engine).get(store.account), store.synced_at(STREAMS), now)


def all_statuses(services: Services, now: datetime) -> dict[str, dict[str, Any]]:
    """Every installed account's `sync_status`, by subdomain."""
    runs = {run.account: run for run in SyncRuns(services.engine).all()}
    found = {}
    for subdomain, config in services.installed_accounts().items():
        store = services.store(config.base_url)
        found[subdomain] = _status(runs.get(store.account), store.synced_at(STREAMS), now)
    return found


def _status(run: SyncRun | None, stored: datetime | None, now: datetime) -> dict[str, Any]:
    succeeded = run.succeeded_at if run is not None else None
    latest = max((moment for moment in (succeeded, stored) if moment is not None),
                 default=None)
    return {"last_run": run.finished_at if run is not None else None, "last_success": latest,
            "lag_seconds": (now - latest).total_seconds() if latest is not None else None,
            "running": run is not None and run.claimed_by is not None,
            "error": run.error if run is not None else None}


def _order(finished: datetime | None) -> tuple[int, float]:
    return (0, 0.0) if finished is None else (1, finished.timestamp())


def _crm_export(services: Services, config, store, settings) -> Any:
    """The patient client of the CRM the settings take spend from, or None (spend from
    fields, or no credentials: then its deals are not synced)."""
    if settings.spend_source not in CRM_NAMES:
        return None
    client = services.crm.source(settings.spend_source,
                                 lambda name: services.secret(store, name), mode="background",
                                 env_credentials=services.is_env_account(config))
    return client if hasattr(client, "contact_pages") else None
