"""End to end against the project's Zendesk sandbox on 127.0.0.1: `customer-value sync` builds
the history store from the exports (archived tickets included), and online scoring agrees with
offline scoring of the same dataset at a bounded cost in requests."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin.demo.generator import generate
from tests.commands import AUTH, cli, stats

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ARCHIVE_AFTER = timedelta(days=120)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 120, seed=21, now=NOW)
    return folder


@pytest.fixture(scope="module")
def sandbox(dataset):
    with running_sandbox(dataset, now=NOW, export_rate_limit=1000) as base_url:
        yield base_url






@pytest.fixture(scope="module")
def synced(sandbox, tmp_path_factory):
    database = tmp_path_factory.mktemp("db") / "store.db"
    env = {"ZENDESK_BASE_URL": sandbox, "DATABASE_URL": f"sqlite:///{database}", **AUTH}
    before = stats(sandbox)["requests"]
    done = cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    return env, done, stats(sandbox)["requests"] - before


def load(folder, name):
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))[name]


def customers_with_archived_tickets(dataset) -> list[int]:
    archived = {}
    for ticket in load(dataset, "tickets"):
        updated = datetime.fromisoformat(ticket["updated_at"])
        if ticket["status"] == "closed" and updated < NOW - ARCHIVE_AFTER:
            archived[ticket["requester_id"]] = archived.get(ticket["requester_id"], 0) + 1
    return sorted(archived, key=lambda user: -archived[user])


def test_sync_costs_the_export_pages_plus_a_small_constant(synced, dataset):
    env, done, requests_made = synced
    tickets = len(load(dataset, "tickets"))
    ratings = len(load(dataset, "satisfaction_ratings"))
    export_pages = -(-tickets // 1000) + 1 + 1  # tickets, users, organizations
    rating_pages = -(-ratings // 100) + 1
    assert requests_made <= export_pages + rating_pages + 3, done.stdout
    assert f"{tickets:,} tickets" in done.stdout


def test_online_scoring_agrees_with_offline_archived_history_included(synced, dataset, sandbox):
    env, _, _ = synced
    users = customers_with_archived_tickets(dataset)[:4]
    assert users, "the generated account should have archived tickets"
    for user in users:
        before = stats(sandbox)["requests"]
        online = cli("score", "--user", str(user), "--json", "--now", NOW.isoformat(), env=env)
        cost = stats(sandbox)["requests"] - before
        assert online.returncode == 0, online.stderr
        offline = cli("score", "--data", str(dataset), "--user", str(user), "--json",
                      "--now", NOW.isoformat(), env={})
        assert json.loads(online.stdout) == json.loads(offline.stdout)
        assert cost <= 3


def test_the_requested_list_alone_misses_archived_history(sandbox, dataset):
    user = customers_with_archived_tickets(dataset)[0]
    total = sum(1 for t in load(dataset, "tickets") if t["requester_id"] == user)
    listed = requests.get(f"{sandbox}/api/v2/users/{user}/tickets/requested",
                          params={"page[size]": 100}, auth=("agent@example.com/token", "t"),
                          timeout=10).json()["tickets"]
    assert len(listed) < total


def test_a_second_sync_fetches_only_what_changed(synced, sandbox):
    env, _, first = synced
    client = ZendeskClient(Transport(base_url=sandbox, session=requests.Session(),
                                     auth=("agent@example.com/token", "t"), mode="background"))
    tickets = load_first_open_ticket_ids(sandbox, client)
    job = client.wait_for(client.update_tags(tickets, add=["cv_test_tag"], remove=[]))
    assert job.status == "completed" and job.failed == []
    client.close()
    before = stats(sandbox)["requests"]
    done = cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    assert stats(sandbox)["requests"] - before < first
    tickets_line = next(line for line in done.stdout.splitlines() if line.startswith("tickets"))
    assert tickets_line.split()[1] == str(len(tickets))


def load_first_open_ticket_ids(sandbox, client) -> list[int]:
    """Five tickets that can still be updated (Zendesk refuses updates to closed tickets)."""
    body = client.transport.get("/api/v2/tickets", {"page[size]": 100})
    return [t["id"] for t in body["tickets"] if t["status"] != "closed"][:5]


def test_sync_survives_a_failing_zendesk(dataset, tmp_path):
    with running_sandbox(dataset, now=NOW, fault_rate=0.2, seed=5) as base_url:
        env = {"ZENDESK_BASE_URL": base_url, "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
               **AUTH}
        done = cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{len(load(dataset, 'tickets')):,} tickets" in done.stdout


def test_bad_credentials_and_missing_settings_are_clear(sandbox, tmp_path):
    missing = cli("sync", env={"ZENDESK_BASE_URL": "", "ZENDESK_SUBDOMAIN": "",
                               "ZENDESK_EMAIL": "", "ZENDESK_API_TOKEN": ""})
    assert missing.returncode == 1 and "set ZENDESK_SUBDOMAIN" in missing.stderr
    unknown = cli("score", "--user", "999999999", "--json",
                  env={"ZENDESK_BASE_URL": sandbox, "DATABASE_URL":
                       f"sqlite:///{tmp_path / 'x.db'}", **AUTH})
    assert unknown.returncode == 1 and "not in this Zendesk account" in unknown.stderr
    assert "Traceback" not in unknown.stderr + missing.stderr


def test_online_scoring_uses_the_accounts_saved_settings(synced, dataset, sandbox, tmp_path):
    import shutil

    from plugin.storage.schema import account_id, connect
    from plugin.storage.versions import SettingsVersions

    env, _, _ = synced
    copy = tmp_path / "store.db"
    shutil.copy(env["DATABASE_URL"].removeprefix("sqlite:///"), copy)
    env = {**env, "DATABASE_URL": f"sqlite:///{copy}"}
    engine = connect(env["DATABASE_URL"])
    try:
        saved = SettingsVersions(engine, account_id(engine, sandbox, NOW)).save(
            {"currency": "EUR"}, author_id=1, now=NOW, note="from the settings page")
    finally:
        engine.dispose()
    user = customers_with_archived_tickets(dataset)[0]
    online = cli("score", "--user", str(user), "--json", "--now", NOW.isoformat(), env=env)
    assert online.returncode == 0, online.stderr
    body = json.loads(online.stdout)
    assert (body["currency"], body["settings_version"]) == ("EUR", saved.version)
    overridden = cli("score", "--user", str(user), "--json", "--now", NOW.isoformat(),
                     "--settings", str(write_settings(tmp_path, {"currency": "GBP"})), env=env)
    assert json.loads(overridden.stdout)["currency"] == "GBP", "--settings wins"


def write_settings(folder, data):
    path = folder / "settings.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_backtest_reads_the_store_as_the_dataset_folder(synced, dataset, tmp_path):
    env, _, _ = synced
    settings = tmp_path / "settings.json"
    settings.write_text("{}")
    args = ["backtest", "--json", "--at", "2025-02-01T00:00:00Z", "--horizon", "90d",
            "--settings", str(settings)]
    stored = cli(*args, env=env)
    assert stored.returncode == 0, stored.stderr
    folder = cli(*args, "--data", str(dataset), env={})
    assert folder.returncode == 0, folder.stderr
    body = json.loads(stored.stdout)
    assert body == json.loads(folder.stdout)
    assert body["overall"]["customers"] > 0
