"""The scale-out set-up as it is deployed: two `customer-value serve` processes (granian, two
workers each) and two `customer-value worker` processes share PostgreSQL and Redis, take a burst
of webhook calls (every call delivered to both app processes at once, as a retrying Zendesk
might), and every ticket ends tagged exactly once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from integrations.sandbox.server import running_sandbox
from plugin.cli.server import SWITCH_INTERVAL, served_app
from plugin.demo.generator import generate
from plugin.storage.schema import webhook_deliveries
from plugin.web.signature import TEST_SECRET, sign
from tests.commands import SCRIPT
from tests.servers import empty_postgresql, empty_redis
from tests.tagging_app import AUTH, NOW, build_app, tags_of

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

SECRET_KEY = "m" * 40
TICKETS = 30
UPDATE = "PUT /api/v2/tickets/update_many"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 120, seed=21, now=NOW)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(base_url: str, database: str, redis: str, instance) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis,
            "ZENDESK_BASE_URL": base_url, "ZENDESK_EMAIL": AUTH[0].split("/")[0],
            "ZENDESK_API_TOKEN": AUTH[1], "CUSTOMER_VALUE_SECRET_KEY": SECRET_KEY,
            "CUSTOMER_VALUE_WEBHOOK_SECRET": TEST_SECRET, "CUSTOMER_VALUE_TAG_ALWAYS": "true",
            "CUSTOMER_VALUE_INSTANCE": str(instance),
            # Only the webhook's jobs tag here (the periodic sync's backfill would add updates).
            "CUSTOMER_VALUE_SYNC_INTERVAL_SECONDS": "0"}


def start(arguments: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([SCRIPT, *arguments], env=env, stdout=log, stderr=log,
                            start_new_session=True)


def wait_ready(url: str, process: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the app process exited with {process.returncode}"
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never became ready")


def open_tickets(base_url: str) -> list[tuple[int, int]]:
    body = requests.get(f"{base_url}/api/v2/tickets", params={"per_page": 100}, auth=AUTH,
                        timeout=10).json()
    found = [(t["id"], t["requester_id"]) for t in body["tickets"] if t["status"] != "closed"]
    assert len(found) >= TICKETS
    return found[:TICKETS]


def deliver(url: str, ticket_id: int, requester_id: int, invocation: str) -> int:
    raw = json.dumps({"ticket_id": str(ticket_id), "requester_id": str(requester_id)}).encode()
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return requests.post(f"{url}/webhooks/zendesk", data=raw, timeout=30, headers={
        "X-Zendesk-Webhook-Signature": sign(TEST_SECRET, stamp, raw),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Invocation-Id": invocation,
        "Content-Type": "application/json"}).status_code


def finished(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(webhook_deliveries).where(
            webhook_deliveries.c.done_at.is_not(None))).scalar_one()


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def test_two_apps_and_two_workers_tag_every_ticket_exactly_once(dataset, tmp_path):
    database, redis = empty_postgresql(), empty_redis()
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0, latency_ms=20,
                         job_seconds=0.05) as base_url:
        checker = build_app(base_url, tmp_path, {"DATABASE_URL": database, "REDIS_URL": redis,
                                                 "QUEUE_PATH": str(tmp_path / "unused.db"),
                                                 "SECRET_KEY": SECRET_KEY})
        tickets = open_tickets(base_url)
        processes: list[subprocess.Popen] = []
        log = (tmp_path / "processes.log").open("w")
        try:
            urls = []
            for n in range(2):
                port = free_port()
                env = environment(base_url, database, redis, tmp_path / f"app-{n}")
                processes.append(start(["serve", "--port", str(port), "--workers", "2",
                                        "--threads", "4", "--consumers", "0"], env, log))
                urls.append(f"http://127.0.0.1:{port}")
            for url, process in zip(urls, processes, strict=True):
                wait_ready(url, process)
            updates_before = requests.get(f"{base_url}/_sandbox/stats", timeout=10).json()[
                "by_endpoint"].get(UPDATE, 0)

            calls = [(url, ticket_id, requester_id, invocation)
                     for ticket_id, requester_id in tickets
                     for invocation in [uuid.uuid4().hex] for url in urls]
            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(lambda call: deliver(*call), calls))
            assert sorted(statuses) == [200] * TICKETS + [202] * TICKETS, \
                "each delivery is accepted by one app process and a duplicate for the other"

            for n in range(2):
                env = environment(base_url, database, redis, tmp_path / f"worker-{n}")
                processes.append(start(["worker", "--workers", "2"], env, log))
            engine = checker.extensions["customer_value"].engine
            deadline = time.monotonic() + 120
            while finished(engine) < TICKETS and time.monotonic() < deadline:
                time.sleep(0.3)
            assert finished(engine) == TICKETS
            time.sleep(1.0)  # anything tagging twice would have done so by now
            updates = requests.get(f"{base_url}/_sandbox/stats", timeout=10).json()[
                "by_endpoint"].get(UPDATE, 0) - updates_before
        finally:
            stop(processes)
            log.close()

        services = checker.extensions["customer_value"]
        assert services.failed_jobs(base_url) == []
        tagged = 0
        for ticket_id, requester_id in tickets:
            tier = services.value(services.zendesk, requester_id, ticket_id).result.value.tier
            expected = {"high": ["cv_high"], "low": ["cv_low"]}.get(tier, [])
            tagged += bool(expected)
            assert [t for t in tags_of(base_url, ticket_id)
                    if t in ("cv_high", "cv_low")] == expected, ticket_id
        assert tagged > 0, "the burst must include tickets that need a tag"
        assert updates == tagged, "one tag update per ticket that needed one, no more"
        services.close()


def test_serve_adds_up_its_workers_metrics_and_stops_its_consumer(tmp_path):
    port = free_port()
    env = {**os.environ, "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "CUSTOMER_VALUE_METRICS_TOKEN": "scrape-token-0123456789"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("REDIS_URL", None)
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log:
        server = start(["serve", "--port", str(port), "--workers", "2", "--threads", "2"],
                       env, log)
        try:
            wait_ready(url, server)
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: requests.get(f"{url}/healthz", timeout=10),
                                        range(200)))
            assert {a.status_code for a in answers} == {200}
            assert requests.get(f"{url}/api/customers/1/value", timeout=10).status_code == 401
            assert len({a.headers["X-Request-Id"] for a in answers}) == 200
            scrape = requests.get(f"{url}/metrics", timeout=10, headers={
                "Authorization": "Bearer scrape-token-0123456789"})
            assert requests.get(f"{url}/metrics", timeout=10).status_code == 403
            counted = [line for line in scrape.text.splitlines() if line.startswith(
                'customer_value_http_requests_total{endpoint="/healthz"')]
            assert counted and float(counted[0].split()[-1]) == 200.0, counted
            assert "customer_value_queue_depth 0.0" in scrape.text
            found = subprocess.run(["pgrep", "-f", "-P", str(server.pid), "plugin.cli worker"],
                                   capture_output=True, text=True).stdout.split()
            assert len(found) == 1, "the embedded set-up runs one queue consumer"
            consumer = int(found[0])
        finally:
            os.killpg(server.pid, 15)
            server.wait(60)
    assert server.returncode == 0
    with pytest.raises(ProcessLookupError):
        os.kill(consumer, 0)  # stopped and reaped with the server
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()
             if line.startswith("{")]
    assert any(line.get("path") == "/api/customers/1/value" and line.get("status") == 401
               and line.get("request_id") for line in lines)
    assert not any(line.get("path") in ("/healthz", "/readyz", "/metrics") for line in lines)
    assert "scrape-token-0123456789" not in (tmp_path / "serve.log").read_text()


def test_serve_refuses_oversized_requests_replaces_a_killed_worker_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {**os.environ, "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log:
        server = start(["serve", "--port", str(port), "--workers", "1", "--threads", "2",
                        "--consumers", "0"], env, log)
        try:
            wait_ready(url, server)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(b"POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Content-Type: application/json\r\n"
                                   b"Content-Length: 300000000\r\n\r\n{")
                assert connection.recv(4096).startswith(b"HTTP/1.1 413")
            padded = requests.get(f"{url}/api/customers/1/value", timeout=10,
                                  headers={"X-Padding": "x" * (40 * 1024)})
            assert padded.status_code == 431
            worker = int(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                        text=True, check=True).stdout.split()[0])
            os.kill(worker, 9)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                children = subprocess.run(["pgrep", "-P", str(server.pid)],
                                          capture_output=True, text=True).stdout.split()
                if children and str(worker) not in children:
                    break
                time.sleep(0.2)
            wait_ready(url, server)
            assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        finally:
            server.send_signal(15)  # the server alone: it stops its workers itself
            server.wait(60)
    assert server.returncode == 0
    assert subprocess.run(["pgrep", "-s", str(server.pid)], capture_output=True).stdout == b""


SLOW_SERVER = """
import sys, time
from plugin.cli.server import AppServer, ServerOptions

