"""What the sandbox does to traffic, over real HTTP: authentication, rate limits, injected
faults, latency, and the request stats. Knobs are switched through `POST /_sandbox/config`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.sandbox import running_sandbox
from tests import sandbox_fixtures
from tests.sandbox_fixtures import AUTH, NOW, UNLIMITED, Api

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

dataset = sandbox_fixtures.dataset

BASELINE = {"latency_ms": 0, "fault_rate": 0, "slow_seconds": 30, "seed": 5,
            "fault_kinds": ["500", "502", "503", "slow", "drop"], **UNLIMITED}
FAULT_RATE = 0.3
FAULT_REQUESTS = 300
TOKEN, EMAIL = "t0ken", "admin@example.com"


@pytest.fixture(scope="module")
def traffic_sandbox(dataset: Path) -> Iterator[str]:
    with running_sandbox(dataset, now=NOW) as base:
        yield base


@pytest.fixture
def api(traffic_sandbox: str) -> Iterator[Api]:
    """A client on a sandbox reset to the baseline knobs, with zeroed stats and limits."""
    client = Api(traffic_sandbox)
    client.control("POST", "config", BASELINE)
    client.control("POST", "reset")
    yield client
    client.close()


def outcome(api: Api, path: str = "/users/me") -> str:
    """"200", "429", "503"... or "dropped" when the connection closed without an answer."""
    try:
        return str(api.get(path).status_code)
    except requests.ConnectionError:
        return "dropped"


def test_requests_without_credentials_get_401(api: Api) -> None:
    anonymous = Api(api.base, auth=None)
    try:
        response = anonymous.get("/tickets/1")
        assert response.status_code == 401
        assert response.json() == {"error": "Couldn't authenticate you"}
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        bearer = anonymous.session.get(anonymous.url("/users/me"),
                                       headers={"Authorization": "Bearer abc"}, timeout=5)
        assert bearer.status_code == 200
    finally:
        anonymous.close()


def test_a_configured_token_must_match(dataset: Path) -> None:
    with running_sandbox(dataset, now=NOW, token=TOKEN, email=EMAIL) as base:
        for auth, status in (((f"{EMAIL}/token", TOKEN), 200), ((f"{EMAIL}/token", "no"), 401),
                             (("other@example.com/token", TOKEN), 401), (AUTH, 401)):
            client = Api(base, auth=auth)
            try:
                assert client.get("/users/me").status_code == status
            finally:
                client.close()


def test_over_the_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    api.control("POST", "config", {"rate_limit": 5})
    answers = [api.get("/users/me") for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["X-Rate-Limit"] == "5" for r in answers[:5])
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert refused.json()["error"] == "APIRateLimitExceeded"
    assert api.control("GET", "stats")["requests"] == 6
    api.control("POST", "reset")
    assert api.get("/users/me").status_code == 200


def test_the_export_limit_is_separate_and_lower(api: Api) -> None:
    api.control("POST", "config", {"rate_limit": 100, "export_rate_limit": 2})
    exports = [api.get("/incremental/tickets/cursor", start_time=0, per_page=1).status_code
               for _ in range(3)]
    assert exports == [200, 200, 429]
    refused = api.get("/incremental/users/cursor", start_time=0)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "incremental export" in refused.json()["description"]
    assert api.get("/tickets", per_page=1).status_code == 200


def test_faults_come_at_the_configured_share_and_repeat_with_the_seed(api: Api) -> None:
    api.control("POST", "config", {"fault_rate": FAULT_RATE,
                                   "fault_kinds": ["500", "502", "503", "drop"], "seed": 42})
    first = [outcome(api) for _ in range(FAULT_REQUESTS)]
    counts = Counter(first)
    faults = FAULT_REQUESTS - counts["200"]
    assert abs(faults - FAULT_RATE * FAULT_REQUESTS) < 0.1 * FAULT_REQUESTS
    assert set(counts) == {"200", "500", "502", "503", "dropped"}
    api.control("POST", "config", {"seed": 42})
    assert [outcome(api) for _ in range(50)] == first[:50]


def test_gateway_faults_are_not_json(api: Api) -> None:
    api.control("POST", "config", {"fault_rate": 1, "fault_kinds": ["502"]})
    response = api.get("/users/me")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")


def test_slow_answers_outlast_a_client_timeout(api: Api) -> None:
    api.control("POST", "config", {"fault_rate": 1, "fault_kinds": ["slow"],
                                   "slow_seconds": 0.5})
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        api.session.get(api.url("/users/me"), timeout=0.1)
    assert time.monotonic() - started < 0.4
    time.sleep(0.5)


def test_latency_delays_every_answer(api: Api) -> None:
    api.control("POST", "config", {"latency_ms": 150})
    started = time.monotonic()
    assert api.get("/users/me").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_stats_count_requests_by_endpoint_pattern(api: Api) -> None:
    api.get("/tickets/1")
    api.get("/tickets/2.json")
    api.get("/incremental/tickets/cursor", start_time=0, per_page=1)
    api.send("PUT", "/tickets/999999/tags", {"tags": ["x"]})
    api.get("/no/such/thing")
    api.control("GET", "config")
    assert api.control("GET", "stats") == {"requests": 5, "by_endpoint": {
        "GET (unknown endpoint)": 1,
        "GET /api/v2/incremental/tickets/cursor": 1,
        "GET /api/v2/tickets/{ticket_id}": 2,
        "PUT /api/v2/tickets/{ticket_id}/tags": 1}}
    assert api.control("POST", "reset") == {"requests": 0, "by_endpoint": {}}


@pytest.mark.parametrize("changes", [
    {"fault_rate": 2}, {"rate_limit": -1}, {"fault_kinds": ["404"]}, {"colour": "red"},
    {"latency_ms": "slow"},
])
def test_bad_knobs_are_refused(api: Api, changes: dict[str, Any]) -> None:
    response = api.session.post(f"{api.base}/_sandbox/config", json=changes, timeout=5)
    assert response.status_code == 400 and response.json()["description"]
    assert api.control("GET", "config")["fault_rate"] == 0
