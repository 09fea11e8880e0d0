"""The Zendesk Sell adapter through real requests code, with `responses` at the HTTP boundary:
records in the shapes of Sell's API documentation (developer.zendesk.com/api-reference/
sales-crm/), domain values out, every failure a typed error."""

import random
from datetime import UTC, datetime

import pytest
from responses import matchers

from integrations.errors import AuthFailed, BadResponse, RateLimited, Unavailable
from integrations.sell import PER_PAGE, SellClient, SellConfig
from plugin.core.domain import Purchase
from tests.fakes import FakeSleep

BASE = "https://api.getbase.com"
TOKEN = "sell-personal-access-token"
STAGES = [(1, "Incoming", "incoming"), (2, "Qualified", "in_progress"), (3, "Won", "won"),
          (4, "Lost", "lost")]


def envelope(kind, records, next_page=None):
    """A Sell collection answer: items of data and meta, then the collection's meta."""
    return {"items": [{"data": r, "meta": {"type": kind}} for r in records],
            "meta": {"type": "collection", "count": len(records),
                     "links": {"self": f"{BASE}/v2/{kind}s?page=1",
                               **({"next_page": next_page} if next_page else {})}}}


def stage(stage_id, name, category):
    return {"id": stage_id, "name": name, "category": category, "active": True,
            "position": stage_id, "likelihood": 50, "pipeline_id": 1,
            "created_at": "2014-08-27T16:32:56Z", "updated_at": "2014-08-27T17:32:56Z"}


def contact(contact_id, email):
    return {"id": contact_id, "creator_id": 1, "owner_id": 1, "is_organization": False,
            "contact_id": None, "name": "Mark Johnson", "first_name": "Mark",
            "last_name": "Johnson", "customer_status": "current", "prospect_status": "none",
            "email": email, "tags": [], "custom_fields": {},
            "created_at": "2014-08-27T16:32:56Z", "updated_at": "2014-08-27T16:32:56Z"}


def deal(deal_id, contact_id, value, stage_id, currency="USD",
         changed="2024-05-01T10:00:00Z"):
    return {"id": deal_id, "creator_id": 1, "owner_id": 1, "name": f"Deal {deal_id}",
            "value": value, "currency": currency, "hot": False, "stage_id": stage_id,
            "last_stage_change_at": changed, "contact_id": contact_id,
            "organization_id": None, "estimated_close_date": None, "tags": [],
            "custom_fields": {}, "created_at": "2024-01-01T09:00:00Z",
            "updated_at": changed}






def client(**options) -> SellClient:
    return SellClient.connect(SellConfig(token=TOKEN, base_url=BASE), sleep=FakeSleep(),
                              rng=random.Random(1), **options)


def bearer():
    return matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})


def page(number, **params):
    return matchers.query_param_matcher({**params, "page": str(number),
                                         "per_page": str(PER_PAGE)})


def add_stages(http):
    http.get(f"{BASE}/v2/stages", match=[bearer(), page(1)],
             json=envelope("stage", [stage(*s) for s in STAGES]))


def test_a_contacts_won_and_lost_deals_become_purchases_decimal_strings_included(http):
    add_stages(http)
    http.get(f"{BASE}/v2/contacts", match=[bearer(), page(1, email="mark@example.com")],
             json=envelope("contact", [contact(7, "mark@example.com")]))
    http.get(f"{BASE}/v2/deals", match=[bearer(), page(1, contact_id="7")],
             json=envelope("deal", [deal(1, 7, 1000, 3), deal(2, 7, "1250.50", 3, "EUR"),
                                    deal(3, 7, 300, 4), deal(4, 7, 999, 2)]))
    contacts = client().contacts("mark@example.com")
    assert [c.id for c in contacts] == ["7"]
    when = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert contacts[0].purchases == (
        Purchase(1000.0, "USD", True, when, "1"), Purchase(1250.5, "EUR", True, when, "2"),
        Purchase(300.0, "USD", False, when, "3"))


def test_deals_are_read_page_after_page_until_no_next_page(http):
    add_stages(http)
    first = [deal(n, 7, 10, 3) for n in range(1, PER_PAGE + 1)]
    http.get(f"{BASE}/v2/deals", match=[page(1, contact_id="7")],
             json=envelope("deal", first, next_page=f"{BASE}/v2/deals?page=2"))
    http.get(f"{BASE}/v2/deals", match=[page(2, contact_id="7")],
             json=envelope("deal", [deal(PER_PAGE + 1, 7, "0.25", 3)]))
    sell = client()
    purchases = sell.deals("7")
    assert len(purchases) == PER_PAGE + 1
    assert sum(p.amount for p in purchases) == pytest.approx(10 * PER_PAGE + 0.25)


