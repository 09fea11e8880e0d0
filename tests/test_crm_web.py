"""CRM lookups made while an agent waits fail fast: short timeouts, one quick retry at most,
no sleeping on a rate limit, and a CRM found down is not asked again for a while. Background
lookups (jobs, sync, backfill, the command line) stay patient. Checked through real requests
code with `responses` at the HTTP boundary, on requests made and sleeps asked for."""

from datetime import UTC, datetime

import pytest
import requests
import responses

from integrations.bitrix24 import THROTTLE_WAIT
from integrations.http import MAX_ATTEMPTS
from plugin.core.domain import CrmContact
from plugin.core.settings import Settings
from plugin.service_layer.crm import WEB_RETRY, WEB_TIMEOUT, CrmCache, CrmConnector, CrmEnv, Outages
from tests.factories import customer
from tests.fakes import FakeStored

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SELL_URL = "https://api.getbase.com"
HOOK = "https://acme.bitrix24.com/rest/1/hooksecret123/"
SELL = Settings(spend_source="sell")
BITRIX = Settings(spend_source="bitrix24")
BUSY = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}








@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock




def connector(sleep, clock=None) -> CrmConnector:
    clock = clock or (lambda: 0.0)
    return CrmConnector(env=CrmEnv(sell_base_url=SELL_URL, sell_token="token",
                                   bitrix24_webhook_url=HOOK),
                        cache=CrmCache(clock=clock), outages=Outages(clock=clock), sleep=sleep)


def sell_calls(http) -> int:
    return sum(1 for call in http.calls if call.request.url.startswith(SELL_URL))


def test_a_down_sell_costs_the_sidebar_two_quick_tries_then_a_notice(http, sleep):
    http.get(f"{SELL_URL}/v2/stages", status=503)
    history = connector(sleep).history(customer(), SELL, account=1)
    assert sell_calls(http) == WEB_RETRY.attempts == 2
    assert len(sleep.waits) == 1 and sleep.waits[0] <= 0.1
    assert history.purchases == ()
    assert history.notices == ("Zendesk Sell is unavailable; spend from Zendesk Sell is left "
                               "out for now",)


def test_a_timed_out_sell_is_not_asked_twice(http, sleep):
    http.get(f"{SELL_URL}/v2/stages", body=requests.ReadTimeout("slow"))
    history = connector(sleep).history(customer(), SELL, account=1)
    assert sell_calls(http) == 1 and sleep.waits == []
    assert "Zendesk Sell is unavailable" in history.notices[0]


def test_a_rate_limiting_sell_is_never_waited_for_on_the_web(http, sleep):
    http.get(f"{SELL_URL}/v2/stages", status=429, headers={"Retry-After": "30"})
    history = connector(sleep).history(customer(), SELL, account=1)
    assert sell_calls(http) == 1 and sleep.waits == []
    assert "Zendesk Sell is rate limiting" in history.notices[0]


def test_query_limit_exceeded_answers_at_once_on_the_web(http, sleep):
    http.post(f"{HOOK}crm.contact.list.json", status=503, json=BUSY)
    history = connector(sleep).history(customer(), BITRIX, account=1)
    assert len(http.calls) == 1 and sleep.waits == []
    assert "Bitrix24 is rate limiting" in history.notices[0]


def test_background_lookups_wait_out_the_same_answers(http, sleep):
    http.post(f"{HOOK}crm.contact.list.json", status=503, json=BUSY)
    http.post(f"{HOOK}crm.contact.list.json", json={"result": [], "total": 0})
    history = connector(sleep).history(customer(), BITRIX, account=1, mode="background")
    assert sleep.waits == [THROTTLE_WAIT] and history.notices == ()
    http.get(f"{SELL_URL}/v2/stages", status=503)
    connector(sleep).history(customer(), SELL, account=1, mode="background")
    assert sell_calls(http) == MAX_ATTEMPTS


def test_web_clients_use_short_timeouts_and_background_ones_do_not(sleep):
    crm = connector(sleep)
    web = crm.source("sell", lambda name: None)
    patient = crm.source("sell", lambda name: None, mode="background")
    assert web.transport.timeout == WEB_TIMEOUT and web.transport.policy == WEB_RETRY
    assert patient.transport.timeout[1] > WEB_TIMEOUT[1]
    assert crm.source("bitrix24", lambda name: None).transport.mode == "web"
    assert crm.source("bitrix24", lambda name: None, mode="background").transport.mode == \
        "background"


def test_a_crm_found_down_is_not_asked_again_for_other_customers_for_a_while(http, sleep):
    clock = [0.0]
    crm = connector(sleep, clock=lambda: clock[0])
    http.get(f"{SELL_URL}/v2/stages", status=503)
    for user in range(1, 6):
        history = crm.history(customer(user, f"c{user}@example.com"), SELL, account=1)
        assert "Zendesk Sell is unavailable" in history.notices[0]
    assert sell_calls(http) == 2, "one customer's two tries, then no request for the others"
    other_account = crm.history(customer(), SELL, account=2)
    assert "unavailable" in other_account.notices[0] and sell_calls(http) == 4
    clock[0] = 31.0
    crm.history(customer(9, "late@example.com"), SELL, account=1)
    assert sell_calls(http) == 6


