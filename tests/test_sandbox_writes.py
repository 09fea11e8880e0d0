"""The sandbox's writes, over real HTTP: every change is dated now and shows up in the next
export; refusals come in Zendesk's shapes; bulk jobs, webhooks and triggers behave as Zendesk's.

This module's sandbox is its own, since these tests change its data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.sandbox import running_sandbox
from tests import sandbox_fixtures
from tests.sandbox_fixtures import NOW, UNLIMITED, Api, archived_ids, epoch, read, walk_export

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

dataset = sandbox_fixtures.dataset

Record = dict[str, Any]
JOB_SECONDS = 0.6
POLL_SECONDS = 0.02
EXPORT = "/incremental/tickets/cursor"


@pytest.fixture(scope="module")
def writable(dataset: Path) -> Iterator[str]:
    with running_sandbox(dataset, now=NOW, job_seconds=JOB_SECONDS, **UNLIMITED) as base:
        yield base


@pytest.fixture
def api(writable: str) -> Iterator[Api]:
    client = Api(writable)
    yield client
    client.close()


@pytest.fixture(scope="module")
def tickets(dataset: Path) -> dict[str, list[Record]]:
    """Tickets of the account by state: "open" (writable) and "closed" (refusing writes)."""
    records = read(dataset, "tickets")
    archived = archived_ids(records)
    return {
        "open": [t for t in records if t["status"] in ("new", "open", "pending", "hold")],
        "closed": [t for t in records if t["status"] == "closed" and t["id"] not in archived],
        "archived": [t for t in records if t["id"] in archived],
    }


def export_end(api: Api) -> str:
    """The cursor after everything changed so far."""
    _, pages = walk_export(api, EXPORT, "tickets", start_time=0)
    return pages[-1]["after_cursor"]


def changes_since(api: Api, cursor: str) -> list[Record]:
    records, _ = walk_export(api, EXPORT, "tickets", cursor=cursor)
    return records


def test_an_update_is_dated_now_and_exported_next(api: Api, tickets: dict) -> None:
    ticket = tickets["open"][0]
    cursor = export_end(api)
    response = api.send("PUT", f"/tickets/{ticket['id']}", {"ticket": {
        "additional_tags": ["cv_high"], "remove_tags": [ticket["tags"][0]], "status": "pending",
        "priority": "high"}})
    assert response.status_code == 200, response.text
    updated = response.json()["ticket"]
    assert updated["tags"] == [*ticket["tags"][1:], "cv_high"]
    assert (updated["status"], updated["priority"]) == ("pending", "high")
    assert epoch(updated["updated_at"]) > NOW.timestamp()
    assert updated["generated_timestamp"] == epoch(updated["updated_at"])
    assert changes_since(api, cursor) == [updated]
    assert api.get(f"/tickets/{ticket['id']}").json()["ticket"] == updated


def test_tag_endpoints_set_add_and_remove(api: Api, tickets: dict) -> None:
    ticket_id = tickets["open"][1]["id"]
    cursor = export_end(api)
    path = f"/tickets/{ticket_id}/tags"
    assert api.send("POST", path, {"tags": ["a", "b c"]}).json() == {"tags": ["a", "b", "c"]}
    added = api.send("PUT", path, {"tags": ["d", "a"]})
    assert added.status_code == 200 and added.json() == {"tags": ["a", "b", "c", "d"]}
    assert api.send("DELETE", path, {"tags": ["b"]}).status_code == 204
    assert api.get(path).json() == {"tags": ["a", "c", "d"]}
    assert [t["tags"] for t in changes_since(api, cursor)] == [["a", "c", "d"]]


def test_closed_tickets_refuse_updates(api: Api, tickets: dict) -> None:
    for ticket in (tickets["closed"][0], tickets["archived"][0]):
        for method, path, body in (
                ("PUT", f"/tickets/{ticket['id']}", {"ticket": {"additional_tags": ["x"]}}),
                ("PUT", f"/tickets/{ticket['id']}/tags", {"tags": ["x"]})):
            response = api.send(method, path, body)
            assert response.status_code == 422
            assert response.json()["error"] == "RecordInvalid"
    assert api.send("PUT", "/tickets/999999", {"ticket": {"status": "open"}}).status_code == 404
    assert api.send("PUT", f"/tickets/{tickets['open'][2]['id']}",
                    {"ticket": {"status": "done"}}).status_code == 422


def test_safe_updates_conflict_on_a_stale_stamp(api: Api, tickets: dict) -> None:
    ticket = api.get(f"/tickets/{tickets['open'][3]['id']}").json()["ticket"]
    path = f"/tickets/{ticket['id']}"
    fresh = api.send("PUT", path, {"ticket": {"safe_update": True, "additional_tags": ["one"],
                                              "updated_stamp": ticket["updated_at"]}})
    assert fresh.status_code == 200
    for method, target, body in (
            ("PUT", path, {"ticket": {"safe_update": True, "additional_tags": ["two"],
                                      "updated_stamp": ticket["updated_at"]}}),
            ("PUT", f"{path}/tags", {"tags": ["two"], "safe_update": "true",
                                     "updated_stamp": ticket["updated_at"]})):
        stale = api.send(method, target, body)
        assert stale.status_code == 409
        assert stale.json()["error"] == "UpdateConflict" and stale.json()["description"]
    assert "two" not in api.get(path).json()["ticket"]["tags"]


def test_update_many_runs_as_a_job(api: Api, tickets: dict) -> None:
    good = [t["id"] for t in tickets["open"][4:7]]
    closed, missing = tickets["closed"][1]["id"], 999_999
    cursor = export_end(api)
    ids = ",".join(map(str, [*good, closed, missing]))
    response = api.send("PUT", "/tickets/update_many", {"ticket": {"additional_tags": ["bulk"]}},
                        ids=ids)
    assert response.status_code == 200
    job = response.json()["job_status"]
    assert (job["status"], job["total"], job["results"]) == ("queued", 5, None)
    seen = [job["status"]]
    deadline = time.monotonic() + 10 * JOB_SECONDS
    while seen[-1] != "completed" and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        job = api.get(job["url"]).json()["job_status"]
        if job["status"] != seen[-1]:
            seen.append(job["status"])
    assert seen == ["queued", "working", "completed"]
    assert job["progress"] == 5 and job["message"].startswith("Completed at")
    results = {r["id"]: r for r in job["results"]}
    assert [results[i] for i in good] == [
        {"id": i, "action": "update", "success": True, "status": "Updated"} for i in good]
    assert not results[closed]["success"] and not results[missing]["success"]
    assert {t["id"] for t in changes_since(api, cursor)} == set(good)
    assert all("bulk" in api.get(f"/tickets/{i}").json()["ticket"]["tags"] for i in good)


def test_update_many_takes_at_most_a_hundred(api: Api) -> None:
    too_many = ",".join(str(i) for i in range(1, 102))
    response = api.send("PUT", "/tickets/update_many", {"ticket": {"additional_tags": ["x"]}},
                        ids=too_many)
    assert response.status_code == 400 and response.json()["error"]
    assert api.get("/job_statuses/nope").status_code == 404


def test_created_ticket_joins_exports_lists_and_metrics(api: Api, tickets: dict) -> None:
    requester = tickets["open"][0]["requester_id"]
    cursor = export_end(api)
    response = api.send("POST", "/tickets", {"ticket": {
        "subject": "Printer on fire", "comment": {"body": "Help!"}, "requester_id": requester,
        "tags": ["new_one"], "priority": "urgent"}})
    assert response.status_code == 201, response.text
    ticket = response.json()["ticket"]
    assert response.headers["Location"].endswith(f"/tickets/{ticket['id']}.json")
    assert (ticket["status"], ticket["description"], ticket["via"]["channel"]) == (
        "new", "Help!", "api")
    page = api.get(EXPORT, cursor=cursor, include="metric_sets").json()
    assert page["tickets"] == [ticket]
    assert [m["ticket_id"] for m in page["metric_sets"]] == [ticket["id"]]
    assert api.get(f"/tickets/{ticket['id']}/metrics").status_code == 200
    requested = api.get(f"/users/{requester}/tickets/requested", **{"page[size]": 100}).json()
    assert ticket["id"] in {t["id"] for t in requested["tickets"]}
    blank = api.send("POST", "/tickets", {"ticket": {"subject": "No description"}})
    assert blank.status_code == 422 and blank.json()["error"] == "RecordInvalid"


def test_webhooks_are_created_listed_changed_and_deleted(api: Api) -> None:
    body = {"webhook": {"name": "Customer value tagger", "endpoint": "https://cv.example/hook",
                        "http_method": "POST", "request_format": "json", "status": "active",
                        "subscriptions": ["conditional_ticket_events"],
                        "authentication": {"type": "bearer_token", "add_position": "header",
                                           "data": {"token": "s3cret"}}}}
    created = api.send("POST", "/webhooks", body)
    assert created.status_code == 201
    webhook = created.json()["webhook"]
    assert isinstance(webhook["id"], str) and webhook["name"] == "Customer value tagger"
    assert "data" not in webhook["authentication"] and "signing_secret" not in webhook
    path = f"/webhooks/{webhook['id']}"
    listed = api.get("/webhooks", **{"filter[name_contains]": "value tag"}).json()
    assert [w["id"] for w in listed["webhooks"]] == [webhook["id"]]
    assert api.get("/webhooks", **{"filter[name_contains]": "nothing"}).json()["webhooks"] == []
    assert api.send("PATCH", path, {"webhook": {"status": "inactive"}}).status_code == 204
    assert api.get(path).json()["webhook"]["status"] == "inactive"
    secret = api.get(f"{path}/signing_secret").json()["signing_secret"]
    assert secret["secret"] and secret["algorithm"]
    reset = api.send("POST", f"{path}/signing_secret")
    assert reset.status_code == 201 and reset.json()["signing_secret"]["secret"] != secret["secret"]
    assert api.send("PUT", path, {"webhook": {**body["webhook"], "name": "Renamed"}}
                    ).status_code == 204
    assert api.get(path).json()["webhook"]["name"] == "Renamed"
    assert api.send("DELETE", path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.send("POST", "/webhooks", {"webhook": {"name": "x"}}).status_code == 400


def test_triggers_are_stored_for_later_reading(api: Api) -> None:
    trigger = {"title": "Tag by customer value",
               "conditions": {"all": [{"field": "update_type", "operator": "is",
                                       "value": "Create"}], "any": []},
               "actions": [{"field": "notification_webhook", "value": ["01HX", "{}"]}]}
    created = api.send("POST", "/triggers", {"trigger": trigger})
    assert created.status_code == 201
    stored = created.json()["trigger"]
    assert {k: stored[k] for k in trigger} == trigger and stored["active"] is True
    path = f"/triggers/{stored['id']}"
    assert api.get(path).json()["trigger"] == stored
    assert stored["id"] in {t["id"] for t in api.get("/triggers").json()["triggers"]}
    changed = api.send("PUT", path, {"trigger": {"active": False}}).json()["trigger"]
    assert changed["active"] is False and changed["title"] == trigger["title"]
    assert api.send("DELETE", path).status_code == 204
    assert api.get(path).status_code == 404
    refused = api.send("POST", "/triggers", {"trigger": {"title": "No conditions"}})
    assert refused.status_code == 422 and refused.json()["error"] == "RecordInvalid"
