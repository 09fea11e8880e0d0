"""The Bitrix24 adapter through real requests code, with `responses` at the HTTP boundary:
answers in the shapes of Bitrix24's REST documentation (apidocs.bitrix24.com: list methods'
`result`/`total`/`next`, `batch`, errors and the QUERY_LIMIT_EXCEEDED limit), domain values out,
every failure a typed error."""

import random
from datetime import datetime, timedelta, timezone

import pytest
import requests
from responses import matchers

from integrations.bitrix24 import (
    PAGE_SIZE,
    THROTTLE_BUDGET,
    THROTTLE_WAIT,
    Bitrix24Client,
    Bitrix24Config,
)
from integrations.errors import AuthFailed, BadResponse, NotFound, RateLimited, Unavailable
from integrations.http import MAX_ATTEMPTS
from plugin.core.domain import Purchase

SECRET = "abcd1234efgh5678"
HOOK = f"https://acme.bitrix24.com/rest/1/{SECRET}/"
MOSCOW = timezone(timedelta(hours=3))
LIMIT = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}








def client(sleep, **options) -> Bitrix24Client:
    return Bitrix24Client.connect(Bitrix24Config(HOOK), sleep=sleep, rng=random.Random(1),
                                  **options)


def listed(records, total=None, following=None):
    body = {"result": records, "total": len(records) if total is None else total,
            "time": {"start": 1717000000.1, "finish": 1717000000.2, "duration": 0.1}}
    if following is not None:
        body["next"] = following
    return body


def bitrix_deal(deal_id, contact_id, amount, semantic, currency="USD", closed="Y",
                close_date="2024-03-01T03:00:00+03:00"):
    stage = {"S": "WON", "F": "LOSE", "P": "PREPARATION"}[semantic]
    return {"ID": str(deal_id), "CONTACT_ID": str(contact_id), "OPPORTUNITY": amount,
            "CURRENCY_ID": currency, "STAGE_ID": stage, "STAGE_SEMANTIC_ID": semantic,
            "CLOSED": closed, "CLOSEDATE": close_date}


def contact(contact_id, email):
    return {"ID": str(contact_id), "NAME": "Anna", "LAST_NAME": "Schmidt",
            "EMAIL": [{"ID": "9", "VALUE_TYPE": "WORK", "VALUE": email, "TYPE_ID": "EMAIL"}]}


def call(method, **body):
    return {"url": f"{HOOK}{method}.json",
            "match": [matchers.json_params_matcher(body, strict_match=False)]}


def test_a_contacts_deals_become_purchases_from_decimal_strings(http, sleep):
    http.post(**call("crm.contact.list", filter={"EMAIL": "anna@example.com"}, start=0),
              json=listed([contact(11, "anna@example.com")]))
    http.post(**call("crm.deal.list", filter={"CONTACT_ID": "11"}, start=0), json=listed([
        bitrix_deal(1, 11, "1500.00", "S"), bitrix_deal(2, 11, "99.90", "S", "EUR"),
        bitrix_deal(3, 11, "700.00", "F"), bitrix_deal(4, 11, "5000.00", "P", closed="N")]))
    contacts = client(sleep).contacts("anna@example.com")
    when = datetime(2024, 3, 1, 3, tzinfo=MOSCOW)
    assert [c.id for c in contacts] == ["11"]
    assert contacts[0].purchases == (Purchase(1500.0, "USD", True, when, "1"),
                                     Purchase(99.9, "EUR", True, when, "2"),
                                     Purchase(700.0, "USD", False, when, "3"))


def test_deal_lists_page_by_fifty_with_start_and_next(http, sleep):
    first = [bitrix_deal(n, 11, "10.00", "S") for n in range(1, PAGE_SIZE + 1)]
    http.post(**call("crm.deal.list", start=0), json=listed(first, 51, following=50))
    http.post(**call("crm.deal.list", start=50),
              json=listed([bitrix_deal(51, 11, "0.50", "S")], 51))
    purchases = client(sleep).deals("11")
    assert len(purchases) == 51
    assert sum(p.amount for p in purchases) == pytest.approx(500.5)


def test_query_limit_exceeded_backs_off_and_retries(http, sleep, caplog):
    http.post(**call("crm.deal.list"), status=503, json=LIMIT)
    http.post(**call("crm.deal.list"), status=503, json=LIMIT)
    http.post(**call("crm.deal.list"), json=listed([bitrix_deal(1, 11, "5.00", "S")]))
    with caplog.at_level("INFO", logger="integrations.http"):
        assert [p.amount for p in client(sleep).deals("11")] == [5.0]
    assert sleep.waits == [THROTTLE_WAIT, THROTTLE_WAIT]
    assert caplog.text.count("/rest/1/***/crm.deal.list.json answered 429; retrying") == 2
    assert SECRET not in caplog.text


