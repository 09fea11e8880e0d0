"""End to end through the sandbox's CRM APIs: online scoring with Zendesk Sell or Bitrix24 as
the spend source agrees with offline scoring of the same dataset; a won deal raises a
customer's value; a CRM that refuses, throttles or is down never breaks a score; `sync` loads
the CRM in pages into the history store, whose deals alone give the same values; the command
line uses the CRM credentials saved in the settings page."""

import json
import math
import shutil
from datetime import UTC, datetime

import pytest
import requests

from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskConfig
from plugin import create_app
from plugin.core.assessment import assess
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.demo.generator import generate
from plugin.service_layer.crm import CrmConnector, CrmEnv
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from plugin.storage.secrets import AccountSecrets
from plugin.storage.vault import Vault
from plugin.storage.versions import SettingsVersions
from plugin.web.auth import issue_app_token
from plugin.web.contract import to_json
from tests.commands import AUTH, cli, stats

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SELL_TOKEN, BITRIX_SECRET = "sell-sandbox-token", "bx24sandboxsecret"
RATES = {"EUR": 1.08, "GBP": 1.27}
SECRET = "y" * 40


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crm-account")
    generate(folder, 90, seed=5, now=NOW)
    return folder


@pytest.fixture(scope="module")
def sandbox(dataset):
    with running_sandbox(dataset, now=NOW, export_rate_limit=1000, sell_token=SELL_TOKEN,
                         bitrix_secret=BITRIX_SECRET) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def settings_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("settings")
    files = {}
    for kind in ("sell", "bitrix24"):
        files[kind] = folder / f"{kind}.json"
        files[kind].write_text(json.dumps({"spend_source": kind, "exchange_rates": RATES}))
    return files


@pytest.fixture(scope="module")
def env(sandbox, tmp_path_factory):
    database = tmp_path_factory.mktemp("crm-db") / "store.db"
    env = {"ZENDESK_BASE_URL": sandbox, "DATABASE_URL": f"sqlite:///{database}", **AUTH,
           "SELL_BASE_URL": sandbox, "SELL_ACCESS_TOKEN": SELL_TOKEN,
           "BITRIX24_WEBHOOK_URL": f"{sandbox}/rest/1/{BITRIX_SECRET}/"}
    done = cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    return env


def records(folder, name):
    return [item.get("data", item) for item in
            next(iter(json.loads((folder / f"{name}.json").read_text()).values()))]


def customers_by_kind(dataset) -> dict[str, list[int]]:
    """Users with won deals (in converted currencies), with a CHF deal, with two contacts."""
    users = {u["email"]: u["id"] for u in records(dataset, "users")}
    contacts = {c["id"]: c["email"] for c in records(dataset, "sell_contacts")}
    emails = list(contacts.values())
    found: dict[str, list[int]] = {"won": [], "chf": [], "duplicate": []}
    for deal in records(dataset, "sell_deals"):
        user = users[contacts[deal["contact_id"]]]
        if emails.count(contacts[deal["contact_id"]]) > 1:
            found["duplicate"].append(user)
        elif deal["currency"] == "CHF" and deal["stage_id"] == 4:
            found["chf"].append(user)
        elif deal["stage_id"] == 4:
            found["won"].append(user)
    return {kind: list(dict.fromkeys(ids)) for kind, ids in found.items()}


