"""A signed webhook call is acted on once: replayed under a new invocation id it is a
duplicate, without an invocation id it is refused, and one signed more than a minute ahead of
the app's clock is refused as well."""

from datetime import UTC, datetime, timedelta

import pytest

from plugin.web.signature import TEST_SECRET, StaleCall, sign, verify
from tests.tokens import ACME_TOKEN

BODY = b'{"ticket_id": "11", "requester_id": "7"}'


@pytest.fixture
def app(make_app):
    return make_app({"ZENDESK_BASE_URL": "https://acme.zendesk.com",
                     "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": ACME_TOKEN,
                     "ZENDESK_APP_ID": "55", "WEBHOOK_SECRET": TEST_SECRET})


def stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def post(client, *, invocation, at=None, body=BODY):
    at = stamp(at or datetime.now(UTC))
    headers = {"X-Zendesk-Webhook-Signature": sign(TEST_SECRET, at, body),
               "X-Zendesk-Webhook-Signature-Timestamp": at,
               "Content-Type": "application/json"}
    if invocation is not None:
        headers["X-Zendesk-Webhook-Invocation-Id"] = invocation
    return client.post("/webhooks/zendesk", data=body, headers=headers)


def test_the_same_signed_call_under_a_new_invocation_id_is_a_duplicate(app):
    client, queue = app.test_client(), app.extensions["queue"]
    at = datetime.now(UTC)
    assert post(client, invocation="inv-1", at=at).status_code == 202
    again = post(client, invocation="inv-2", at=at)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert len(queue) == 1


@pytest.mark.parametrize("invocation", [None, "", "   ", "x" * 129])
def test_a_call_without_a_usable_invocation_id_is_refused(app, invocation):
    answer = post(app.test_client(), invocation=invocation)
    assert answer.status_code == 400
    assert len(app.extensions["queue"]) == 0


def test_a_call_signed_minutes_ahead_is_refused(app):
    answer = post(app.test_client(), invocation="inv-9",
                  at=datetime.now(UTC) + timedelta(minutes=4))
    assert answer.status_code == 401


@pytest.mark.parametrize(("ahead", "accepted"), [
    (timedelta(seconds=59), True), (timedelta(seconds=61), False),
    (timedelta(minutes=-4, seconds=-59), True)])
def test_the_future_skew_is_bounded_at_a_minute(ahead, accepted):
    now = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    at = stamp(now + ahead)
    call = lambda: verify(TEST_SECRET, BODY, sign(TEST_SECRET, at, BODY), at, now=now)  # noqa: E731
    if accepted:
        call()
    else:
        with pytest.raises(StaleCall):
            call()
