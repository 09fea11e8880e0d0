"""The webhook receiver and the tagging worker, end to end against the sandbox: signed calls
queued and answered fast, bad ones refused and touching nothing, duplicates accepted once, and
tickets ending with the right tag exactly once even when Zendesk fails a share of calls."""

import time

import pytest
import requests

from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import generate
from plugin.service_layer.jobs import consumer_threads
from tests.tagging_app import NOW, build_app, call, open_tickets, tags_of

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 60, seed=8, now=NOW)
    return folder








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




def jobs_counted(outcome: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("customer_value_jobs_total", {
        "task": "tag_ticket", "outcome": outcome}) or 0.0


def test_a_burst_ends_with_every_ticket_tagged_once_despite_failures(receiving):
    app, base_url = receiving
    client = app.test_client()
    tickets = open_tickets(base_url)
    started = time.perf_counter()
    for ticket_id, requester_id in tickets:
        assert call(client, {"ticket_id": str(ticket_id),
                             "requester_id": str(requester_id)}).status_code == 202
    # Each ticket again under a new invocation id: queued, or (signed in the same second, so
    # the very same signed call) answered as a duplicate.
    queued = len(tickets)
    for ticket_id, requester_id in tickets:
        status = call(client, {"ticket_id": str(ticket_id),
                               "requester_id": str(requester_id)}).status_code
        assert status in (200, 202)
        queued += status == 202
    accept_seconds = (time.perf_counter() - started) / (len(tickets) * 2)
    assert accept_seconds < 0.5
    # A fifth of Zendesk's answers fail: 429s, 5xx, answers slower than the client's 1 s
    # timeout, and dropped connections.
    requests.post(f"{base_url}/_sandbox/config", json={
        "fault_rate": 0.2, "seed": 3, "slow_seconds": 1.5,
        "fault_kinds": ["429", "500", "502", "503", "slow", "drop"]}, timeout=10)
    done = jobs_counted("done")
    run_consumer(app)
    assert jobs_counted("done") - done == queued, "the metrics count every job"
    requests.post(f"{base_url}/_sandbox/config", json={"fault_rate": 0}, timeout=10)
    services = app.extensions["customer_value"]
    assert services.failed_jobs(base_url) == []
    for ticket_id, requester_id in tickets:
        value = services.value(services.zendesk, requester_id, ticket_id).result.value
        tags = tags_of(base_url, ticket_id)
        ours = [t for t in tags if t in ("cv_high", "cv_low")]
        expected = {"high": ["cv_high"], "low": ["cv_low"]}.get(value.tier, [])
        assert ours == expected, (ticket_id, value.value, tags)