def test_query_limit_exceeded_beyond_the_budget_is_rate_limited(http, sleep):
    tries = int(THROTTLE_BUDGET / THROTTLE_WAIT) + 1
    for _ in range(tries):
        http.post(**call("crm.deal.list"), status=503, json=LIMIT)
    with pytest.raises(RateLimited) as caught:
        client(sleep).deals("11")
    assert caught.value.service == "Bitrix24"
    assert sum(sleep.waits) <= THROTTLE_BUDGET


@pytest.mark.parametrize("status, body", [
    (401, {"error": "expired_token", "error_description": "The access token provided has "
                                                          "expired."}),
    (401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}),
    (200, {"error": "insufficient_scope", "error_description": "The request requires higher "
                                                               "privileges"}),
])
def test_a_rejected_webhook_is_auth_failed_and_no_error_shows_the_secret(http, sleep, status,
                                                                        body):
    http.post(**call("crm.contact.list"), status=status, json=body)
    with pytest.raises(AuthFailed, match=body["error"]):
        client(sleep).contacts("anna@example.com")


def test_an_unknown_method_is_not_found_without_the_secret(http, sleep):
    http.post(f"{HOOK}crm.deal.list.json", status=404,
              json={"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found"})
    bitrix = client(sleep)
    with pytest.raises(NotFound) as caught:
        bitrix.deals("11")
    assert SECRET not in str(caught.value)
    assert all(SECRET not in key for key in bitrix.transport.calls)


def test_an_unreadable_amount_is_a_bad_response(http, sleep):
    http.post(**call("crm.deal.list"), json=listed([bitrix_deal(1, 11, "a lot", "S")]))
    with pytest.raises(BadResponse, match="OPPORTUNITY"):
        client(sleep).deals("11")


def test_a_url_that_is_no_webhook_is_refused_before_any_request():
    with pytest.raises(ValueError):
        Bitrix24Client.connect(Bitrix24Config("https://acme.bitrix24.com/crm/"),
                               session=requests.Session())
    assert SECRET not in repr(Bitrix24Config(HOOK))


@pytest.mark.parametrize("status, code, error, words", [
    (401, "ACCESS_DENIED", AuthFailed, "ACCESS_DENIED"),
    (403, "OVERLOAD_LIMIT", Unavailable, "OVERLOAD_LIMIT"),
    (429, "OPERATION_TIME_LIMIT", RateLimited, "retry after 600 s"),
    (500, "INTERNAL_SERVER_ERROR", Unavailable, "INTERNAL_SERVER_ERROR"),
    (400, "ERROR_METHOD_NOT_FOUND", NotFound, "ERROR_METHOD_NOT_FOUND"),
])
def test_errors_sent_with_an_http_status_are_read_from_the_body(http, sleep, status, code,
                                                                error, words):
    for _ in range(MAX_ATTEMPTS if status >= 500 else 1):
        http.post(**call("crm.deal.list"), status=status,
                  json={"error": code, "error_description": "described"})
    with pytest.raises(error, match=words) as caught:
        client(sleep, mode="web").deals("11")
    assert caught.value.service == "Bitrix24" and SECRET not in str(caught.value)


def test_an_unknown_error_code_with_a_4xx_is_a_bad_response_naming_it(http, sleep):
    http.post(**call("crm.deal.list"), status=400,
              json={"error": "INVALID_ARG_VALUE", "error_description": "bad filter"})
    with pytest.raises(BadResponse, match="INVALID_ARG_VALUE; bad filter"):
        client(sleep).deals("11")


def test_no_repr_and_no_traceback_ever_shows_the_webhook_secret(http, sleep):
    import traceback

    bitrix = client(sleep)
    assert SECRET not in repr(bitrix.transport)
    http.post(f"{HOOK}crm.deal.list.json",
              body=requests.exceptions.TooManyRedirects(f"Exceeded 30 redirects: {HOOK}"))
    with pytest.raises(Unavailable) as caught:
        bitrix.deals("11")
    text = "".join(traceback.format_exception(caught.value))
    assert "TooManyRedirects" in text and SECRET not in text


def test_a_contact_listed_twice_comes_back_once(http, sleep):
    http.post(**call("crm.contact.list", filter={"EMAIL": "anna@example.com"}, start=0),
              json=listed([contact(11, "anna@example.com")] * 2))
    assert client(sleep).contact_ids("anna@example.com") == ["11"]
