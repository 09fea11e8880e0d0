"""Zendesk's public-key fetch failing: a 503 (try again), never a 500 with a traceback; the
failure remembered briefly so a burst of loads makes one outbound request; and one fetch at a
time per account."""

import threading
from datetime import timedelta

import pytest
import requests

from plugin.web.auth import KeyUnavailable, PublicKeyCache
from plugin.web.session import fetch_key
from tests.factories import NOW
from tests.tokens import APP_ID, INSTALLATION, zendesk_token

KEY_URL = f"https://acme.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem"


class FailingFetch:
    def __init__(self, error: Exception):
        self.error, self.urls = error, []

    def __call__(self, url):
        self.urls.append(url)
        raise self.error


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"),
                                   requests.HTTPError("500"), requests.Timeout("slow")])
def test_a_failing_fetch_is_a_503_not_a_500(make_app, keys, error):
    fetch = FailingFetch(error)
    app = make_app({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com",
                    "ZENDESK_API_TOKEN": "t", "ZENDESK_APP_ID": str(APP_ID),
                    "ZENDESK_INSTALLATION_ID": str(INSTALLATION)}, fetch_key=fetch)
    client = app.test_client()
    for _ in range(5):
        answer = client.post("/sidebar", data={"token": zendesk_token(keys[0])})
        assert answer.status_code == 503
        assert "try again" in answer.get_json()["error"]["message"]
    assert fetch.urls == [KEY_URL], "the failure is remembered: one request for five loads"


def test_a_failure_is_retried_after_a_while(keys):
    answers = [requests.ConnectionError("down"), keys[1]]

    def fetch(url):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache = PublicKeyCache(fetch, {"acme": APP_ID}, retry_after=timedelta(seconds=30))
    with pytest.raises(KeyUnavailable):
        cache.public_key("acme", NOW)
    with pytest.raises(KeyUnavailable):
        cache.public_key("acme", NOW + timedelta(seconds=29))
    assert cache.public_key("acme", NOW + timedelta(seconds=30)) == keys[1]
    assert answers == []


def test_concurrent_misses_make_one_fetch(keys):
    entered, release, calls = threading.Event(), threading.Event(), []

    def fetch(url):
        calls.append(url)
        entered.set()
        release.wait(10)
        return keys[1]

    cache = PublicKeyCache(fetch, {"acme": APP_ID})
    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.public_key("acme", NOW)))
    first.start()
    assert entered.wait(10)
    waiting = [threading.Thread(target=lambda: results.append(cache.public_key("acme", NOW)))
               for _ in range(4)]
    for thread in waiting:
        thread.start()
    release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert results == [keys[1]] * 5
    assert calls == [KEY_URL]


def test_the_default_fetch_follows_no_redirect(http):
    http.get(KEY_URL, status=302, headers={"Location": "http://127.0.0.1:9/key.pem"})
    with pytest.raises(requests.HTTPError, match="302"):
        fetch_key(KEY_URL)
