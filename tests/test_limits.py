"""Requests are bounded: headers 32 KiB in all, bodies about 1 MB anywhere, 64 KB on the
webhook. A body announced too large is refused from its Content-Length before it is read; a
streamed one is cut off at the limit. Checked through Flask's test client and through a real
HTTP server on 127.0.0.1 (and `serve`'s own in tests/test_scale_out.py)."""

from __future__ import annotations

import socket
import threading

import pytest
import requests
from werkzeug.serving import make_server

from plugin.web.signature import TEST_SECRET
from tests.tokens import ACME_TOKEN

MB = 1024 * 1024


@pytest.fixture
def app(make_app):
    return make_app({"ZENDESK_BASE_URL": "https://acme.zendesk.com",
                     "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": ACME_TOKEN,
                     "ZENDESK_APP_ID": "55", "WEBHOOK_SECRET": TEST_SECRET})


@pytest.fixture
def served(app):
    """The app behind Werkzeug's threaded HTTP server on 127.0.0.1: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "size"), [
    ("/webhooks/zendesk", 64 * 1024 + 1), ("/sidebar", MB + 1), ("/api/settings", MB + 1)])
def test_bodies_over_the_limit_are_refused(app, path, size):
    answer = app.test_client().post(path, data=b"x" * size,
                                    headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "request_entity_too_large"


def test_headers_over_the_limit_are_refused_before_any_view(app):
    client = app.test_client()
    big = {"X-Padding": "x" * (32 * 1024)}
    answer = client.get("/api/customers/1/value", headers=big)
    assert answer.status_code == 431
    assert answer.get_json()["error"]["code"] == "request_header_fields_too_large"
    assert client.get("/api/customers/1/value",
                      headers={"X-Padding": "x" * (30 * 1024)}).status_code == 401


def test_bodies_under_the_limit_reach_the_view(app):
    answer = app.test_client().post("/webhooks/zendesk", data=b"x" * (64 * 1024))
    assert answer.status_code == 401  # unsigned: the view read it and refused it


def test_a_huge_content_length_is_refused_before_the_body_is_sent(served):
    port = int(served.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Content-Length: 300000000\r\n\r\n{")
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


class CountingInput:
    """The server's input stream, counting the bytes the app takes from it."""

    def __init__(self, stream, counter):
        self.stream, self.counter = stream, counter

    def read(self, size=-1):
        data = self.stream.read(size)
        self.counter.append(len(data))
        return data

    def readinto(self, buffer):
        size = self.stream.readinto(buffer)
        self.counter.append(size or 0)
        return size

    def readline(self, size=-1):
        return self.read(size)


def test_a_streamed_body_is_cut_off_at_the_limit(app, served):
    taken: list[int] = []
    inner = app.wsgi_app

    def counting(environ, start_response):
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], taken)
        return inner(environ, start_response)

    app.wsgi_app = counting

    def chunks():
        for _ in range(4096):  # 4 MB in 1 KB chunks, without a Content-Length
            yield b"x" * 1024

    answer = requests.post(f"{served}/webhooks/zendesk", data=chunks(), timeout=30)
    assert answer.status_code == 413
    assert sum(taken) <= 64 * 1024 + 1024
