"""A new account goes from its first signed load to a working sidebar through the set-up page:
Zendesk's OAuth authorization-code flow against the sandbox's own OAuth endpoints (or an API
token typed once), the first sync on the queue, and a revoked token ending in "Reconnect"."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from integrations.automation import provision_fields
from integrations.sandbox.server import running_sandbox
from plugin.core.tagging import record_fields
from plugin.demo.generator import generate
from plugin.storage.sync_runs import SyncRuns
from tests.tokens import key_pair

NOW = datetime(2025, 6, 1, tzinfo=UTC)
APP = "https://app.test"
INSTALLATION, APP_ID = 5151, 808
pytestmark = pytest.mark.slow  # a sandbox server


@pytest.fixture(scope="module")
def signing():
    return key_pair()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("newco")
    generate(folder, 25, seed=4, now=NOW)
    with running_sandbox(folder, now=NOW, export_rate_limit=0) as base_url:
        yield base_url


def signed_load(private, *, user=321, account="newco") -> str:
    """Zendesk's signed-load JWT of a new installation (aud and cnf.jku as ZAF sends them)."""
    now = datetime.now(UTC)
    return jwt.encode({
        "iss": f"{account}.zendesk.com", "sub": str(user), "iat": now,
        "exp": now + timedelta(minutes=5),
        "aud": f"https://{account}.zendesk.com/api/v2/apps/installations/{INSTALLATION}.json",
        "cnf": {"jku": f"https://{account}.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem"}},
        private, algorithm="RS256")


@pytest.fixture
def setup_app(make_app, sandbox, signing, tmp_path):
    fetched = []

    def fetch(url):
        fetched.append(url)
        return signing[1]

    app = make_app({"ZENDESK_BASE_URL": sandbox, "ZENDESK_OAUTH_CLIENT_ID": "customer_value",
                    "ZENDESK_OAUTH_CLIENT_SECRET": "sandbox-oauth-secret",
                    "SETUP_TOKEN_ENTRY": True,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'setup.db'}"}, fetch_key=fetch)
    app.fetched = fetched
    return app


def ticket_of(page: str) -> str:
    return json.loads(re.search(r'id="cv-setup-config">(.*?)</script>', page).group(1))["ticket"]


def run_queued(app) -> int:
    huey, ran = app.extensions["queue"], 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def oauth_connect(client, sandbox, ticket: str) -> tuple[str, requests.Response]:
    """The admin's window: start, Zendesk's authorization page, Allow, back to the app."""
    start = client.get(f"/setup/oauth/start?ticket={ticket}", base_url=APP)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{sandbox}/oauth/authorizations/new?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "customer_value"
    page = requests.get(authorize, timeout=10)
    assert page.status_code == 200 and "Allow Customer Value" in page.text
    allowed = requests.post(f"{sandbox}/oauth/authorizations", timeout=10,
                            allow_redirects=False, data={
                                "decision": "allow", "redirect_uri": query["redirect_uri"],
                                "state": query["state"], "scope": query["scope"]})
    assert allowed.status_code == 302
    back = urlsplit(allowed.headers["Location"])
    assert f"{APP}{back.path}" == query["redirect_uri"]
    return f"{back.path}?{back.query}", allowed


def test_a_new_account_is_set_up_with_zendesk_sign_in(setup_app, sandbox, signing, tmp_path):
    client = setup_app.test_client()
    agent = client.post("/sidebar", data={"token": signed_load(signing[0])}, base_url=APP)
    assert agent.status_code == 200 and "An admin needs to finish set-up" in agent.text
    assert setup_app.fetched == [
        f"https://newco.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem"]
    page = client.post("/settings", data={"token": signed_load(signing[0])}, base_url=APP)
    assert page.status_code == 200 and "Connect with Zendesk" in page.text
    ticket = ticket_of(page.text)

    callback, _ = oauth_connect(client, sandbox, ticket)
    done = client.get(callback, base_url=APP)
    assert done.status_code == 200 and "Customer Value is connected" in done.text
    again = client.get(callback, base_url=APP)
    assert again.status_code == 400 and "used already" in again.text

    installation = setup_app.extensions["customer_value"].registry.get("newco")
    assert (installation.auth_kind, installation.installation_id, installation.app_id) == (
        "oauth", INSTALLATION, APP_ID)
    with sqlite3.connect(tmp_path / "setup.db") as db:
        sealed, refresh = db.execute("SELECT token_sealed, refresh_sealed FROM installations"
                                     ).fetchone()
    assert installation.token not in sealed and installation.refresh_token not in refresh

    status = client.get("/setup/status", headers={"X-Setup-Ticket": ticket}).get_json()
    assert [(i["key"], i["done"]) for i in status["items"]] == [
        ("connected", True), ("first_sync", False)]
    assert run_queued(setup_app) == 1
    status = client.get("/setup/status", headers={"X-Setup-Ticket": ticket}).get_json()
    assert status["done"] and "5 of 5 streams" in status["items"][1]["detail"]
    services = setup_app.extensions["customer_value"]
    run = SyncRuns(services.engine).get(services.store(installation.base_url).account)
    assert run.succeeded_at is not None and run.claimed_by is None, \
        "the first sync ran as the account's sync run, under its claim"

    sidebar = client.post("/sidebar", data={"token": signed_load(signing[0])}, base_url=APP)
    assert sidebar.status_code == 200 and "finish set-up" not in sidebar.text
    session = re.search(r'"token": "([^"]+)"', sidebar.text).group(1)
    store = setup_app.extensions["customer_value"].store(installation.base_url)
    customer = store.recent_requesters(1)[0]
    value = client.get(f"/api/customers/{customer}/value",
                       headers={"Authorization": f"Bearer {session}"})
    assert value.status_code == 200, value.text

    # The admin removes the app's access in Zendesk: one refresh is tried, then "Reconnect".
    requests.post(f"{sandbox}/_sandbox/oauth/revoke_all", timeout=10)
    refused = client.get(f"/api/customers/{customer}/value?refresh=1",
                         headers={"Authorization": f"Bearer {session}"})
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "reconnect"
    before = requests.get(f"{sandbox}/_sandbox/stats", timeout=10).json()["requests"]
    still = client.get(f"/api/customers/{customer}/value?refresh=1",
                       headers={"Authorization": f"Bearer {session}"})
    assert still.status_code == 401
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=10).json()["requests"] == before
    prompt = client.post("/sidebar", data={"token": signed_load(signing[0])}, base_url=APP)
    assert "Reconnect needed" in prompt.text
    page = client.post("/settings", data={"token": signed_load(signing[0])}, base_url=APP)
    assert "Reconnect" in page.text
    callback, _ = oauth_connect(client, sandbox, ticket_of(page.text))
    assert client.get(callback, base_url=APP).status_code == 200
    assert not setup_app.extensions["customer_value"].registry.get("newco").needs_reconnect