def test_a_failing_live_lookup_falls_back_to_the_stored_deals(http, sleep):
    from plugin.core.domain import Purchase

    http.get(f"{SELL_URL}/v2/stages", status=503)
    stored = FakeStored([CrmContact("7", (Purchase(100.0, "USD", True, NOW),))])
    history = connector(sleep).history(customer(), SELL, account=1, stored=stored)
    assert [p.amount for p in history.purchases] == [100.0]
    assert history.notices == ("Zendesk Sell is unavailable; spend from Zendesk Sell as "
                               "synced at 2025-05-31T23:00:00Z",)


def test_a_web_lookups_failure_never_stands_in_for_a_patient_lookup(http, sleep):
    crm = connector(sleep)
    http.post(f"{HOOK}crm.contact.list.json", status=503, json=BUSY)
    web = crm.history(customer(), BITRIX, account=1)
    assert "Bitrix24 is rate limiting" in web.notices[0] and web.crm_degraded
    http.replace(responses.POST, f"{HOOK}crm.contact.list.json",
                 json={"result": [{"ID": "7"}], "total": 1})
    http.post(f"{HOOK}crm.deal.list.json", json={"result": [
        {"ID": "1", "CONTACT_ID": "7", "OPPORTUNITY": "250.00", "CURRENCY_ID": "USD",
         "STAGE_SEMANTIC_ID": "S", "CLOSEDATE": "2025-05-01T10:00:00+00:00",
         "DATE_MODIFY": "2025-05-01T10:00:00+00:00"}], "total": 1})
    patient = crm.history(customer(), BITRIX, account=1, mode="background")
    assert [p.amount for p in patient.purchases] == [250.0] and patient.notices == ()
    assert not patient.crm_degraded
    again = crm.history(customer(), BITRIX, account=1)
    assert [p.amount for p in again.purchases] == [250.0], "an answer serves both modes"


def test_a_value_is_marked_degraded_only_when_no_synced_deals_stand_in(http, sleep):
    from plugin.core.assessment import assess
    from plugin.core.domain import Purchase
    from plugin.web.contract import to_json

    http.get(f"{SELL_URL}/v2/stages", status=503)
    bare = connector(sleep).history(customer(), SELL, account=1)
    stored = FakeStored([CrmContact("7", (Purchase(100.0, "USD", True, NOW),))])
    backed = connector(sleep).history(customer(), SELL, account=1, stored=stored)
    assert to_json(assess(bare, SELL, NOW))["crm_degraded"] is True
    assert to_json(assess(backed, SELL, NOW))["crm_degraded"] is False
    assert to_json(assess(customer(), Settings(), NOW))["crm_degraded"] is False


def test_a_wrong_base_url_is_not_asked_again_for_other_customers_for_a_while(http, sleep):
    http.get(f"{SELL_URL}/v2/stages", status=404, json={"errors": []})
    crm = connector(sleep)
    for user in range(1, 4):
        history = crm.history(customer(user, f"c{user}@example.com"), SELL, account=1)
        assert 'Zendesk Sell answered "not found"' in history.notices[0]
    assert sell_calls(http) == 1
    http.replace(responses.GET, f"{SELL_URL}/v2/stages", body="<html>proxy</html>")
    other = connector(sleep)
    for user in range(1, 4):
        history = other.history(customer(user, f"c{user}@example.com"), SELL, account=1)
        assert "Zendesk Sell sent an answer the app cannot read" in history.notices[0]
    assert sell_calls(http) == 2


def test_new_credentials_are_asked_at_once_and_old_clients_closed(http, sleep):
    saved = {"sell_token": "old-token"}
    crm = connector(sleep)
    http.get(f"{SELL_URL}/v2/stages", status=401, json={"errors": []})
    refused = crm.history(customer(), SELL, account=1, secrets=saved.get)
    assert "refused the app's credentials" in refused.notices[0]
    old = crm.source("sell", saved.get)
    saved["sell_token"] = "new-token"
    http.replace(responses.GET, f"{SELL_URL}/v2/stages", json={"items": [], "meta": {}})
    http.get(f"{SELL_URL}/v2/contacts", json={"items": [], "meta": {}})
    fresh = crm.history(customer(), SELL, account=1, secrets=saved.get)
    assert fresh.notices == () and not fresh.crm_degraded, \
        "another credential is never answered from the old one's cache or outage"
    closed = []
    old.close = lambda: closed.append(True)
    saved["sell_token"] = "old-token"
    crm.forget(1, ["old-token"])
    assert closed == [True] and crm.source("sell", saved.get) is not old
    again = crm.history(customer(), SELL, account=1, secrets=saved.get)
    assert again.notices == (), "the account's failures and outages were forgotten"