def test_stages_are_asked_once_for_many_customers(http):
    add_stages(http)
    for n in (1, 2):
        http.get(f"{BASE}/v2/contacts", match=[page(1, email=f"c{n}@example.com")],
                 json=envelope("contact", []))
    sell = client()
    assert sell.contacts("c1@example.com") == []
    assert sell.contacts("c2@example.com") == []
    assert sell.transport.calls["GET /v2/stages"] == 1


def test_two_contacts_with_one_email_both_come_back(http):
    add_stages(http)
    http.get(f"{BASE}/v2/contacts", match=[page(1, email="shared@example.com")],
             json=envelope("contact", [contact(7, "shared@example.com"),
                                       contact(8, "shared@example.com")]))
    for contact_id in (7, 8):
        http.get(f"{BASE}/v2/deals", match=[page(1, contact_id=str(contact_id))],
                 json=envelope("deal", [deal(contact_id, contact_id, 50, 3)]))
    assert [c.id for c in client().contacts("shared@example.com")] == ["7", "8"]


SELL_ERROR_401 = {
    "errors": [{"error": {"code": "unauthorized", "message": "Unauthorized",
                          "details": "The access token is invalid"},
                "meta": {"type": "error"}}],
    "meta": {"type": "errors", "http_status": "401 Unauthorized", "logref": "abc"}}


def test_a_rejected_token_is_auth_failed(http):
    http.get(f"{BASE}/v2/stages", status=401, json=SELL_ERROR_401)
    with pytest.raises(AuthFailed) as caught:
        client().contacts("mark@example.com")
    assert caught.value.service == "Zendesk Sell"
    assert TOKEN not in str(caught.value)


def test_over_the_rate_limit_is_rate_limited_at_once_in_web_mode(http):
    http.get(f"{BASE}/v2/stages", status=429, json={"errors": [], "meta": {}},
             headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as caught:
        client(mode="web").stage_outcomes()
    assert caught.value.retry_after == 12


def test_a_failing_sell_is_retried_then_unavailable(http):
    for _ in range(4):
        http.get(f"{BASE}/v2/stages", status=503, body="busy")
    with pytest.raises(Unavailable):
        client().stage_outcomes()


def test_a_deal_in_a_new_stage_has_the_stages_read_again(http):
    add_stages(http)
    http.get(f"{BASE}/v2/stages", match=[bearer(), page(1)], json=envelope(
        "stage", [stage(*s) for s in STAGES] + [stage(99, "Won again", "won")]))
    http.get(f"{BASE}/v2/deals", json=envelope("deal", [deal(1, 7, 10, 99), deal(2, 7, 5, 3)]))
    sell = client()
    sell.stage_outcomes()
    assert [(p.amount, p.won) for p in sell.deals("7")] == [(10.0, True), (5.0, True)]
    assert sell.transport.calls["GET /v2/stages"] == 2 and sell.unknown_stage_deals == 0


def test_a_deal_in_a_stage_still_unknown_is_left_out_and_counted_live_and_in_bulk(http):
    add_stages(http)
    add_stages(http)
    deals = envelope("deal", [deal(1, 7, 10, 99), deal(2, 7, 5, 3), deal(3, 7, 8, 99)])
    http.get(f"{BASE}/v2/deals", json=deals)
    sell = client()
    assert [p.amount for p in sell.deals("7")] == [5.0]
    assert sell.unknown_stage_deals == 2
    assert sell.transport.calls["GET /v2/stages"] == 2, "read again once for stage 99"
    (listed,) = sell.deal_pages()
    assert [d.id for d in listed.items] == ["2"] and listed.skipped == 2
    assert sell.transport.calls["GET /v2/stages"] == 2


@pytest.mark.parametrize("value", ["lots", -5, "-12.50"])
def test_a_negative_or_unreadable_value_is_a_bad_response(http, value):
    add_stages(http)
    http.get(f"{BASE}/v2/deals", json=envelope("deal", [deal(1, 7, value, 3)]))
    sell = client()
    with pytest.raises(BadResponse, match="value"):
        sell.deals("7")


def test_the_config_never_shows_its_token():
    assert TOKEN not in repr(SellConfig(token=TOKEN))


def test_a_contact_listed_twice_comes_back_once(http):
    http.get(f"{BASE}/v2/contacts", json=envelope("contact", [contact(7, "m@example.com")] * 2))
    assert client().contact_ids("m@example.com") == ["7"]
