"""Health, readiness, metrics and structured logs, through Flask's test client."""

import json
import logging
import os
from datetime import UTC, datetime

import pytest
import responses
from hypothesis import example, given
from hypothesis import strategies as st

from integrations.http import Transport
from plugin import create_app
from plugin.service_layer.telemetry import SECRET_SHAPES, JsonFormatter, redact
from plugin.storage.schema import connect
from plugin.web.auth import issue_app_token
from plugin.web.observability import REQUEST_ID, new_request_id

SECRET = "s" * 40


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "DEMO_MODE": True, "SECRET_KEY": SECRET,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                      "QUEUE_PATH": str(tmp_path / "queue.db"),
                      "ZENDESK_BASE_URL": "https://acme.zendesk.com",
                      "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": "api-token-123456"})
    yield app
    app.extensions["customer_value"].close()


def bearer(account="demo"):
    token = issue_app_token(SECRET.encode(), account=account, user_id=1, role="agent",
                            now=datetime.now(UTC))
    return token, {"Authorization": f"Bearer {token}"}


def test_health_and_readiness_answer(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_readiness_names_a_database_whose_schema_is_behind(app, tmp_path):
    app.extensions["customer_value"].engine = connect(f"sqlite:///{tmp_path / 'empty.db'}")
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"].startswith("schema at None, code expects ")
    assert body["checks"]["queue"] == "ok"


def test_readiness_names_an_unreachable_queue(app):
    class Broken:
        def pending_count(self):
            raise ConnectionError("refused")

    app.extensions["queue"] = Broken()
    body = app.test_client().get("/readyz").get_json()
    assert body["checks"] == {"database": "ok", "queue": "unreachable: ConnectionError"}


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
                     if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_requests_and_report_the_queue(app):
    client = app.test_client()
    before = sample(client.get("/metrics").get_data(as_text=True),
                    "customer_value_http_requests_total", method="GET", endpoint="/healthz",
                    status="200")
    for _ in range(3):
        client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "customer_value_http_requests_total", method="GET",
                  endpoint="/healthz", status="200") == before + 3
    assert "customer_value_http_request_seconds_bucket" in text
    assert sample(text, "customer_value_queue_depth") == 0
    app.extensions["queue"].tag_ticket("https://acme.zendesk.com", 5, 7)
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "customer_value_queue_depth") == 1
    assert "customer_value_failed_jobs 0.0" in text


def test_metrics_are_closed_to_remote_clients_without_the_token(app):
    client = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403, \
        "a proxy on this host does not make its clients local"
    app.config["METRICS_TOKEN"] = "scrape-token-abcdef"
    assert client.get("/metrics", environ_base=remote,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics").status_code == 403, "with a token, loopback needs it too"
    assert client.get("/metrics", environ_base=remote, headers={
        "Authorization": "Bearer scrape-token-abcdef"}).status_code == 200


@responses.activate
def test_metrics_count_upstream_calls_and_waits(app):
    import requests

    responses.get("https://acme.zendesk.com/api/v2/users/1.json", status=429,
                  headers={"Retry-After": "2"})
    responses.get("https://acme.zendesk.com/api/v2/users/1.json", json={"user": {}})
    client = app.test_client()

    def read(name, **labels):
        return sample(client.get("/metrics").get_data(as_text=True), name, **labels)

    before = (read("customer_value_upstream_requests_total", service="Zendesk", method="GET",
                   status="429"),
              read("customer_value_upstream_wait_seconds_total", service="Zendesk"))
    transport = Transport("https://acme.zendesk.com", requests.Session(), mode="background",
                          sleep=lambda seconds: None)
    transport.get("/api/v2/users/1.json")
    assert read("customer_value_upstream_requests_total", service="Zendesk", method="GET",
                status="429") == before[0] + 1
    assert read("customer_value_upstream_wait_seconds_total",
                service="Zendesk") == before[1] + 2


def test_each_request_gets_an_id_and_one_json_log_line_without_secrets(app, caplog):
    token, headers = bearer()
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="customer_value.requests"):
        answer = client.get("/api/customers/5/glance?token=query-secret-xyz",
                            headers=headers | {"X-Request-Id": "proxy-id-12345"})
        fresh = client.get("/healthz", headers={"X-Request-Id": "bad id <script>"})
    assert answer.headers["X-Request-Id"] == "proxy-id-12345"
    assert len(fresh.headers["X-Request-Id"]) == 32, "an unusable id is replaced"
    [record] = [r for r in caplog.records if getattr(r, "path", "").endswith("/glance")]
    with app.test_request_context(headers={"X-Request-Id": "proxy-id-12345"}):
        app.preprocess_request()
        from flask import g
        g.account = "demo"
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "proxy-id-12345"
    assert line["account"] == "demo"
    assert line["status"] == answer.status_code and line["path"] == "/api/customers/5/glance"
    text = json.dumps(line)
    assert token not in text and "query-secret-xyz" not in text


