"""Backfill against the sandbox: right tags on every open ticket in bulk updates, nothing
written on a dry run, and an interrupted run that resumes to the same result."""

import json
from datetime import UTC, datetime

import pytest
import requests

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin.core.model import absolute_cutoffs, score
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.demo.generator import generate
from plugin.service_layer.backfill import backfill
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

NOW = datetime(2025, 6, 1, tzinfo=UTC)
AUTH = ("agent@example.com/token", "t")
SETTINGS = Settings.from_dict({"tagging_enabled": True})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 150, seed=13, now=NOW)
    return folder


def run(base_url, database, settings=SETTINGS, **options):
    upgrade(database)
    engine = connect(database)
    store = HistoryStore(engine, account_id(engine, base_url, NOW))
    client = ZendeskClient(Transport(base_url=base_url, session=requests.Session(), auth=AUTH,
                                     mode="background"))
    try:
        return backfill(client, store, settings, clock=lambda: NOW, **options), store
    finally:
        client.close()


def all_tags(base_url) -> dict[int, list[str]]:
    found, url = {}, f"{base_url}/api/v2/incremental/tickets/cursor"
    params = {"start_time": 0}
    while True:
        body = requests.get(url, params=params, auth=AUTH, timeout=30).json()
        found.update({t["id"]: sorted(t["tags"]) for t in body["tickets"]})
        if body["end_of_stream"]:
            return found
        params = {"cursor": body["after_cursor"]}


def sandbox(dataset):
    return running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0,
                           job_seconds=0.02)


def test_backfill_tags_open_tickets_in_bulk(dataset, tmp_path):
    with sandbox(dataset) as base_url:
        report, store = run(base_url, f"sqlite:///{tmp_path / 'a.db'}")
        tags = all_tags(base_url)
    assert report.tickets_tagged > 0 and report.updates >= 1
    # Full updates of 100 until the end, then one per group of tags to add and remove.
    assert report.updates <= report.tickets_tagged // 100 + 2 * len(report.tiers)
    assert sum(report.tiers.values()) > 0
    cutoffs = absolute_cutoffs(SETTINGS)
    norms = account_norms(store.sample(SETTINGS), SETTINGS, NOW)
    for history in store.histories():
        value = score(history, SETTINGS, NOW, cutoffs, norms)
        tier = "medium" if value.little_data else value.tier  # little data keeps no tag
        for ticket in history.tickets:
            if ticket.status == "closed":
                continue
            ours = [t for t in tags[ticket.id] if t in ("cv_high", "cv_low")]
            assert ours == {"high": ["cv_high"], "low": ["cv_low"]}.get(tier, []) or (
                # hysteresis keeps a tag within the margin of its threshold
                tier == "medium"), (ticket.id, tier, ours)


