"""Alerts: the rules (pure), and an alert firing once per episode with its actions reaching
the sandbox (an internal note, a tag, a raised priority on the open ticket) and a local
receiver that checks the webhook's signature as docs/alerts.md tells a team to."""

import hashlib
import hmac
import json
import threading
import time

import pytest
import requests
from sqlalchemy import event
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from integrations.sandbox.server import running_sandbox
from plugin.core.alerts import AlertFacts, AlertRule, check_rule, holds, raised, sign
from plugin.core.model import score
from plugin.core.settings import Settings
from plugin.demo.generator import generate
from plugin.service_layer.alerts import after_value
from plugin.service_layer.jobs import apply_tags
from plugin.service_layer.overview import refresh
from plugin.service_layer.sync import sync
from plugin.storage.alerts import AlertStore
from plugin.storage.overview import OverviewStore
from tests import tokens
from tests.factories import history, ticket
from tests.sandbox_fixtures import AUTH, NOW

SECRET = "s" * 40
RULE = AlertRule(1, "value_drop", 5.0, ({"type": "note"},))


def facts(value=10.0, tier="medium", value_30d=20.0, tier_30d="high", bad=0):
    return AlertFacts(1, "Ana", value, tier, value_30d, tier_30d, bad)


@pytest.mark.parametrize(("kind", "threshold", "customer", "fires"), [
    ("value_drop", 5, facts(10, value_30d=20), True),
    ("value_drop", 10, facts(10, value_30d=20), False),  # a fall of exactly N is not "more"
    ("value_drop", 5, facts(10, value_30d=None), False),  # no value 30 days ago
    ("tier_drop", 0, facts(tier="medium", tier_30d="high"), True),
    ("tier_drop", 0, facts(tier="high", tier_30d="high"), False),
    ("tier_drop", 0, facts(tier="low", tier_30d="medium"), False),
    ("bad_rating", 0, facts(tier="high", bad=1), True),
    ("bad_rating", 0, facts(tier="medium", bad=3), False),
    ("bad_rating", 0, facts(tier="high", bad=0), False),
])
def test_when_a_rule_holds(kind, threshold, customer, fires):
    assert bool(holds(AlertRule(1, kind, threshold, ()), customer)) is fires


def test_priority_is_only_ever_raised():
    assert raised("low", "high") == "high" and raised(None, "normal") == "normal"
    assert raised("urgent", "high") is None and raised("high", "high") is None


def test_a_rule_request_names_every_problem():
    _, errors = check_rule({"kind": "mood", "threshold": -3, "actions": [
        {"type": "tag", "tag": "two words"}, {"type": "priority", "priority": "low"},
        {"type": "fax"}]})
    assert set(errors) == {"kind", "threshold", "actions.0.tag", "actions.1.priority",
                           "actions.2"}
    rule, errors = check_rule({"kind": "value_drop", "threshold": 12, "actions": [
        {"type": "webhook", "url": "https://hooks.example.com/cv", "extra": 1}]})
    assert not errors and rule["actions"] == [{"type": "webhook",
                                               "url": "https://hooks.example.com/cv"}]


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"alert_id":1}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, body) == f"sha256={expected}"