@pytest.mark.parametrize(("message", "secret"), [
    ("sent Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl seen", "c2lnbmF0dXJl"),
    ("POST https://acme.bitrix24.com/rest/1/k3yS3cr3tValue/crm.deal.list", "k3yS3cr3tValue"),
    ("config api_token=zd-token-value&x=1", "zd-token-value"),
    ('{"secret": "whsec-abcdef"}', "whsec-abcdef"),
])
def test_log_messages_are_redacted(message, secret):
    assert secret not in redact(message)
    record = logging.LogRecord("plugin", logging.INFO, __file__, 1, message, None, None)
    assert secret not in JsonFormatter().format(record)


def test_behind_a_trusted_proxy_the_app_sees_the_clients_scheme_and_host(tmp_path):
    from flask import url_for

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "TRUSTED_PROXIES": 1,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                      "QUEUE_PATH": str(tmp_path / "queue.db")})
    seen = {}

    @app.get("/_where")
    def where():
        seen["url"] = url_for("hooks.zendesk_webhook", _external=True)
        return ""

    app.test_client().get("/_where", headers={"X-Forwarded-Proto": "https",
                                              "X-Forwarded-Host": "value.example.com",
                                              "X-Forwarded-For": "203.0.113.9"})
    assert seen["url"] == "https://value.example.com/webhooks/zendesk"
    app.extensions["customer_value"].close()


def test_made_up_methods_and_paths_do_not_multiply_the_metrics(app):
    client = app.test_client()
    for n in range(3):
        client.open(f"/no/such/page/{n}", method=f"BREW{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "BREW" not in text and "/no/such" not in text
    assert sample(text, "customer_value_http_requests_total", method="other",
                  endpoint="unmatched", status="405") + sample(
        text, "customer_value_http_requests_total", method="other", endpoint="unmatched",
        status="404") >= 3


def _every_pattern(message: str) -> str:
    for pattern, replacement in SECRET_SHAPES:
        message = pattern.sub(replacement, message)
    return message


@given(st.lists(st.sampled_from([
    "GET /api/customers/7/value 200", "Bearer ", "BASIC ", "eyJ", "eyj", "abcdefgh12345678",
    ".", "/rest/1/", "K3yValue9", "TOKEN=", "Secret: ", "pass", "word", "api_", "key",
    "\u212a", "\u017f", " ", "x"]), max_size=12).map("".join) | st.text(max_size=40))
@example("\u017fecret=abc")  # the long s matches s when case is ignored
@example("api_\u212aey: abc")  # and the Kelvin sign matches k
def test_redacting_skips_no_secret(message):
    """The shortcut for messages with no hint of a secret masks exactly what the patterns do."""
    assert redact(message) == _every_pattern(message)


def test_request_ids_never_repeat_and_a_forked_worker_draws_its_own():
    """`serve` forks its workers: each must number its requests under a prefix of its own."""
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(REQUEST_ID.match(i) and len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the forked worker
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    childs = os.read(read, 64).decode()
    os.close(read)
    assert len(childs) == 32 and childs[:16] != ids[0][:16]
    assert childs not in ids


def test_log_lines_from_many_threads_reach_a_pipe_whole_and_in_full():
    """The line handler takes no lock: 8 threads writing 2,000 request lines each into one pipe
    still give 16,000 whole JSON lines."""
    import threading

    from plugin.service_layer.telemetry import LineHandler

    read_end, write_end = os.pipe()
    writer = os.fdopen(write_end, "w")
    handler = LineHandler(writer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("customer_value.test_lines")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    received = bytearray()
    reader = threading.Thread(target=read_all, args=(read_end, received))
    reader.start()

    def write(n: int) -> None:
        for i in range(2000):
            logger.info("GET /api/customers/%s/value 200", i, extra={
                "method": "GET", "path": f"/api/customers/{i}/value", "status": 200,
                "ms": 0.5, "task": f"thread-{n}-" + "x" * 150})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    reader.join()
    lines = received.decode().splitlines()
    assert len(lines) == 16_000
    parsed = [json.loads(line) for line in lines]
    assert sorted(p["task"][:9] for p in parsed).count("thread-3-") == 2000


def read_all(descriptor: int, into: bytearray) -> None:
    while chunk := os.read(descriptor, 65536):
        into += chunk
    os.close(descriptor)


def test_the_line_handler_writes_to_a_stream_without_a_descriptor():
    import io

    from plugin.service_layer.telemetry import LineHandler

    stream = io.StringIO()
    handler = LineHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.handle(logging.makeLogRecord({"msg": "hello %s", "args": ("there",),
                                          "name": "customer_value", "levelname": "INFO"}))
    assert json.loads(stream.getvalue())["message"] == "hello there"
