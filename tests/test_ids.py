"""Ids out of range or not ASCII digits are a 400, never a 500: in the value and trend URLs,
their ticket_id, the feedback body, and the webhook's payload."""

import json
from functools import partial

import pytest

from plugin.web.ids import MAX_ID, parse_id
from plugin.web.signature import BadPayload, parse_event
from tests import tokens
from tests.factories import NOW

session = partial(tokens.session, now=NOW)

BAD = [str(2 ** 63), "9" * 30, "1" * 4300, "0"]


@pytest.mark.parametrize("value", [*BAD, "²", "١٢", "-1", " 7", "7.0", True, 2 ** 70, 0, -3])
def test_only_ascii_ids_in_range_are_ids(value):
    with pytest.raises(ValueError):
        parse_id(value, "ticket_id")


def test_ids_at_the_edges_pass():
    assert parse_id("1", "x") == 1 and parse_id(str(MAX_ID), "x") == MAX_ID
    assert parse_id(MAX_ID, "x") == MAX_ID


@pytest.mark.parametrize("user", BAD)
@pytest.mark.parametrize("page", ["value", "glance"])
def test_customer_ids_out_of_range_are_400(app, user, page):
    answer = app.test_client().get(f"/api/customers/{user}/{page}", headers=session())
    assert answer.status_code == 400


@pytest.mark.parametrize("ticket", [*BAD, "²"])
@pytest.mark.parametrize("page", ["value", "glance"])
def test_ticket_ids_out_of_range_are_400(app, ticket, page):
    answer = app.test_client().get(f"/api/customers/7/{page}", query_string={"ticket_id": ticket},
                                   headers=session())
    assert answer.status_code == 400


@pytest.mark.parametrize("ticket", [2 ** 70, 2 ** 63, 0, "3"])
def test_feedback_ticket_ids_out_of_range_are_400(app, ticket):
    answer = app.test_client().post("/api/customers/7/suggestions/personalise",
                                    headers=session(),
                                    json={"outcome": "accepted", "ticket_id": ticket})
    assert answer.status_code == 400


@pytest.mark.parametrize("ticket", [str(2 ** 63), 2 ** 63, "²", "1" * 4300])
def test_webhook_ids_out_of_range_are_bad_payloads(ticket):

    with pytest.raises(BadPayload):
        parse_event(json.dumps({"ticket_id": ticket, "requester_id": "2"}).encode())
