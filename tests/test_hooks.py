"""The webhook receiver and the tagging worker, end to end against the sandbox: signed calls
queued and answered fast, bad ones refused and touching nothing, duplicates accepted once, and
tickets ending with the right tag exactly once even when Zendesk fails a share of calls."""

import json
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin import create_app
from plugin.demo.generator import generate
from plugin.service_layer.jobs import consumer_threads
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore, account_id, connect
from plugin.storage.migrations import upgrade
from plugin.web.signature import TEST_SECRET, sign

NOW = datetime(2025, 6, 1, tzinfo=UTC)
AUTH = ("agent@example.com/token", "sandbox-token")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 60, seed=8, now=NOW)
    return folder


def open_tickets(base_url) -> list[tuple[int, int]]:
    body = requests.get(f"{base_url}/api/v2/tickets", params={"per_page": 100}, auth=AUTH,
                        timeout=10).json()
    return [(t["id"], t["requester_id"]) for t in body["tickets"]
            if t["status"] not in ("closed",)][:12]


def build_app(base_url, tmp_path, backend=None):
    """The app over a history store synced from the sandbox, with the queue of `backend` (by
    default SQLite files in `tmp_path`)."""
    backend = backend or {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                          "QUEUE_PATH": str(tmp_path / "queue.db")}
    database = backend["DATABASE_URL"]
    upgrade(database)
    engine = connect(database)
    store = HistoryStore(engine, account_id(engine, base_url, NOW))
    client = ZendeskClient(Transport(base_url=base_url, session=requests.Session(), auth=AUTH,
                                     mode="background"))
    sync(client, store, clock=lambda: datetime.now(UTC))
    client.close()
    engine.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, **backend,
                      "ZENDESK_BASE_URL": base_url, "ZENDESK_EMAIL": AUTH[0].split("/")[0],
                      "ZENDESK_API_TOKEN": AUTH[1], "WEBHOOK_SECRET": TEST_SECRET,
                      "TAG_ALWAYS": True, "ZENDESK_READ_TIMEOUT": 1.0})
    return app


def call(client, body: dict, *, secret=TEST_SECRET, invocation=None):
    raw = json.dumps(body).encode()
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    headers = {"X-Zendesk-Webhook-Signature": sign(secret, stamp, raw),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp,
               "X-Zendesk-Webhook-Invocation-Id": invocation or uuid.uuid4().hex,
               "Content-Type": "application/json"}
    return client.post("/webhooks/zendesk", data=raw, headers=headers)


@pytest.fixture
def receiving(dataset, tmp_path, backend):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0,
                         job_seconds=0.05) as base_url:
        app = build_app(base_url, tmp_path, backend)
        yield app, base_url
        app.extensions["customer_value"].close()


def test_bad_calls_are_refused_and_queue_nothing(receiving):
    app, base_url = receiving
    client = app.test_client()
    queue = app.extensions["queue"]
    assert call(client, {"ticket_id": "1", "requester_id": "2"},
                secret="wrong").status_code == 401
    assert client.post("/webhooks/zendesk", data=b"{}").status_code == 401
    assert call(client, {"ticket_id": "{{ticket.id}}"}).status_code == 400
    assert len(queue) == 0


def test_duplicates_are_accepted_once(receiving):
    app, _ = receiving
    client = app.test_client()
    first = call(client, {"ticket_id": "1", "requester_id": "2"}, invocation="inv-1")
    again = call(client, {"ticket_id": "1", "requester_id": "2"}, invocation="inv-1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.get_json()["status"] == "duplicate"
    assert len(app.extensions["queue"]) == 1


def run_consumer(app, seconds_without_work=2.0, limit=120.0):
    huey = app.extensions["queue"]
    with consumer_threads(huey, workers=2):
        deadline = time.monotonic() + limit
        idle_since = None
        while time.monotonic() < deadline:
            busy = len(huey) or huey.scheduled_count()
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > seconds_without_work:
                break
            time.sleep(0.1)


def tags_of(base_url, ticket_id):
    return requests.get(f"{base_url}/api/v2/tickets/{ticket_id}", auth=AUTH,
                        timeout=10).json()["ticket"]["tags"]


def jobs_counted(outcome: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("customer_value_jobs_total", {
        "task": "tag_ticket", "outcome": outcome}) or 0.0


def test_a_burst_ends_with_every_ticket_tagged_once_despite_failures(receiving):
    app, base_url = receiving
    client = app.test_client()
    tickets = open_tickets(base_url)
    started = time.perf_counter()
    for ticket_id, requester_id in tickets * 2:
        assert call(client, {"ticket_id": str(ticket_id),
                             "requester_id": str(requester_id)}).status_code == 202
    accept_seconds = (time.perf_counter() - started) / (len(tickets) * 2)
    assert accept_seconds < 0.5
    # A fifth of Zendesk's answers fail: 429s, 5xx, answers slower than the client's 1 s
    # timeout, and dropped connections.
    requests.post(f"{base_url}/_sandbox/config", json={
        "fault_rate": 0.2, "seed": 3, "slow_seconds": 1.5,
        "fault_kinds": ["429", "500", "502", "503", "slow", "drop"]}, timeout=10)
    done = jobs_counted("done")
    run_consumer(app)
    assert jobs_counted("done") - done == len(tickets) * 2, "the metrics count every job"
    requests.post(f"{base_url}/_sandbox/config", json={"fault_rate": 0}, timeout=10)
    services = app.extensions["customer_value"]
    assert services.failed_jobs(base_url) == []
    for ticket_id, requester_id in tickets:
        value = services.value(services.zendesk, requester_id, ticket_id).body
        tags = tags_of(base_url, ticket_id)
        ours = [t for t in tags if t in ("cv_high", "cv_low")]
        expected = {"high": ["cv_high"], "low": ["cv_low"]}.get(value["tier"], [])
        assert ours == expected, (ticket_id, value["value"], tags)
