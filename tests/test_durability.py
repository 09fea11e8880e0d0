"""Killing a worker mid-run loses no job: the delivery is the durable copy, and a restarted
worker queues again whatever did not finish."""

import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import func, select

from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import generate
from plugin.storage.schema import webhook_deliveries
from tests.commands import SCRIPT
from tests.tagging_app import AUTH, NOW, build_app, call, open_tickets, tags_of

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 60, seed=8, now=NOW)
    return folder


def finished(app) -> int:
    engine = app.extensions["customer_value"].engine
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(webhook_deliveries).where(
            webhook_deliveries.c.done_at.is_not(None))).scalar_one()


def start_worker(base_url, tmp_path, app):
    queue = ({"REDIS_URL": app.config["REDIS_URL"]} if app.config.get("REDIS_URL") else {})
    env = {**os.environ, **queue, "DATABASE_URL": app.config["DATABASE_URL"],
           "ZENDESK_BASE_URL": base_url, "ZENDESK_EMAIL": AUTH[0].split("/")[0],
           "ZENDESK_API_TOKEN": AUTH[1], "CUSTOMER_VALUE_SECRET_KEY": app.config["SECRET_KEY"],
           "CUSTOMER_VALUE_QUEUE_PATH": app.config["QUEUE_PATH"],
           "CUSTOMER_VALUE_TAG_ALWAYS": "true", "CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS": "1",
           "CUSTOMER_VALUE_SYNC_INTERVAL_SECONDS": "0",  # only the webhook's jobs tag here
           "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance")}
    return subprocess.Popen([SCRIPT, "worker", "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_for(condition, limit=90.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_worker_loses_no_job(dataset, tmp_path, backend):
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0, latency_ms=150,
                         job_seconds=0.05) as base_url:
        app = build_app(base_url, tmp_path, backend)
        tickets = open_tickets(base_url)
        client = app.test_client()
        for ticket_id, requester_id in tickets:
            assert call(client, {"ticket_id": str(ticket_id),
                                 "requester_id": str(requester_id)}).status_code == 202
        worker = start_worker(base_url, tmp_path, app)
        assert wait_for(lambda: finished(app) >= 2), "the worker never finished a job"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        assert finished(app) < len(tickets), "the worker finished everything before the kill"
        time.sleep(1.5)
        worker = start_worker(base_url, tmp_path, app)
        try:
            assert wait_for(lambda: finished(app) == len(tickets)), finished(app)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(20)
        services = app.extensions["customer_value"]
        for ticket_id, requester_id in tickets:
            tier = services.value(services.zendesk, requester_id, ticket_id).result.value.tier
            ours = [t for t in tags_of(base_url, ticket_id) if t in ("cv_high", "cv_low")]
            assert ours == {"high": ["cv_high"], "low": ["cv_low"]}.get(tier, [])
        services.close()