def test_the_state_is_bound_to_the_browser_that_started(setup_app, sandbox, signing):
    admin, other = setup_app.test_client(), setup_app.test_client()
    page = admin.post("/settings", data={"token": signed_load(signing[0])}, base_url=APP)
    callback, _ = oauth_connect(admin, sandbox, ticket_of(page.text))
    stolen = other.get(callback, base_url=APP)
    assert stolen.status_code == 400 and "another browser session" in stolen.text
    assert setup_app.extensions["customer_value"].registry.get("newco") is None


def test_an_api_token_typed_once_connects_the_account(setup_app, signing):
    client = setup_app.test_client()
    page = client.post("/settings", data={"token": signed_load(signing[0])}, base_url=APP)
    ticket = ticket_of(page.text)
    wrong = client.post("/setup/token", headers={"X-Setup-Ticket": ticket},
                        json={"email": "admin@example.com", "token": ""})
    assert wrong.status_code == 400
    done = client.post("/setup/token", headers={"X-Setup-Ticket": ticket},
                       json={"email": "admin@example.com", "token": "sandbox-token"})
    assert done.status_code == 200, done.text
    assert done.get_json()["items"][0] == {"key": "connected", "done": True,
                                           "detail": "with an API token"}
    assert setup_app.extensions["customer_value"].registry.get("newco").auth_kind == "token"


def test_the_checklist_waits_for_the_value_fields_when_values_are_written(setup_app, signing):
    client = setup_app.test_client()
    page = client.post("/settings", data={"token": signed_load(signing[0])}, base_url=APP)
    ticket = ticket_of(page.text)
    done = client.post("/setup/token", headers={"X-Setup-Ticket": ticket},
                       json={"email": "admin@example.com", "token": "sandbox-token"})
    assert "fields" not in [item["key"] for item in done.get_json()["items"]], \
        "no row while values are not written into the customer's records"

    services = setup_app.extensions["customer_value"]
    installation = services.registry.get("newco")
    store = services.store(installation.base_url)
    settings = services.versions(store).save(
        {"tagging_enabled": True, "tag_user": True, "value_user_field": "cv_setup_value",
         "tier_user_field": "cv_setup_tier"}, author_id=1, now=NOW).settings
    services.settings_saved(store)

    def fields_row():
        items = client.get("/setup/status", headers={"X-Setup-Ticket": ticket}).get_json()
        return next(item for item in items["items"] if item["key"] == "fields")

    row = fields_row()
    assert not row["done"]
    assert row["detail"] == ("missing: user_fields/cv_setup_value, user_fields/cv_setup_tier, "
                             "organization_fields/cv_setup_value, "
                             "organization_fields/cv_setup_tier")
    created = provision_fields(services.client(installation.zendesk), record_fields(settings))
    assert len(created) == 4
    services.forget_cached(("setup_fields", installation.base_url,
                            ("cv_setup_value", "cv_setup_tier")))
    assert fields_row() == {"key": "fields", "done": True, "detail": (
        "cv_setup_value, cv_setup_tier on users and organizations")}


def test_a_forged_signed_load_starts_nothing(setup_app):
    other, _ = key_pair()
    answer = setup_app.test_client().post("/settings", data={"token": signed_load(other)},
                                          base_url=APP)
    assert answer.status_code == 401
    assert "Set up" not in answer.text
