"""Writing where Zendesk routes: value and tier user fields and a user tag per customer, the
organization's roll-up in organization fields, the fields created when switched on; and the
sandbox's user field, organization field and update endpoints in Zendesk's shapes."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin.core.settings import Settings
from plugin.demo.generator import generate
from plugin.service_layer.backfill import backfill
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from plugin.web.auth import issue_app_token
from tests.reference import schema_properties
from tests.tagging_app import AUTH, NOW, build_app

pytestmark = pytest.mark.slow  # sandbox servers

SUPPORT = Path(__file__).resolve().parents[2] / "shared" / "reference" / \
    "zendesk-support-openapi.yaml"
WRITE_CUSTOMERS = {"tagging_enabled": True, "tag_user": True, "tag_tickets": False}


def declared(name: str) -> set[str]:
    return schema_properties(SUPPORT.read_text(encoding="utf-8").splitlines(), name)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 40, seed=9, now=NOW)
    return folder


def get(base_url, path, **params):
    answer = requests.get(f"{base_url}/api/v2{path}", params=params, auth=AUTH, timeout=10)
    answer.raise_for_status()
    return answer.json()


def send(base_url, method, path, body):
    return requests.request(method, f"{base_url}/api/v2{path}", json=body, auth=AUTH,
                            timeout=10)


def test_the_sandbox_answers_field_and_update_endpoints_in_zendesks_shapes(dataset):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        created = send(base_url, "POST", "/user_fields", {"user_field": {
            "key": "customer_value", "type": "decimal", "title": "Customer value"}})
        assert created.status_code == 201
        field = created.json()["user_field"]
        assert set(field) <= declared("CustomFieldObject"), set(field) - declared(
            "CustomFieldObject")
        assert {"key", "type", "title"} <= set(field) and field["type"] == "decimal"
        again = send(base_url, "POST", "/user_fields", {"user_field": {
            "key": "customer_value", "type": "decimal", "title": "Again"}})
        assert again.status_code == 422 and again.json()["error"] == "RecordInvalid"
        blank = send(base_url, "POST", "/organization_fields", {"organization_field": {
            "key": "x", "type": "text"}})
        assert blank.status_code == 422 and "title" in blank.json()["details"]
        listed = get(base_url, "/user_fields")
        assert set(listed) <= declared("UserFieldsResponse") | {"user_fields"}
        assert [f["key"] for f in listed["user_fields"]] == ["customer_value"]
        assert get(base_url, "/organization_fields")["organization_fields"] == []

        user_id = 10000001
        updated = send(base_url, "PUT", f"/users/{user_id}", {"user": {
            "user_fields": {"customer_value": 42.5, "no_such_field": "x"},
            "tags": ["cv_high", "vip"]}})
        assert updated.status_code == 200
        user = updated.json()["user"]
        assert set(user) <= declared("UserObject")
        assert user["user_fields"]["customer_value"] == 42.5
        assert "no_such_field" not in user["user_fields"], "unknown keys are ignored"
        assert user["tags"] == ["cv_high", "vip"]
        assert get(base_url, f"/users/{user_id}")["user"]["tags"] == ["cv_high", "vip"]
        exported = get(base_url, "/incremental/users/cursor", start_time=0)
        assert exported["users"][-1]["id"] == user_id, "an update moves it to the export's end"
        organization_id = next(u for u in exported["users"] if u.get("organization_id"))[
            "organization_id"]
        org = send(base_url, "PUT", f"/organizations/{organization_id}", {"organization": {
            "organization_fields": {"anything": 1}}})
        assert org.status_code == 200
        assert set(org.json()["organization"]) <= declared("OrganizationObject")
        assert send(base_url, "PUT", "/users/1", {"user": {}}).status_code == 404


def test_switching_customer_writes_on_creates_the_fields_once(dataset, tmp_path):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        app = build_app(base_url, tmp_path)
        app.config["DEMO_MODE"] = True
        token = issue_app_token(app.config["SECRET_KEY"].encode(), account="demo", user_id=1,
                                role="admin", now=datetime.now(UTC))
        admin = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        for _ in range(2):
            saved = client.put("/api/settings", headers=admin,
                               json={"settings": WRITE_CUSTOMERS})
            assert saved.status_code == 200, saved.get_json()
        for kind in ("user_fields", "organization_fields"):
            fields = get(base_url, f"/{kind}")[kind]
            assert sorted((f["key"], f["type"]) for f in fields) == [
                ("customer_value", "decimal"), ("customer_value_tier", "text")]
        app.extensions["customer_value"].close()


def test_backfill_writes_each_customer_once_and_the_organizations_roll_up(dataset, tmp_path):
    settings = Settings.from_dict(WRITE_CUSTOMERS)
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.02) as base_url:
        for kind in ("user_fields", "organization_fields"):
            for key, kind_of in (("customer_value", "decimal"), ("customer_value_tier", "text")):
                send(base_url, "POST", f"/{kind}", {kind[:-1]: {
                    "key": key, "type": kind_of, "title": key}}).raise_for_status()
        before = {t["id"]: t["tags"] for t in get(base_url, "/incremental/tickets/cursor",
                                                   start_time=0)["tickets"]}
        database = f"sqlite:///{tmp_path / 'a.db'}"
        upgrade(database)
        engine = connect(database)
        store = HistoryStore(engine, account_id(engine, base_url, NOW))
        client = ZendeskClient(Transport(base_url=base_url, session=requests.Session(),
                                         auth=AUTH, mode="background"))
        report = backfill(client, store, settings, clock=lambda: datetime.now(UTC))
        users = {u["id"]: u for u in get(base_url, "/incremental/users/cursor",
                                         start_time=0)["users"]}
        organizations = get(base_url, "/incremental/organizations",
                            start_time=0)["organizations"]
        after = {t["id"]: t["tags"] for t in get(base_url, "/incremental/tickets/cursor",
                                                  start_time=0)["tickets"]}
        second = backfill(client, store, settings, clock=lambda: datetime.now(UTC))
        client.close()
        engine.dispose()
    assert after == before, "with ticket tags off, no ticket is touched"
    written = [u for u in users.values() if "customer_value_tier" in u["user_fields"]]
    assert len(written) == report.users_written == report.customers
    for user in written:
        tier = user["user_fields"]["customer_value_tier"]
        assert isinstance(user["user_fields"]["customer_value"], float)
        ours = {"cv_high", "cv_low"} & set(user["tags"])
        assert ours == ({f"cv_{tier}"} if tier in ("high", "low") else set())
    rolled = [o for o in organizations if "customer_value" in o["organization_fields"]]
    assert rolled and len(rolled) == report.organizations_written
    assert second.users_written == 0 and second.organizations_written == 0, \
        "a second run finds nothing to change"