def verify(secret: str, headers, body: bytes, now: float, tolerance: float = 300) -> bool:
    """A receiver's check, written from docs/alerts.md."""
    stamp = headers.get("X-Customer-Value-Timestamp", "")
    given = headers.get("X-Customer-Value-Signature", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(given, "sha256=" + mac.hexdigest())


@pytest.fixture
def receiver():
    received = []

    @Request.application
    def receive(request):
        body = request.get_data()
        received.append((verify(SECRET, request.headers, body, time.time()), json.loads(body)))
        return Response("ok")

    server = make_server("127.0.0.1", 0, receive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 150, seed=9, now=NOW)
    return folder


@pytest.mark.slow
def test_an_alert_fires_once_per_episode_and_its_actions_reach_zendesk(
        dataset, receiver, make_app, tmp_path):
    url, received = receiver
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base:
        app = make_app({"DEMO_MODE": True, "ZENDESK_BASE_URL": base,
                        "ZENDESK_EMAIL": AUTH[0].split("/")[0], "ZENDESK_API_TOKEN": AUTH[1],
                        "TAG_ALWAYS": True, "CRM_ALLOW_PRIVATE_HOSTS": True},
                       clock=lambda: NOW)
        services = app.extensions["customer_value"]
        config = services.config_for(base)
        store = services.store(base)
        sync(services.client(config), store, clock=lambda: NOW)
        refresh(services, base)
        admin = tokens.session("demo", 0, role="admin", now=NOW)
        client = app.test_client()
        assert client.put("/api/settings/secrets", headers=admin,
                          json={"alert_signing_secret": SECRET}).status_code == 200
        candidates = [r for r in client.get(
            "/api/overview/customers?sort=change&order=asc&per_page=100",
            headers=admin).get_json()["customers"] if r["change_30d"] < 0]
        dropped = next(r for r in candidates if store.open_ticket(r["user_id"]))
        ticket_id = store.open_ticket(dropped["user_id"])
        threshold = max(0.0, -dropped["change_30d"] - 0.05)
        added = client.post("/api/alerts/rules", headers=admin, json={
            "kind": "value_drop", "threshold": round(threshold, 2), "actions": [
                {"type": "note"}, {"type": "tag", "tag": "cv_alert"},
                {"type": "priority", "priority": "urgent"}, {"type": "webhook", "url": url}]})
        assert added.status_code == 201, added.get_json()
        agent = tokens.session("demo", 0, role="agent", now=NOW)
        assert client.post("/api/alerts/rules", headers=agent, json={}).status_code == 403

        with app.app_context():
            apply_tags(app, base, ticket_id, dropped["user_id"], None)
            apply_tags(app, base, ticket_id, dropped["user_id"], None)  # the same episode

        api = requests.Session()
        api.auth = AUTH
        ticket = api.get(f"{base}/api/v2/tickets/{ticket_id}", timeout=10).json()["ticket"]
        assert "cv_alert" in ticket["tags"] and ticket["priority"] == "urgent"
        comments = api.get(f"{base}/api/v2/tickets/{ticket_id}/comments",
                           timeout=10).json()["comments"]
        assert len(comments) == 1 and comments[0]["public"] is False
        assert "Customer Value alert" in comments[0]["body"]
        assert len(received) == 1, "fired once for the episode"
        valid, payload = received[0]
        assert valid, "the receiver's signature check passes"
        assert payload["customer"]["id"] == dropped["user_id"]
        assert payload["rule"]["kind"] == "value_drop" and payload["ticket_id"] == ticket_id

        listed = client.get("/api/alerts", headers=agent).get_json()["alerts"]
        assert len(listed) == 1 and listed[0]["ended_at"] is None
        assert {d["type"]: d["ok"] for d in listed[0]["done"]} == {
            "note": True, "tag": True, "priority": True, "webhook": True}
        forged = sign("another secret of forty characters......", 1, b"{}")
        assert not verify(SECRET, {"X-Customer-Value-Timestamp": "1",
                                   "X-Customer-Value-Signature": forged}, b"{}", 1)


def test_a_jobs_check_asks_nothing_without_rules_and_one_query_with_them(
        make_app, database_url):
    """The per-job check: while the account has no enabled rule, not one query; with rules,
    one (the customer's stored 30-day facts and open episodes together), and an episode
    already open is not fired again."""
    app = make_app({"DATABASE_URL": database_url, "ZENDESK_SUBDOMAIN": "acme",
                    "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": tokens.ACME_TOKEN},
                   clock=lambda: NOW)
    services = app.extensions["customer_value"]
    config = services.config_for("https://acme.zendesk.com")
    store = services.store(config.base_url)
    value = score(history(ticket(1), ticket(2)), Settings(), NOW)
    statements: list[str] = []
    event.listen(services.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))

    def check() -> list:
        statements.clear()
        return after_value(services, config, value, 1)

    assert check() == [] and check() == [] and statements == [], statements
    alerts = AlertStore(services.engine, store.account)
    rule = alerts.add_rule({"kind": "value_drop", "threshold": 0, "actions": [
        {"type": "tag", "tag": "cv_alert"}], "enabled": True}, author_id=0, now=NOW)
    alerts.add_rule({"kind": "bad_rating", "threshold": 0, "actions": [
        {"type": "tag", "tag": "cv_alert"}], "enabled": True}, author_id=0, now=NOW)
    services.forget_cached(("alert_rules", store.account))
    OverviewStore(services.engine, store.account).upsert([{
        "user_id": value.user_id, "name": value.name, "search": value.name.lower(),
        "organization_id": None, "organization_name": "", "segment": "",
        "value": value.value, "tier": value.tier, "value_30d": value.value + 30,
        "tier_30d": value.tier, "change_30d": -30.0, "little_data": False, "at_risk": False,
        "risks": [], "drivers": {}, "pinned": False, "settings_version": 1}], NOW)
    alerts.fire(rule.id, value.user_id, "value fell", NOW)
    check()  # reads the rules once
    assert check() == [], "the open episode is not fired again"
    assert len(statements) == 1, statements
