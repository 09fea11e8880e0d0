"""An agent's session reads the customer (and ticket) it was opened for and no other, and
forces a refresh at most once per interval."""

from datetime import timedelta
from functools import partial

from plugin.web.binding import REFRESH_EVERY, SessionBindings, ticket_binding
from tests import tokens
from tests.factories import NOW

session = partial(tokens.session, now=NOW)


def test_a_session_reads_only_the_customer_it_was_opened_for(app):
    client, headers = app.test_client(), session(user_id=11)
    assert client.get("/api/customers/7/value?ticket_id=3", headers=headers).status_code == 200
    assert client.get("/api/customers/7/glance", headers=headers).status_code == 200
    other = client.get("/api/customers/8/value", headers=headers)
    assert other.status_code == 403
    assert client.get("/api/customers/8/glance", headers=headers).status_code == 403
    assert client.get("/api/customers/7/value?ticket_id=4", headers=headers).status_code == 403
    assert client.post("/api/customers/8/suggestions/personalise", headers=headers,
                       json={"outcome": "accepted"}).status_code == 403
    fresh = session(user_id=12)
    assert client.get("/api/customers/8/value", headers=fresh).status_code == 404  # unknown


def test_forced_refreshes_are_limited_per_session(app):
    client, headers = app.test_client(), session(user_id=21)
    assert client.get("/api/customers/7/value?refresh=1", headers=headers).status_code == 200
    again = client.get("/api/customers/7/value?refresh=1", headers=headers)
    assert again.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= REFRESH_EVERY.total_seconds()
    assert again.get_json()["error"]["code"] == "too_many_refreshes"
    assert client.get("/api/customers/7/value", headers=headers).status_code == 200
    other = session(user_id=22)
    assert client.get("/api/customers/7/value?refresh=1", headers=other).status_code == 200


def test_the_refresh_interval_passes():
    bindings = SessionBindings(refresh_every=timedelta(seconds=10))
    assert bindings.bind("t", ticket_binding(7, None))
    assert bindings.refresh_wait("t", NOW) is None
    assert bindings.refresh_wait("t", NOW + timedelta(seconds=4)) == 6.0
    assert bindings.refresh_wait("t", NOW + timedelta(seconds=10)) is None


def test_a_ticket_named_later_is_bound_then():
    bindings = SessionBindings()
    assert bindings.bind("t", ticket_binding(7, None))
    assert bindings.bind("t", ticket_binding(7, 3))
    assert not bindings.bind("t", ticket_binding(7, 4))
    assert bindings.bind("t", ticket_binding(7, None))
    assert not bindings.bind("t", ticket_binding(8, None))


def test_bindings_are_bounded():
    bindings = SessionBindings(max_sessions=2)
    for token in ("a", "b", "c"):
        bindings.bind(token, ticket_binding(1, None))
    assert bindings.bind("a", ticket_binding(2, None)), "the oldest was let go"


def test_two_loads_in_the_same_second_are_two_sessions(app):
    """The same agent opening two tickets within one second (tabs restored together) gets two
    sessions, each bound to its own customer, not one token bound to the first."""
    client = app.test_client()
    first, second = session(user_id=31), session(user_id=31)
    assert first != second
    assert client.get("/api/customers/7/value", headers=first).status_code == 200
    assert client.get("/api/customers/8/value", headers=second).status_code != 403
