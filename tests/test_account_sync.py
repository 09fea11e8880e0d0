"""Every installed account kept current by the server: the periodic task claims due accounts
(one worker per account at a time), the first run backfills, later runs re-tag the customers
whose data changed; the settings page and /metrics show the last run and the lag."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests

from integrations.errors import Unavailable
from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import generate
from plugin.service_layer.account_sync import (
    claim_due,
    holding,
    run_claimed,
    run_first_sync,
    sync_account,
)
from plugin.service_layer.jobs import queue_due_syncs
from plugin.storage.installations import Installation
from plugin.storage.sync_runs import SyncRuns
from tests import tokens
from tests.factories import NOW
from tests.tagging_app import AUTH
from tests.tagging_app import NOW as SANDBOX_NOW

HOUR = timedelta(hours=1)
TIER_TAGS = {"cv_high", "cv_low"}


def test_a_due_account_is_claimed_by_one_worker_only(app):
    services = app.extensions["customer_value"]
    assert claim_due(services, "w1", every=HOUR) == ["acme"]
    assert claim_due(services, "w2", every=HOUR) == [], "held by w1"
    account = services.store("https://acme.zendesk.com").account
    SyncRuns(services.engine).finish(account, "w1", NOW)
    assert claim_due(services, "w2", every=HOUR) == [], "finished just now: not due"
    assert claim_due(services, "w2", every=timedelta(0)) == ["acme"]


def test_workers_claiming_at_once_get_the_account_once(app):
    services = app.extensions["customer_value"]
    account = services.store("https://acme.zendesk.com").account
    runs = SyncRuns(services.engine)
    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(lambda n: runs.claim(account, f"w{n}", NOW, every=HOUR,
                                                 lease=HOUR), range(6)))
    assert won.count(True) == 1


def test_an_expired_claim_is_taken_up_again(app):
    services = app.extensions["customer_value"]
    account = services.store("https://acme.zendesk.com").account
    runs = SyncRuns(services.engine)
    assert runs.claim(account, "dead", NOW - 3 * HOUR, every=HOUR, lease=HOUR)
    assert runs.claim(account, "alive", NOW, every=HOUR, lease=HOUR)


def test_a_running_sync_renews_its_claim_and_a_dead_worker_gives_it_up(app):
    """A sync longer than the lease keeps its account; once its worker stops renewing (killed
    mid-sync), the account is free one lease later, not hours later."""
    services = app.extensions["customer_value"]
    account = services.store("https://acme.zendesk.com").account
    runs, lease, later = SyncRuns(services.engine), timedelta(seconds=0.9), NOW + 10 * HOUR
    assert runs.claim(account, "w1", NOW, every=HOUR, lease=lease)
    moments = [NOW]
    services.clock = lambda: moments[-1]
    with holding(services, account, "w1", lease):
        moments.append(later)  # the sync runs for ten hours
        time.sleep(1.0)  # three renewal periods
        assert not runs.claim(account, "w2", later, every=HOUR, lease=lease), "renewed"
    assert not runs.claim(account, "w2", later + lease / 2, every=HOUR, lease=lease)
    assert runs.claim(account, "w2", later + 2 * lease, every=HOUR, lease=lease)


def test_the_settings_page_and_metrics_show_the_last_run_and_lag(app):
    services = app.extensions["customer_value"]
    client = app.test_client()
    admin = tokens.session("acme", 1, role="admin", now=NOW)
    before = client.get("/api/settings", headers=admin).get_json()["sync"]
    assert before["last_run"] is None and before["lag_seconds"] is None
    account = services.store("https://acme.zendesk.com").account
    runs = SyncRuns(services.engine)
    runs.claim(account, "w", NOW - 2 * HOUR, every=HOUR, lease=HOUR)
    runs.finish(account, "w", NOW - HOUR)
    sync = client.get("/api/settings", headers=admin).get_json()["sync"]
    assert sync["last_success"] == "2025-05-31T23:00:00Z" or sync["lag_seconds"] == 3600
    assert sync["lag_seconds"] == 3600 and not sync["running"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'customer_value_sync_lag_seconds{account="acme"} 3600.0' in metrics
    assert 'customer_value_sync_running{account="acme"} 0.0' in metrics


def test_a_failed_run_keeps_the_last_success_and_says_why(app):
    services = app.extensions["customer_value"]
    account = services.store("https://acme.zendesk.com").account
    runs = SyncRuns(services.engine)
    runs.claim(account, "w", NOW - 2 * HOUR, every=HOUR, lease=HOUR)
    runs.finish(account, "w", NOW - HOUR)
    runs.claim(account, "w", NOW, every=timedelta(0), lease=HOUR)
    runs.finish(account, "w", NOW, error="Unavailable: Zendesk answered 503")
    run = runs.get(account)
    assert run.error.startswith("Unavailable") and run.succeeded_at == NOW - HOUR


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 40, seed=5, now=SANDBOX_NOW)
    return folder


def ticket_tags(base_url) -> dict[int, set[str]]:
    body = requests.get(f"{base_url}/api/v2/incremental/tickets/cursor",
                        params={"start_time": 0, "per_page": 1000}, auth=AUTH,
                        timeout=30).json()
    assert body["end_of_stream"]
    return {t["id"]: set(t["tags"]) for t in body["tickets"] if t["status"] != "closed"}


@pytest.mark.slow
def test_a_second_installed_account_is_synced_and_tagged_with_no_command(dataset, make_app):
    with running_sandbox(dataset, now=SANDBOX_NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.02) as base_url:
        app = make_app({"SYNC_INTERVAL_SECONDS": 300})
        services = app.extensions["customer_value"]
        services.registry.save(Installation("beta", base_url, 1, 2, AUTH[0].split("/")[0],
                                            AUTH[1]), NOW)
        store = services.store(base_url)
        services.versions(store).save({"tagging_enabled": True}, author_id=1, now=NOW)
        app.extensions["queue"].immediate = True  # queued jobs run at once, in this thread
        assert not any(tags & TIER_TAGS for tags in ticket_tags(base_url).values())

        assert queue_due_syncs(app) == ["beta"]
        assert store.counts()["tickets"] > 0
        tagged = {i for i, tags in ticket_tags(base_url).items() if tags & TIER_TAGS}
        assert tagged, "the first run backfilled the account's open tickets"
        assert queue_due_syncs(app) == [], "not due again before the interval"
        run = SyncRuns(services.engine).get(store.account)
        assert run.succeeded_at is not None and run.claimed_by is None

        # A tag removed in Zendesk changes the ticket: the next run re-tags its customer.
        ticket_id = min(tagged)
        tag = next(iter(ticket_tags(base_url)[ticket_id] & TIER_TAGS))
        requests.put(f"{base_url}/api/v2/tickets/{ticket_id}/tags", json={"tags": [tag]},
                     auth=AUTH, timeout=10).raise_for_status()
        requests.delete(f"{base_url}/api/v2/tickets/{ticket_id}/tags", json={"tags": [tag]},
                        auth=AUTH, timeout=10).raise_for_status()
        assert tag not in ticket_tags(base_url)[ticket_id]
        assert claim_due(services, "w", every=timedelta(0)) == ["beta"]
        report = run_claimed(services, "beta", "w")
        assert not report.first and report.sync.changed_requesters
        assert tag in ticket_tags(base_url)[ticket_id]


@pytest.mark.slow
def test_an_account_with_tagging_off_is_synced_and_says_why_it_wrote_no_tag(dataset, make_app,
                                                                             caplog):
    with running_sandbox(dataset, now=SANDBOX_NOW, export_rate_limit=0, rate_limit=0) as base_url:
        app = make_app({})
        services = app.extensions["customer_value"]
        services.registry.save(Installation("gamma", base_url, 1, 2, "a@example.com", "t"), NOW)
        with caplog.at_level("INFO"):
            report = sync_account(services, "gamma")
        assert "tagging is switched off" in report.refused
        assert "no tag written: tagging is switched off" in caplog.text
        assert services.store(base_url).counts()["tickets"] > 0
        assert not any(tags & TIER_TAGS for tags in ticket_tags(base_url).values())


@pytest.mark.slow
def test_a_running_worker_syncs_and_tags_a_newly_installed_account(dataset, tmp_path):
    import os
    import signal
    import subprocess
    import time

    from plugin.storage.history import HistoryStore
    from plugin.storage.schema import account_id, connect
    from plugin.storage.versions import SettingsVersions
    from tests.commands import SCRIPT, cli

    database = f"sqlite:///{tmp_path / 'cv.db'}"
    env = {**{name: "" for name in os.environ if name.startswith(("ZENDESK_", "CUSTOMER_"))},
           "DATABASE_URL": database, "REDIS_URL": "", "CUSTOMER_VALUE_SECRET_KEY": "w" * 40,
           "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance")}
    with running_sandbox(dataset, now=SANDBOX_NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.02) as base_url:
        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen([SCRIPT, "worker", "--workers", "2"],
                                  env={**os.environ, **env}, stdout=log, stderr=log,
                                  start_new_session=True)
        try:
            deadline = time.monotonic() + 60  # the server runs (and has migrated) first
            while time.monotonic() < deadline and "Worker with" not in (
                    tmp_path / "worker.log").read_text():
                time.sleep(0.2)
            installed = cli("install", "--subdomain", "delta", "--app-id", "1",
                            "--installation-id", "2", "--email", "agent@example.com",
                            "--base-url", base_url, env={**env, "ZENDESK_API_TOKEN": "t"})
            assert installed.returncode == 0, installed.stderr
            engine = connect(database)  # the admin switches tagging on in the settings page
            SettingsVersions(engine, account_id(engine, base_url, NOW)).save(
                {"tagging_enabled": True}, author_id=1, now=NOW)
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline and not any(
                    tags & TIER_TAGS for tags in ticket_tags(base_url).values()):
                time.sleep(1)
            store = HistoryStore(engine, account_id(engine, base_url, NOW))
            assert any(tags & TIER_TAGS for tags in ticket_tags(base_url).values()), \
                "the worker tagged the new account's tickets with no operator command"
            assert store.counts()["tickets"] > 0, "and synced its history"
            engine.dispose()
        finally:
            os.killpg(worker.pid, signal.SIGINT)
            worker.wait(60)
            log.close()


def test_a_failing_sync_job_is_kept_with_its_sync_run_not_as_a_tagging_job(make_app):
    from integrations.errors import Unavailable
    from plugin.storage.schema import accounts

    class Down:
        """A Zendesk client whose every request fails."""

        spend_field = ""

        def __getattr__(self, name):
            raise Unavailable("Zendesk is failing (503)", service="Zendesk")

        def close(self):
            pass

    app = make_app({}, client_factory=lambda config: Down())
    services = app.extensions["customer_value"]
    services.registry.save(Installation("beta", "https://beta.zendesk.com", 1, 2, "a@b.c", "t"),
                           NOW)
    app.extensions["queue"].immediate = True
    assert queue_due_syncs(app) == ["beta"]
    run = SyncRuns(services.engine).get(services.store("https://beta.zendesk.com").account)
    assert run.error.startswith("Unavailable") and run.claimed_by is None
    with services.engine.connect() as conn:
        keys = list(conn.execute(accounts.select().with_only_columns(accounts.c.key)).scalars())
    assert keys == ["https://beta.zendesk.com"], "no account is made up from a subdomain"
    assert services.failed_jobs("https://beta.zendesk.com") == []


def test_an_interval_of_zero_switches_the_periodic_sync_off(make_app):
    app = make_app({"SYNC_INTERVAL_SECONDS": 0})
    app.extensions["customer_value"].registry.save(
        Installation("beta", "https://beta.zendesk.com", 1, 2, "a@b.c", "t"), NOW)
    assert queue_due_syncs(app) == []


class GatedZendesk:
    """A Zendesk whose first export waits for the test to let it go, then fails (503): a
    sync that is running for as long as the test needs."""

    spend_field = ""

    def __init__(self):
        self.transport = SimpleNamespace(total_calls=0)
        self.entered, self.release = threading.Event(), threading.Event()
        self.syncs = 0

    def organization_pages(self, **_):
        self.syncs += 1
        self.entered.set()
        assert self.release.wait(30)
        raise Unavailable("Zendesk is failing (503)", service="Zendesk")

    def close(self):
        pass


def test_the_first_sync_and_the_periodic_sync_never_run_one_account_at_once(make_app,
                                                                             database_url):
    gate = GatedZendesk()
    app = make_app({"DATABASE_URL": database_url, "ZENDESK_BASE_URL": "https://acme.zendesk.com",
                    "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": "t",
                    "ZENDESK_APP_ID": "55"}, client_factory=lambda config: gate,
                   clock=lambda: NOW)
    services = app.extensions["customer_value"]
    base_url = "https://acme.zendesk.com"
    account = services.store(base_url).account
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(run_first_sync, services, base_url, "set-up")
        assert gate.entered.wait(30)
        assert SyncRuns(services.engine).get(account).claimed_by == "set-up"
        assert claim_due(services, "periodic", every=timedelta(0)) == [], \
            "the periodic sync waits for the first sync"
        assert run_first_sync(services, base_url, "set-up again") is None
        gate.release.set()
        with pytest.raises(Unavailable):
            first.result(30)
    run = SyncRuns(services.engine).get(account)
    assert run.claimed_by is None and run.error.startswith("Unavailable"), \
        "the first sync's run is the account's sync run"
    assert gate.syncs == 1

    # And the other way round: a periodic sync holding the account keeps the first sync off.
    gate.entered.clear()
    assert claim_due(services, "periodic", every=timedelta(0)) == ["acme"]
    assert run_first_sync(services, base_url, "set-up") is None
    assert gate.syncs == 1, "no second sync of the account started"
    with pytest.raises(Unavailable):
        run_claimed(services, "acme", "periodic")
    assert gate.syncs == 2


@pytest.mark.slow
def test_the_first_sync_is_the_periodic_run_that_backfills_and_tags(dataset, make_app):
    with running_sandbox(dataset, now=SANDBOX_NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.02) as base_url:
        app = make_app({"SYNC_INTERVAL_SECONDS": 300})
        services = app.extensions["customer_value"]
        services.registry.save(Installation("beta", base_url, 1, 2, AUTH[0].split("/")[0],
                                            AUTH[1]), NOW)
        store = services.store(base_url)
        services.versions(store).save({"tagging_enabled": True}, author_id=1, now=NOW)
        app.extensions["queue"].immediate = True
        app.extensions["queue"].first_sync(base_url)  # what connecting the account queues
        run = SyncRuns(services.engine).get(store.account)
        assert run is not None and run.succeeded_at is not None and run.claimed_by is None
        assert store.counts()["tickets"] > 0
        assert any(tags & TIER_TAGS for tags in ticket_tags(base_url).values()), \
            "the first sync backfilled the open tickets' tags"
        assert queue_due_syncs(app) == [], "the periodic sync knows the account is fresh"
