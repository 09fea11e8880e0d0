"""Switching tagging on creates Zendesk's webhook and trigger once; off removes them; the
receiver then verifies calls with the webhook's own signing secret."""

import json
from datetime import UTC, datetime

import pytest
import requests

from integrations.automation import TRIGGER_TITLE, WEBHOOK_NAME, provision
from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import generate
from plugin.web.auth import issue_app_token
from plugin.web.signature import sign
from tests.tagging_app import AUTH, NOW, build_app

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 20, seed=4, now=NOW)
    return folder


def installed(base_url):
    webhooks = requests.get(f"{base_url}/api/v2/webhooks", auth=AUTH, timeout=10).json()
    triggers = requests.get(f"{base_url}/api/v2/triggers", auth=AUTH, timeout=10).json()
    return ([w for w in webhooks["webhooks"] if w["name"] == WEBHOOK_NAME],
            [t for t in triggers["triggers"] if t["title"] == TRIGGER_TITLE])


def test_tagging_switch_provisions_once_and_removes(dataset, tmp_path):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        app = build_app(base_url, tmp_path)
        app.config["WEBHOOK_SECRET"] = None
        token = issue_app_token(app.config["SECRET_KEY"].encode(), account="demo", user_id=1,
                                role="admin", now=datetime.now(UTC))
        admin = {"Authorization": f"Bearer {token}"}
        app.config["DEMO_MODE"] = True
        client = app.test_client()
        on = client.put("/api/settings", headers=admin,
                        json={"settings": {"tagging_enabled": True}})
        assert on.status_code == 200, on.get_json()
        webhooks, triggers = installed(base_url)
        assert len(webhooks) == 1 and len(triggers) == 1
        assert webhooks[0]["endpoint"].endswith("/webhooks/zendesk")
        action = triggers[0]["actions"][0]
        assert action["field"] == "notification_webhook" and action["value"][0] == webhooks[0]["id"]
        assert json.loads(action["value"][1]) == {"ticket_id": "{{ticket.id}}",
                                                  "requester_id": "{{ticket.requester.id}}"}
        services = app.extensions["customer_value"]
        provision(services.client(services.zendesk), "https://elsewhere.example/hook")
        assert tuple(map(len, installed(base_url))) == (1, 1), "provisioning is idempotent"

        secret = requests.get(f"{base_url}/api/v2/webhooks/{webhooks[0]['id']}/signing_secret",
                              auth=AUTH, timeout=10).json()["signing_secret"]["secret"]
        body = b'{"ticket_id": "1", "requester_id": "2"}'
        stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        call = client.post("/webhooks/zendesk", data=body, headers={
            "X-Zendesk-Webhook-Signature": sign(secret, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "X-Zendesk-Webhook-Invocation-Id": "01HZX-provisioned"})
        assert call.status_code == 202

        off = client.put("/api/settings", headers=admin,
                         json={"settings": {"tagging_enabled": False}})
        assert off.status_code == 200
        assert installed(base_url) == ([], [])
        services.close()


def test_provisioning_finds_its_trigger_past_the_first_page_and_switched_off(dataset, tmp_path):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        app = build_app(base_url, tmp_path)
        services = app.extensions["customer_value"]
        client = services.client(services.zendesk)
        first = provision(client, "https://cv.example.org/webhooks/zendesk")
        for n in range(120):  # an account with many triggers of its own, created after ours
            requests.post(f"{base_url}/api/v2/triggers", auth=AUTH, timeout=10, json={
                "trigger": {"title": f"Route {n:03}", "conditions": {"all": [], "any": [
                    {"field": "update_type", "operator": "is", "value": "Create"}]},
                    "actions": [{"field": "group_id", "value": "1"}]}}).raise_for_status()
        requests.put(f"{base_url}/api/v2/triggers/{first.trigger_id}", auth=AUTH, timeout=10,
                     json={"trigger": {"active": False}}).raise_for_status()
        again = provision(client, "https://cv.example.org/webhooks/zendesk")
        ours = [t for t in all_triggers(base_url) if t["title"] == TRIGGER_TITLE]
        assert [t["id"] for t in ours] == [first.trigger_id] == [again.trigger_id]
        assert ours[0]["active"], "switched back on"
        changed = {c["field"] for c in ours[0]["conditions"]["any"]}
        assert {"update_type", "requester_id", "status", "priority",
                "satisfaction_score"} == changed
        assert "tags" not in changed, "the app's own tag updates never fire it"
        services.close()


def all_triggers(base_url):
    found, url, params = [], f"{base_url}/api/v2/triggers", {"page[size]": 100}
    while True:
        body = requests.get(url, params=params, auth=AUTH, timeout=10).json()
        found += body["triggers"]
        if not body["meta"]["has_more"]:
            return found
        url, params = body["links"]["next"], None
