"""Spend from a CRM: identity by email, duplicates flagged not merged, failures isolated,
answers cached, and the dataset folder's CRM files read as a CRM."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from integrations.errors import AuthFailed, BadResponse, NotFound, RateLimited, Unavailable
from integrations.files.crm import load_crm
from integrations.files.dataset import DatasetError
from plugin.core.assessment import assess
from plugin.core.domain import CrmContact, CustomerHistory, Profile, Purchase
from plugin.core.model import score
from plugin.core.settings import Settings
from plugin.core.spend import attach
from plugin.service_layer.crm import CrmCache, CrmConnector, CrmEnv, with_crm
from plugin.web.contract import to_json
from tests.fakes import FakeCrm

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SELL = Settings(spend_source="sell")


def won(amount, currency="USD", days_ago=30):
    return Purchase(amount, currency, True, NOW - timedelta(days=days_ago))


def customer(email="Ann@Example.com", **fields):
    return CustomerHistory(profile=Profile(id=1, name="Ann Lee", email=email,
                                           created_at=NOW - timedelta(days=900),
                                           fields=fields))




def test_the_one_matching_contacts_deals_count_and_raise_the_value():
    crm = FakeCrm({"ann@example.com": [CrmContact("7", (won(4000), won(2500)))]})
    with_deals = with_crm(customer(), crm, SELL)
    assert crm.asked == ["ann@example.com"]
    assert len(with_deals.purchases) == 2 and with_deals.notices == ()
    assert score(with_deals, SELL, NOW).value > score(customer(), SELL, NOW).value


def test_several_contacts_for_one_email_are_flagged_and_not_merged():
    contacts = [CrmContact("7", (won(4000),)), CrmContact("8", (won(900),))]
    history = attach(customer(), contacts, "Zendesk Sell", "ann@example.com")
    assert history.purchases == ()
    assert history.notices[0].startswith("2 CRM contacts match ann@example.com in Zendesk Sell")
    assert history.notices[0] in score(history, SELL, NOW).notices


def test_the_match_field_setting_picks_the_email_to_look_up():
    crm = FakeCrm({"billing@acme.example": [CrmContact("9", (won(100),))]})
    settings = Settings(spend_source="sell", crm_match_field="billing_email")
    history = with_crm(customer(billing_email="Billing@Acme.example"), crm, settings)
    assert crm.asked == ["billing@acme.example"] and len(history.purchases) == 1
    assert with_crm(customer(), crm, settings).notices == ("No email to look up in Zendesk Sell",)


@pytest.mark.parametrize("error, words", [
    (Unavailable("down", service="Zendesk Sell"), "unavailable"),
    (AuthFailed("401", service="Zendesk Sell"), "refused the app's credentials"),
    (RateLimited(30, service="Zendesk Sell"), "rate limiting"),
    (BadResponse("?", service="Zendesk Sell"), "sent an answer the app cannot read"),
    (NotFound("404", service="Zendesk Sell"), "answered \"not found\""),
])
def test_a_failing_crm_leaves_a_zendesk_only_value_with_a_notice(error, words):
    history = with_crm(customer(), FakeCrm(error=error), SELL)
    assert history.purchases == ()
    assert words in history.notices[0]
    assert score(history, SELL, NOW).value == score(customer(), SELL, NOW).value


def test_spend_from_fields_never_asks_the_crm():
    crm = FakeCrm()
    assert with_crm(customer(), crm, Settings()) == customer()
    assert crm.asked == []


def test_a_crm_spend_source_ignores_the_spend_fields():
    history = customer(lifetime_spend=90_000)
    assert score(history, Settings(), NOW).lifetime_spend == 90_000
    result = score(history, SELL, NOW)
    assert result.lifetime_spend == 0
    spend = next(s for s in result.benefits if s.signal == "lifetime_spend")
    assert not spend.measured and spend.reason == "no contact in Zendesk Sell", \
        "without a CRM contact spend is not measured (not a zero)"


def test_unknown_currencies_are_flagged_and_reported_in_the_spend_block():
    settings = Settings(spend_source="sell", exchange_rates={"EUR": 1.1})
    crm = FakeCrm({"ann@example.com": [CrmContact("7", (
        won(1000), won(1000, "EUR", 400), won(500, "CHF", 10),
        Purchase(200, "USD", False, NOW - timedelta(days=5))))]})
    body = to_json(assess(with_crm(customer(), crm, settings), settings, NOW))
    assert body["spend"] == {
        "source": "sell", "currency": "USD", "lifetime": 2100.0, "purchases": 2, "lost": 1,
        "per_year": body["spend"]["per_year"], "last_purchase_days": 30.0,
        "average_deal": 1050.0, "skipped_currencies": {"CHF": 1}}
    assert body["spend"]["per_year"] > 0
    assert any("CHF" in notice for notice in body["notices"])


def test_answers_are_cached_and_failures_retried_after_a_while():
    clock = [0.0]
    cache = CrmCache(answer_seconds=600, failure_seconds=30, clock=lambda: clock[0])
    crm = FakeCrm({"ann@example.com": [CrmContact("7", (won(10),))]})
    for _ in range(3):
        with_crm(customer(), crm, SELL, cache=cache, account=1)
    assert len(crm.asked) == 1
    down = FakeCrm(error=Unavailable("down", service="Zendesk Sell"))
    with_crm(customer("b@example.com"), down, SELL, cache=cache, account=1)
    with_crm(customer("b@example.com"), down, SELL, cache=cache, account=1)
    assert len(down.asked) == 1
    clock[0] = 31
    with_crm(customer("b@example.com"), down, SELL, cache=cache, account=1)
    assert len(down.asked) == 2


def test_missing_credentials_are_a_notice_not_a_failure():
    connector = CrmConnector(env=CrmEnv())
    history = connector.history(customer(), Settings(spend_source="bitrix24"))
    assert history.notices[0] == ("Bitrix24 is not configured; spend from Bitrix24 is left out "
                                  "until an admin sets its credentials")
    assert not history.crm_degraded, "a standing choice: the tagger tags on this value"
    saved = connector.source("bitrix24", lambda name: "https://x.example/not-a-webhook")
    with pytest.raises(AuthFailed):
        saved.contacts("ann@example.com")


def write(folder, name, body):
    (folder / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")


def sell_items(kind, records):
    return {"items": [{"data": r, "meta": {"type": kind}} for r in records]}


def test_the_dataset_folders_sell_files_read_as_a_crm(tmp_path):
    write(tmp_path, "sell_stages", sell_items("stage", [
        {"id": 1, "name": "Won", "category": "won"}, {"id": 2, "name": "Open",
                                                     "category": "in_progress"}]))
    write(tmp_path, "sell_contacts", sell_items("contact", [
        {"id": 5, "email": "ann@example.com"}, {"id": 6, "email": "ANN@example.com"},
        {"id": 7, "email": "bo@example.com"}]))
    write(tmp_path, "sell_deals", sell_items("deal", [
        {"id": 1, "contact_id": 7, "value": "10.50", "currency": "EUR", "stage_id": 1,
         "last_stage_change_at": "2025-01-01T00:00:00Z"},
        {"id": 2, "contact_id": 7, "value": 99, "currency": "EUR", "stage_id": 2}]))
    crm = load_crm(tmp_path, "sell")
    assert [c.id for c in crm.contacts("ann@example.com")] == ["5", "6"]
    (bo,) = crm.contacts("Bo@example.com")
    assert [(p.amount, p.currency, p.won) for p in bo.purchases] == [(10.5, "EUR", True)]
    assert load_crm(tmp_path, "fields") is None
    assert load_crm(tmp_path, "bitrix24").contacts("bo@example.com") == []


def test_the_dataset_folders_bitrix_files_read_as_a_crm_and_bad_records_are_named(tmp_path):
    write(tmp_path, "bitrix_contacts", {"result": [
        {"ID": "3", "EMAIL": [{"VALUE": "ann@example.com", "VALUE_TYPE": "WORK"}]}]})
    write(tmp_path, "bitrix_deals", {"result": [
        {"ID": "1", "CONTACT_ID": "3", "OPPORTUNITY": "250.00", "CURRENCY_ID": "USD",
         "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y", "CLOSEDATE": "2025-02-01T03:00:00+03:00"}]})
    (ann,) = load_crm(tmp_path, "bitrix24").contacts("ann@example.com")
    assert ann.purchases[0].amount == 250.0
    write(tmp_path, "bitrix_deals", {"result": [
        {"ID": "2", "CONTACT_ID": "3", "OPPORTUNITY": "-5", "STAGE_SEMANTIC_ID": "S"}]})
    with pytest.raises(DatasetError, match="bitrix_deals.json: record 2: OPPORTUNITY"):
        load_crm(tmp_path, "bitrix24")


@pytest.mark.parametrize(("close_date", "modified", "expected"), [
    ("2025-09-30T00:00:00+00:00", "2025-05-20T08:00:00+00:00", "2025-05-20T08:00:00+00:00"),
    ("2025-03-01T00:00:00+00:00", "2025-05-20T08:00:00+00:00", "2025-03-01T00:00:00+00:00"),
    ("", "2025-05-20T08:00:00+00:00", "2025-05-20T08:00:00+00:00"),
])
def test_a_won_bitrix_deal_with_a_planned_close_date_ahead_still_counts(
        close_date, modified, expected):
    from integrations.records.crm import parse_bitrix_deal
    from plugin.core.measures import measure
    from plugin.core.signals import DEFAULT_NORMS

    deal = {"ID": "1", "CONTACT_ID": "3", "OPPORTUNITY": "250.00", "CURRENCY_ID": "USD",
            "STAGE_SEMANTIC_ID": "S", "CLOSEDATE": close_date, "DATE_MODIFY": modified}
    purchase = parse_bitrix_deal(deal)
    assert purchase.closed_at == datetime.fromisoformat(expected)
    history = CustomerHistory(profile=Profile(id=1, name="Ann", email="ann@example.com",
                                              created_at=NOW - timedelta(days=400)),
                              purchases=(purchase,))
    assert measure(history, NOW, half_life_days=180.0, typical=DEFAULT_NORMS.typical,
                   currency="USD").won == 1


def test_deals_without_a_primary_contact_are_left_out_of_a_dataset_and_the_sandbox(tmp_path):
    from integrations.sandbox.crm_data import CrmData

    write(tmp_path, "bitrix_contacts", {"result": [
        {"ID": "3", "EMAIL": [{"VALUE": "ann@example.com", "VALUE_TYPE": "WORK"}]}]})
    won = {"OPPORTUNITY": "10.00", "CURRENCY_ID": "USD", "STAGE_SEMANTIC_ID": "S",
           "CLOSEDATE": "2025-02-01T03:00:00+03:00"}
    write(tmp_path, "bitrix_deals", {"result": [
        {"ID": "1", "CONTACT_ID": "3", **won}, {"ID": "2", "CONTACT_ID": None, **won},
        {"ID": "3", "CONTACT_ID": "", **won}, {"ID": "4", "CONTACT_ID": "0", **won},
        {"ID": "5", **won}]})
    write(tmp_path, "sell_stages", sell_items("stage", [{"id": 1, "category": "won"}]))
    write(tmp_path, "sell_contacts", sell_items("contact", [{"id": 5, "email": "ann@example.com"}]))
    write(tmp_path, "sell_deals", sell_items("deal", [
        {"id": 1, "contact_id": 5, "value": 10, "currency": "USD", "stage_id": 1},
        {"id": 2, "contact_id": None, "value": 10, "currency": "USD", "stage_id": 1}]))
    for kind in ("bitrix24", "sell"):
        (ann,) = load_crm(tmp_path, kind).contacts("ann@example.com")
        assert [p.id for p in ann.purchases] == ["1"]
    sandbox = CrmData.load(tmp_path)
    assert list(sandbox.bitrix_deals) == ["3"] and list(sandbox.sell_deals) == ["5"]
    assert len(sandbox.all_bitrix_deals) == 5 and len(sandbox.all_sell_deals) == 2