def test_dry_run_writes_nothing(dataset, tmp_path):
    with sandbox(dataset) as base_url:
        before = all_tags(base_url)
        report, _ = run(base_url, f"sqlite:///{tmp_path / 'a.db'}", dry_run=True)
        after = all_tags(base_url)
    assert report.tickets_tagged > 0 and before == after
    # It says how many bulk updates a real run would send, not "0 bulk updates".
    assert -(-report.tickets_tagged // 100) <= report.updates <= report.tickets_tagged


def test_an_interrupted_backfill_resumes_to_the_same_tags(dataset, tmp_path):
    with sandbox(dataset) as base_url:
        run(base_url, f"sqlite:///{tmp_path / 'whole.db'}")
        whole = all_tags(base_url)

    def interrupt(done, total):
        if done == total // 2:
            raise KeyboardInterrupt

    with sandbox(dataset) as base_url:
        database = f"sqlite:///{tmp_path / 'halves.db'}"
        with pytest.raises(KeyboardInterrupt):
            run(base_url, database, progress=interrupt)
        report, _ = run(base_url, database)
        halves = all_tags(base_url)
    assert halves == whole
    assert json.dumps(sorted(report.tiers.items()))


def test_a_checkpoint_is_saved_mid_run_and_the_resume_matches(tmp_path_factory, tmp_path,
                                                              monkeypatch):
    # Updates of 25 tickets instead of Zendesk's 100, so that full updates are flushed (and a
    # checkpoint saved) before the interruption whatever share of this account the model tags.
    monkeypatch.setattr("plugin.service_layer.backfill.BULK_LIMIT", 25)
    folder = tmp_path_factory.mktemp("larger")
    generate(folder, 900, seed=17, now=NOW)
    with sandbox(folder) as base_url:
        run(base_url, f"sqlite:///{tmp_path / 'whole.db'}")
        whole = all_tags(base_url)

    def interrupt(done, total):
        if done == total * 3 // 4:
            raise KeyboardInterrupt

    with sandbox(folder) as base_url:
        database = f"sqlite:///{tmp_path / 'halves.db'}"
        with pytest.raises(KeyboardInterrupt):
            run(base_url, database, progress=interrupt)
        upgrade(database)
        engine = connect(database)
        saved = HistoryStore(engine, account_id(engine, base_url, NOW)).state("backfill").cursor
        engine.dispose()
        assert saved is not None, "no full update was flushed before the interruption"
        report, _ = run(base_url, database)
        halves = all_tags(base_url)
    assert report.resumed_after == int(saved)
    assert halves == whole


def test_backfill_ranks_customers_with_their_crm_deals_as_offline_scoring_does(dataset,
                                                                               tmp_path):
    from collections import Counter

    from integrations.files.crm import load_crm
    from integrations.files.dataset import load
    from integrations.sell import SellClient, SellConfig
    from plugin.core.model import account_cutoffs
    from plugin.core.norms import account_norms
    from plugin.service_layer.crm import with_crm

    settings = Settings.from_dict({
        "tagging_enabled": True, "spend_source": "sell",
        "exchange_rates": {"EUR": 1.08, "GBP": 1.27},
        "tiers": {"mode": "percentile", "high": 80, "low": 20}})
    with sandbox(dataset) as base_url:
        crm = SellClient.connect(SellConfig(token="any", base_url=base_url), mode="background")
        report, store = run(base_url, f"sqlite:///{tmp_path / 'a.db'}", settings, crm=crm,
                            dry_run=True)
        crm.close()
    folder_crm = load_crm(dataset, "sell")
    offline = [with_crm(h, folder_crm, settings) for h in load(dataset).histories()]
    norms = account_norms(offline, settings, NOW)
    assert account_norms(store.sample(settings), settings, NOW) == norms
    cutoffs = account_cutoffs(offline, settings, NOW, norms)
    assert account_cutoffs(store.histories(settings), settings, NOW, norms) == cutoffs
    assert report.tiers == Counter(score(h, settings, NOW, cutoffs, norms).tier
                                   for h in offline if h.tickets)
    assert store.crm_deals("sell") is not None and store.counts()["crm_deals"] > 0


def test_a_crm_outage_leaves_backfill_tagging_with_zendesk_data(dataset, tmp_path):
    from integrations.sell import SellClient, SellConfig

    settings = Settings.from_dict({"tagging_enabled": True, "spend_source": "sell"})
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.02, crm_down=True) as base_url:
        crm = SellClient.connect(SellConfig(token="any", base_url=base_url), mode="background",
                                 sleep=lambda seconds: None)
        try:
            report, store = run(base_url, f"sqlite:///{tmp_path / 'a.db'}", settings, crm=crm)
        finally:
            crm.close()
    assert report.crm_error is not None and report.crm_error.service == "Zendesk Sell"
    assert report.tickets_tagged > 0 and sum(report.tiers.values()) > 0
    assert store.counts()["tickets"] > 0 and store.crm_deals("sell") is None


def test_backfill_of_an_account_with_tagging_off_writes_nothing_and_says_why(dataset, tmp_path):
    with sandbox(dataset) as base_url:
        before = all_tags(base_url)
        report, _ = run(base_url, f"sqlite:///{tmp_path / 'a.db'}", settings=Settings())
        assert all_tags(base_url) == before
    assert report.refused.startswith("tagging is switched off")
    assert report.tickets_tagged > 0, "what a permitted run would change is still counted"
    assert report.updates >= 1, "and in how many bulk updates"