def slow(environ, start_response):
    time.sleep(float(environ["QUERY_STRING"] or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished"]

AppServer(ServerOptions(port=int(sys.argv[1]), workers=1, threads=2)).server().serve(
    target_loader=lambda: slow, wrap_loader=False)
"""


def test_serve_finishes_the_requests_under_way_when_stopped(tmp_path):
    """`serve`'s server as configured, serving a request that takes 2 s: SIGTERM during it
    closes the door to new connections, and the request still gets its whole answer."""
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-c", SLOW_SERVER, str(port)], stdout=log,
                                  stderr=log, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert requests.get(url, timeout=5).text == "finished"
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline and server.poll() is None
                    time.sleep(0.1)
            with ThreadPoolExecutor(1) as pool:
                under_way = pool.submit(requests.get, f"{url}?2", timeout=30)
                time.sleep(0.5)
                server.send_signal(15)
                time.sleep(0.3)
                with pytest.raises(requests.ConnectionError):
                    requests.get(url, timeout=5)
                answer = under_way.result()
            assert (answer.status_code, answer.text) == (200, "finished")
            server.wait(30)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, 9)
                server.wait()
    assert server.returncode == 0


def test_each_served_process_hands_the_interpreter_lock_on_sooner(monkeypatch, tmp_path):
    """`serve`'s workers load the app with the shorter switch interval (docs/benchmarks.md:
    a thread back from a socket call waits at most that long behind another request)."""
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_VALUE_DEMO_MODE", "true")
    before = sys.getswitchinterval()
    assert before != SWITCH_INTERVAL
    try:
        app = served_app()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        app.extensions["customer_value"].close()
    finally:
        sys.setswitchinterval(before)