def score(user, settings_file, env, *extra):
    done = cli("score", "--user", str(user), "--json", "--now", NOW.isoformat(),
               "--settings", str(settings_file), *extra, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("kind", ["sell", "bitrix24"])
def test_online_and_offline_scoring_agree_with_crm_spend(dataset, crm_synced, settings_files,
                                                         kind):
    # What is typical in the account includes its customers' spend: the store has the CRM
    # synced (as the dataset folder has its files), so both read the same norms.
    env, _, _ = crm_synced
    chosen = customers_by_kind(dataset)
    users = chosen["won"][:2] + chosen["chf"][:1] + chosen["duplicate"][:1]
    assert len(users) >= 3, chosen
    for user in users:
        online = score(user, settings_files[kind], env)
        offline = score(user, settings_files[kind], {}, "--data", str(dataset))
        assert online == offline
    first = score(chosen["won"][0], settings_files[kind], env)
    assert first["spend"]["source"] == kind and first["spend"]["purchases"] >= 1
    assert chosen["chf"] and chosen["duplicate"], "the dataset has both cases"
    flagged = score(chosen["chf"][0], settings_files[kind], env)
    assert flagged["spend"]["skipped_currencies"].get("CHF", 0) >= 1
    assert any("CHF" in n for n in flagged["notices"])
    doubled = score(chosen["duplicate"][0], settings_files[kind], env)
    assert any(n.startswith("2 CRM contacts match") for n in doubled["notices"])


def test_a_won_deal_raises_the_same_customers_value(dataset, env, settings_files,
                                                    tmp_path):
    user = customers_by_kind(dataset)["won"][0]
    email = next(u["email"] for u in records(dataset, "users") if u["id"] == user)
    contact = next(c["id"] for c in records(dataset, "sell_contacts") if c["email"] == email)
    without = tmp_path / "without"
    shutil.copytree(dataset, without)
    body = json.loads((without / "sell_deals.json").read_text())
    body["items"] = [i for i in body["items"] if i["data"]["contact_id"] != contact]
    (without / "sell_deals.json").write_text(json.dumps(body))
    with running_sandbox(without, now=NOW, sell_token=SELL_TOKEN) as other:
        lacking = score(user, settings_files["sell"], {**env, "SELL_BASE_URL": other})
    having = score(user, settings_files["sell"], env)
    assert lacking["spend"]["purchases"] == 0 and having["spend"]["purchases"] >= 1
    assert having["value"] > lacking["value"]


def test_refused_crm_credentials_leave_a_zendesk_only_value_with_a_notice(dataset, env,
                                                                         settings_files):
    user = customers_by_kind(dataset)["won"][0]
    for kind, wrong in (("sell", {"SELL_ACCESS_TOKEN": "not-the-token"}),
                        ("bitrix24", {"BITRIX24_WEBHOOK_URL": f"{env['SELL_BASE_URL']}"
                                                              "/rest/1/wrongsecret/"})):
        result = score(user, settings_files[kind], {**env, **wrong})
        assert result["spend"]["purchases"] == 0
        assert any("refused the app's credentials" in n for n in result["notices"])


def test_retry_logs_name_the_webhook_path_without_its_secret(sandbox, caplog):
    from integrations.bitrix24 import Bitrix24Client, Bitrix24Config
    from integrations.errors import Unavailable

    bitrix = Bitrix24Client.connect(Bitrix24Config(f"{sandbox}/rest/1/wrongsecret/"),
                                    sleep=lambda seconds: None)
    requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": True}, timeout=10)
    try:
        with caplog.at_level("INFO", logger="integrations.http"), \
                pytest.raises(Unavailable) as caught:
            bitrix.contact_ids("ann@example.com")
    finally:
        requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": False}, timeout=10)
        bitrix.close()
    assert "/rest/1/***/crm.contact.list.json answered 503; retrying" in caplog.text
    assert "/rest/1/***/crm.contact.list.json" in str(caught.value)
    assert "wrongsecret" not in caplog.text + str(caught.value)


def test_query_limit_exceeded_is_waited_out(dataset, crm_synced, sandbox, settings_files):
    env, _, _ = crm_synced
    user = customers_by_kind(dataset)["won"][0]
    expected = score(user, settings_files["bitrix24"], {}, "--data", str(dataset))
    requests.post(f"{sandbox}/_sandbox/config", json={"bitrix_bucket": 1, "bitrix_drain": 4},
                  timeout=10)
    try:
        before = stats(sandbox)["by_endpoint"]
        assert score(user, settings_files["bitrix24"], env) == expected
        after = stats(sandbox)["by_endpoint"]
    finally:
        requests.post(f"{sandbox}/_sandbox/config", json={"bitrix_bucket": 50,
                                                          "bitrix_drain": 2}, timeout=10)
    asked = sum(after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("POST /rest"))
    assert asked > 2, "a refused call was retried, so more requests than calls were served"


def test_the_sidebar_api_answers_200_with_a_notice_when_the_crm_is_down(dataset, sandbox,
                                                                       tmp_path):
    user = customers_by_kind(dataset)["won"][0]
    app = create_app({"TESTING": True, "DEMO_MODE": True, "SECRET_KEY": SECRET,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                      "ZENDESK_BASE_URL": sandbox, "ZENDESK_EMAIL": AUTH["ZENDESK_EMAIL"],
                      "ZENDESK_API_TOKEN": AUTH["ZENDESK_API_TOKEN"]})
    services = app.extensions["customer_value"]
    services.settings = Settings(spend_source="sell", exchange_rates=RATES)
    services.crm = CrmConnector(env=CrmEnv(sell_base_url=sandbox, sell_token=SELL_TOKEN))
    token = issue_app_token(SECRET.encode(), account="demo", user_id=1, role="agent",
                            now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    try:
        up = client.get(f"/api/customers/{user}/value", headers=headers).get_json()
        before = stats(sandbox)["by_endpoint"]
        again = client.get(f"/api/customers/{user}/value", headers=headers).get_json()
        assert crm_requests(before, stats(sandbox)["by_endpoint"]) == 0, \
            "a warm cached value asks the CRM nothing"
        assert again == up
        requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": True}, timeout=10)
        services.crm.cache = type(services.crm.cache)()
        down = client.get(f"/api/customers/{user}/value?refresh=1", headers=headers)
    finally:
        requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": False}, timeout=10)
        services.close()
    assert up["spend"]["purchases"] >= 1
    assert down.status_code == 200
    body = down.get_json()
    assert body["spend"]["purchases"] == 0 and body["value"] < up["value"]
    assert any("Zendesk Sell is unavailable" in n for n in body["notices"])


def test_the_sandbox_bitrix24_batch_answers_as_single_calls_do(dataset, sandbox):
    hook = f"{sandbox}/rest/1/{BITRIX_SECRET}"
    emails = [c["email"] for c in records(dataset, "sell_contacts")][:3] + ["nobody@x.org"]
    single = {f"c{i}": requests.post(f"{hook}/crm.contact.list.json", json={
        "filter": {"EMAIL": email}}, timeout=10).json()["result"]
        for i, email in enumerate(emails)}
    body = requests.post(f"{hook}/batch.json", json={"halt": 0, "cmd": {
        f"c{i}": f"crm.contact.list?filter%5BEMAIL%5D={email.replace('@', '%40')}"
        for i, email in enumerate(emails)}}, timeout=10).json()
    assert body["result"]["result"] == single
    assert single["c0"] and single["c3"] == []


def test_the_sandbox_sell_pages_follow_next_page_links(dataset, sandbox):
    headers = {"Authorization": f"Bearer {SELL_TOKEN}"}
    url, seen = f"{sandbox}/v2/stages?per_page=2", []
    while url:
        body = requests.get(url, headers=headers, timeout=10).json()
        seen += [item["data"]["id"] for item in body["items"]]
        url = body["meta"]["links"].get("next_page")
    assert seen == [s["id"] for s in records(dataset, "sell_stages")]
    refused = requests.get(f"{sandbox}/v2/stages", headers={"Authorization": "Bearer no"},
                           timeout=10)
    assert refused.status_code == 401 and refused.json()["errors"][0]["error"]["code"]


def crm_requests(before: dict, after: dict, prefixes=("GET /v2/", "POST /rest/")) -> int:
    return sum(after[k] - before.get(k, 0) for k in after if k.startswith(prefixes))


def crm_counts(dataset) -> dict[str, int]:
    return {name: len(records(dataset, name)) for name in (
        "sell_contacts", "sell_deals", "bitrix_contacts", "bitrix_deals")}


def account_store(env) -> HistoryStore:
    url = env["DATABASE_URL"]
    upgrade(url)
    engine = connect(url)
    return HistoryStore(engine, account_id(engine, ZendeskConfig.from_env(env).base_url, NOW))


def use_crm(store: HistoryStore, kind: str) -> Settings:
    """Save settings taking spend from `kind`, as an admin would in the settings page."""
    return SettingsVersions(store.engine, store.account).save(
        {"spend_source": kind, "exchange_rates": RATES}, author_id=1, now=NOW).settings


@pytest.fixture(scope="module")
def crm_synced(dataset, sandbox, tmp_path_factory):
    """A store synced twice for each CRM (the account's settings naming it), with the CRM
    requests each run made."""
    database = tmp_path_factory.mktemp("crm-store") / "store.db"
    env = {"ZENDESK_BASE_URL": sandbox, "DATABASE_URL": f"sqlite:///{database}", **AUTH,
           "SELL_BASE_URL": sandbox, "SELL_ACCESS_TOKEN": SELL_TOKEN,
           "BITRIX24_WEBHOOK_URL": f"{sandbox}/rest/1/{BITRIX_SECRET}/"}
    store = account_store(env)
    asked: dict[str, list[int]] = {}
    for kind in ("sell", "bitrix24"):
        use_crm(store, kind)
        for _ in range(2):
            before = stats(sandbox)["by_endpoint"]
            done = cli("sync", env=env)
            assert done.returncode == 0, done.stderr
            asked.setdefault(kind, []).append(crm_requests(before, stats(sandbox)["by_endpoint"]))
    assert "CRM deals" in done.stdout
    yield env, store, asked
    store.engine.dispose()


def test_sync_reads_each_crm_in_pages_and_later_only_what_changed(dataset, crm_synced):
    _, _, asked = crm_synced
    n = crm_counts(dataset)
    assert n["sell_contacts"] > 0 and n["bitrix_deals"] > 50, n
    assert asked["sell"][0] == 1 + math.ceil(n["sell_contacts"] / 100) + math.ceil(
        n["sell_deals"] / 100), "stages, then contacts and deals by pages of 100"
    assert asked["bitrix24"][0] == math.ceil(n["bitrix_contacts"] / 50) + math.ceil(
        n["bitrix_deals"] / 50), "contacts and deals by pages of 50"
    assert asked["sell"][1] == 3 and asked["bitrix24"][1] == 2 < asked["bitrix24"][0], \
        "a second run reads one page of each listing"
    assert max(asked["sell"][0], asked["bitrix24"][0]) < len(records(dataset, "users"))


@pytest.mark.parametrize("kind", ["sell", "bitrix24"])
def test_stored_deals_alone_give_the_live_lookups_value(dataset, crm_synced, settings_files,
                                                        kind, sandbox):
    env, store, _ = crm_synced
    settings = Settings.from_dict({"spend_source": kind, "exchange_rates": RATES})
    chosen = customers_by_kind(dataset)
    users = chosen["won"][:2] + chosen["chf"][:1] + chosen["duplicate"][:1]
    for user in users:
        live = score(user, settings_files[kind], {}, "--data", str(dataset))
        norms = account_norms(store.sample(settings), settings, NOW)
        stored = to_json(assess(store.history(user, settings), settings, NOW, norms=norms))
        assert {k: stored[k] for k in ("value", "tier", "spend", "benefits", "notices")} == \
            {k: live[k] for k in ("value", "tier", "spend", "benefits", "notices")}
    requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": True}, timeout=10)
    try:
        down = score(users[0], settings_files[kind], env)
    finally:
        requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": False}, timeout=10)
    live = score(users[0], settings_files[kind], env)
    assert (down["value"], down["spend"]) == (live["value"], live["spend"])
    assert live["spend"]["purchases"] >= 1
    assert any(" is unavailable; spend from " in n and "as synced at" in n
               for n in down["notices"])


def test_the_command_line_uses_the_accounts_saved_crm_credentials(dataset, sandbox,
                                                                  settings_files, tmp_path):
    database = tmp_path / "store.db"
    env = {"ZENDESK_BASE_URL": sandbox, "DATABASE_URL": f"sqlite:///{database}", **AUTH,
           "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance"),
           "CUSTOMER_VALUE_SECRET_KEY": SECRET, "SELL_BASE_URL": sandbox,
           "SELL_ACCESS_TOKEN": "", "BITRIX24_WEBHOOK_URL": ""}
    user = customers_by_kind(dataset)["won"][0]
    without = score(user, settings_files["sell"], env)
    assert any("Zendesk Sell is not configured" in n for n in without["notices"])
    store = account_store(env)
    AccountSecrets(store.engine, store.account, Vault.from_secret(SECRET)).update(
        {"sell_token": SELL_TOKEN}, NOW)
    saved = score(user, settings_files["sell"], env)
    assert saved["spend"]["purchases"] >= 1 and saved["value"] > without["value"]
    wrong = score(user, settings_files["sell"], {**env, "SELL_ACCESS_TOKEN": "not-the-token"})
    assert wrong["spend"] == saved["spend"], "a saved credential comes before the environment's"
    use_crm(store, "sell")
    done = cli("sync", env=env)
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    assert store.counts()["crm_deals"] == len(records(dataset, "sell_deals"))
    store.engine.dispose()


def test_sync_saves_zendesk_and_warns_when_the_crm_is_down(env, sandbox, tmp_path):
    store = account_store(env)
    use_crm(store, "bitrix24")
    requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": True}, timeout=10)
    try:
        done = cli("sync", env=env)
    finally:
        requests.post(f"{sandbox}/_sandbox/config", json={"crm_down": False}, timeout=10)
        use_crm(store, "fields")
        store.engine.dispose()
    assert done.returncode == 0, done.stderr
    assert "warning: Bitrix24 could not be synced" in done.stderr
    assert BITRIX_SECRET not in done.stderr + done.stdout
    assert "tickets" in done.stdout
