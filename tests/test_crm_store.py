"""CRM deals in the history store: saved page by page, read back by the customer's email with
the same rules as a live lookup (one contact counts, several are flagged), scoped by account
and by CRM; the CRM sync is resumable and incremental; the clients' bulk listings ask each CRM
for what changed (Sell newest first, Bitrix24 `>DATE_MODIFY`), through `responses`."""

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import responses
from responses import matchers

from integrations.bitrix24 import Bitrix24Client, Bitrix24Config
from integrations.records.crm import ContactFact, CrmPage, DealFact
from integrations.sell import SellClient, SellConfig
from integrations.zendesk import RatingFact, TicketFact, UserFact
from plugin.core.domain import Organization, Purchase
from plugin.core.model import account_cutoffs, score
from plugin.core.settings import Settings
from plugin.service_layer.crm_sync import OVERLAP, sync_crm
from plugin.storage.changes import ChangeStore
from plugin.storage.history import HistoryStore, crm_stream
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from tests.factories import NOW, profile, rating, ticket

SELL = Settings(spend_source="sell")
BITRIX = Settings(spend_source="bitrix24")


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = connect(database_url)
    yield engine
    engine.dispose()


def store_for(engine, key="https://acme.zendesk.com") -> HistoryStore:
    store = HistoryStore(engine, account_id(engine, key, NOW))
    for user_id, email in ((1, "ann@example.com"), (2, "bo@example.com"), (3, None)):
        person = replace(profile(id=user_id), email=email)
        store.save_page("users", users_=[UserFact(person, None, NOW)], now=NOW)
        store.save_page("tickets", tickets_=[TicketFact(user_id, ticket(user_id * 10), NOW)],
                        now=NOW)
    return store


def won(deal_id, contact, amount, days_ago=30, modified=NOW):
    return DealFact(str(deal_id), contact, Purchase(float(amount), "USD", True,
                                                    NOW - timedelta(days=days_ago), str(deal_id)),
                    modified)


def finish(store, source="sell"):
    store.save_page(crm_stream(source), synced_through=NOW, now=NOW)


def test_stored_deals_count_once_synced_and_by_the_live_lookups_rules(engine):
    store = store_for(engine)
    store.save_crm_page("sell_contacts", "sell", contacts=[
        ContactFact("7", ("ann@example.com",)), ContactFact("8", ("bo@example.com",)),
        ContactFact("9", ("bo@example.com",))], cursor=None, synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=[
        won(1, "7", 4000), won(2, "7", 500), DealFact("3", "7", None, NOW),
        won(4, "8", 900), won(5, "9", 100)], cursor=None, synced_through=NOW, now=NOW)
    assert store.history(1, SELL).purchases == (), "not used before a complete sync"
    finish(store)
    ann = store.history(1, SELL)
    assert sorted(p.amount for p in ann.purchases) == [500.0, 4000.0] and ann.notices == ()
    assert score(ann, SELL, NOW).value > score(store.history(1), SELL, NOW).value
    bo = store.history(2, SELL)
    assert bo.purchases == ()
    assert bo.notices[0].startswith("2 CRM contacts match bo@example.com in Zendesk Sell")
    assert store.history(3, SELL).notices == ("No email to look up in Zendesk Sell",)
    assert store.history(1, Settings()).purchases == store.history(1).purchases == ()
    assert store.history(1, BITRIX).purchases == (), "another CRM's deals are not used"
    assert store.crm_deals("sell").synced_at == "2025-06-01T12:00:00Z"


def test_a_deal_reopened_or_moved_and_a_changed_email_are_followed(engine):
    store = store_for(engine)
    store.save_crm_page("sell_contacts", "sell", contacts=[ContactFact("7", ("ann@example.com",))],
                        cursor=None, synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=[won(1, "7", 4000), won(2, "7", 10)],
                        cursor=None, synced_through=NOW, now=NOW)
    finish(store)
    store.save_crm_page("sell_deals", "sell", deals=[DealFact("1", "7", None, NOW)],
                        cursor=None, synced_through=NOW, now=NOW)
    assert [p.amount for p in store.history(1, SELL).purchases] == [10.0]
    store.save_crm_page("sell_contacts", "sell", contacts=[ContactFact("7", ("bo@example.com",))],
                        cursor=None, synced_through=NOW, now=NOW)
    assert store.history(1, SELL).purchases == ()
    assert [p.amount for p in store.history(2, SELL).purchases] == [10.0]


def test_one_accounts_deals_are_never_another_accounts(engine):
    acme, globex = store_for(engine), store_for(engine, "https://globex.zendesk.com")
    acme.save_crm_page("sell_contacts", "sell", contacts=[ContactFact("7", ("ann@example.com",))],
                       cursor=None, synced_through=NOW, now=NOW)
    acme.save_crm_page("sell_deals", "sell", deals=[won(1, "7", 4000)], cursor=None,
                       synced_through=NOW, now=NOW)
    finish(acme)
    finish(globex)
    assert len(acme.history(1, SELL).purchases) == 1
    assert globex.history(1, SELL).purchases == ()
    assert globex.counts()["crm_deals"] == 0 and acme.counts()["crm_deals"] == 1


def test_percentile_cutoffs_rank_customers_with_their_stored_spend(engine):
    store = store_for(engine)
    settings = Settings.from_dict({"spend_source": "sell", "tiers": {
        "mode": "percentile", "high": 80, "low": 20}})
    without = account_cutoffs(store.histories(settings), settings, NOW)
    store.save_crm_page("sell_contacts", "sell", contacts=[ContactFact("7", ("ann@example.com",))],
                        cursor=None, synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=[won(i, "7", 9000) for i in range(8)],
                        cursor=None, synced_through=NOW, now=NOW)
    finish(store)
    assert account_cutoffs(store.histories(settings), settings, NOW) != without


class FakeExport:
    """A CRM's bulk listings from lists of pages; `fail_after` pages raise, as a dropped run."""

    kind = "bitrix24"

    def __init__(self, contacts, deals):
        self.pages = {"contacts": contacts, "deals": deals}
        self.asked: list[tuple[str, int, datetime | None]] = []
        self.fail_after: int | None = None

    def _listing(self, what, position, since):
        self.asked.append((what, position, since))
        for index in range(position // 50, len(self.pages[what])):
            if self.fail_after is not None:
                if self.fail_after == 0:
                    raise KeyboardInterrupt
                self.fail_after -= 1
            following = (index + 1) * 50 if index + 1 < len(self.pages[what]) else None
            yield CrmPage(self.pages[what][index], following)

    def contact_pages(self, position=0, since=None):
        return self._listing("contacts", position, since)

    def deal_pages(self, position=0, since=None):
        return self._listing("deals", position, since)


def counted(stream, pages):
    yield from pages


def test_the_crm_sync_resumes_where_it_stopped_then_asks_only_for_changes(engine):
    store = store_for(engine)
    earlier, later = NOW - timedelta(days=3), NOW - timedelta(days=1)
    crm = FakeExport(
        contacts=[[ContactFact("7", ("ann@example.com",), earlier)],
                  [ContactFact("8", ("bo@example.com",), later)]],
        deals=[[won(1, "7", 100, modified=earlier)], [won(2, "8", 50, modified=later)],
               [won(3, "8", 25, modified=earlier)]])
    crm.fail_after = 3
    with pytest.raises(KeyboardInterrupt):
        sync_crm(crm, store, clock=lambda: NOW, pages=counted)
    assert store.crm_deals("bitrix24") is None
    assert json.loads(store.state("bitrix24_deals").cursor)["next"] == 50
    crm.fail_after = None
    sync_crm(crm, store, clock=lambda: NOW, pages=counted)
    assert crm.asked[-1] == ("deals", 50, None), "resumed at the second deals page"
    assert sorted(p.amount for p in store.history(2, BITRIX).purchases) == [25.0, 50.0]
    assert store.state("bitrix24_deals").synced_through == later
    crm.asked.clear()
    sync_crm(crm, store, clock=lambda: NOW, pages=counted)
    assert crm.asked == [("contacts", 0, later - OVERLAP), ("deals", 0, later - OVERLAP)]


# --- the clients' bulk listings -------------------------------------------------------------

SELL_URL = "https://api.getbase.com"
HOOK = "https://acme.bitrix24.com/rest/1/hooksecret123/"


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


def sell_body(kind, records, more):
    links = {"next_page": f"{SELL_URL}/v2/{kind}s?page=9"} if more else {}
    return {"items": [{"data": r, "meta": {"type": kind}} for r in records],
            "meta": {"type": "collection", "count": len(records), "links": links}}


def sell_contact(contact_id, updated):
    return {"id": contact_id, "email": f"c{contact_id}@example.com",
            "updated_at": updated.isoformat().replace("+00:00", "Z")}


def test_sell_lists_newest_first_and_stops_at_the_page_reaching_back_past_since(http):
    for page, ids in ((1, (5, 4)), (2, (3, 2))):
        http.get(f"{SELL_URL}/v2/contacts", json=sell_body("contact", [
            sell_contact(i, NOW - timedelta(days=10 - i)) for i in ids], True), match=[
            matchers.query_param_matcher({"sort_by": "updated_at:desc", "page": str(page),
                                          "per_page": "100"})])
    client = SellClient.connect(SellConfig(token="t"), rng=random.Random(1))
    pages = list(client.contact_pages(since=NOW - timedelta(days=7)))
    assert [[c.id for c in p.items] for p in pages] == [["5", "4"], ["3", "2"]]
    assert [p.next for p in pages] == [2, None] and len(http.calls) == 2
    assert pages[0].items[0].emails == ("c5@example.com",)


def test_bitrix_lists_what_changed_since_in_id_order_from_an_offset(http):
    since = datetime(2025, 5, 30, tzinfo=UTC)
    http.post(f"{HOOK}crm.deal.list.json", json={
        "result": [{"ID": "51", "CONTACT_ID": "3", "OPPORTUNITY": "10.00", "CURRENCY_ID": "EUR",
                    "STAGE_SEMANTIC_ID": "S", "CLOSEDATE": "2025-05-31T10:00:00+03:00",
                    "DATE_MODIFY": "2025-05-31T10:00:00+03:00"},
                   {"ID": "52", "CONTACT_ID": "3", "OPPORTUNITY": "5.00",
                    "STAGE_SEMANTIC_ID": "P", "DATE_MODIFY": "2025-05-31T11:00:00+03:00"},
                   {"ID": "53", "OPPORTUNITY": "bad", "STAGE_SEMANTIC_ID": "S"}],
        "total": 53}, match=[matchers.json_params_matcher({
            "filter": {">DATE_MODIFY": "2025-05-30T00:00:00+00:00"},
            "order": {"ID": "ASC"}, "start": 50}, strict_match=False)])
    client = Bitrix24Client.connect(Bitrix24Config(HOOK), rng=random.Random(1))
    (page,) = client.deal_pages(50, since)
    assert [(d.id, d.contact_id, d.purchase and d.purchase.amount) for d in page.items] == [
        ("51", "3", 10.0), ("52", "3", None)]
    assert page.next is None and page.skipped == 1
    assert "DATE_MODIFY" in json.loads(http.calls[0].request.body)["select"]


def test_the_settings_preview_samples_customers_with_their_stored_deals(engine):
    from plugin.web.admin import _sample

    store = store_for(engine)
    store.save_crm_page("sell_contacts", "sell", contacts=[
        ContactFact("7", ("ann@example.com",))], cursor=None, synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=[won(1, "7", 4000)], cursor=None,
                        synced_through=NOW, now=NOW)
    finish(store)
    [ann] = [h for h in _sample(store, SELL) if h.profile.id == 1]
    assert [p.amount for p in ann.purchases] == [4000.0]
    [plain] = [h for h in _sample(store, Settings()) if h.profile.id == 1]
    assert plain.purchases == ()


def test_whole_account_listings_have_no_page_cap(http, monkeypatch):
    import integrations.bitrix24
    import integrations.sell

    monkeypatch.setattr(integrations.sell, "MAX_PAGES", 2)
    monkeypatch.setattr(integrations.bitrix24, "MAX_PAGES", 2)
    for page in (1, 2, 3):
        http.get(f"{SELL_URL}/v2/contacts", json=sell_body("contact", [
            sell_contact(10 - page, NOW)], page < 3), match=[
            matchers.query_param_matcher({"sort_by": "updated_at:desc", "page": str(page),
                                          "per_page": "100"})])
    sell = SellClient.connect(SellConfig(token="t"), rng=random.Random(1))
    assert [p.items[0].id for p in sell.contact_pages()] == ["9", "8", "7"]
    for start in (0, 50, 100):
        http.post(f"{HOOK}crm.contact.list.json", json={
            "result": [{"ID": str(start + 1), "EMAIL": []}], "total": 101,
            **({"next": start + 50} if start < 100 else {})}, match=[
            matchers.json_params_matcher({"start": start}, strict_match=False)])
    bitrix = Bitrix24Client.connect(Bitrix24Config(HOOK), rng=random.Random(1))
    assert [p.items[0].id for p in bitrix.contact_pages()] == ["1", "51", "101"]


def test_a_sell_listing_that_repeats_its_page_stops_with_an_error(http):
    from integrations.errors import BadResponse

    http.get(f"{SELL_URL}/v2/contacts", json=sell_body("contact", [sell_contact(5, NOW)], True))
    sell = SellClient.connect(SellConfig(token="t"), rng=random.Random(1))
    with pytest.raises(BadResponse, match="as the page before"):
        list(sell.contact_pages())
    assert len(http.calls) == 2


def test_the_lifetime_model_is_fitted_from_the_stores_deals_behind_the_gate(engine):
    from plugin.service_layer.lifetime import fit_lifetime

    store = HistoryStore(engine, account_id(engine, "https://acme.zendesk.com", NOW))
    rng = random.Random(4)
    contacts, deals = [], []
    for user_id in range(1, 131):
        email = f"buyer{user_id}@example.com"
        store.save_page("users", users_=[UserFact(replace(profile(id=user_id), email=email),
                                                  None, NOW)], now=NOW)
        contacts.append(ContactFact(str(user_id), (email,)))
        for k in range(rng.randint(1, 5)):
            deals.append(won(f"{user_id}-{k}", str(user_id), rng.randint(50, 900),
                             days_ago=rng.randint(1, 500)))
    model, verdict = fit_lifetime(store.histories(SELL), SELL, NOW)
    assert model is None and verdict.customers == 0, "no CRM sync yet: no purchases"
    store.save_crm_page("sell_contacts", "sell", contacts=contacts, cursor=None,
                        synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=deals, cursor=None, synced_through=NOW,
                        now=NOW)
    finish(store)
    model, verdict = fit_lifetime(store.histories(SELL), SELL, NOW)
    assert verdict.ok, verdict.reason
    assert model.customers == 130 and model.repeat_customers >= 100
    earlier, gate = fit_lifetime(store.histories(SELL), SELL, NOW - timedelta(days=400))
    assert earlier is None and not gate.ok, "a year earlier the store knew too few buyers"


def test_customers_read_in_batches_are_the_customers_read_one_by_one(engine, monkeypatch):
    store = store_for(engine)
    for user_id in range(4, 12):
        person = replace(profile(id=user_id), email=f"p{user_id % 5}@example.com")
        store.save_page("users", users_=[UserFact(person, None, NOW)], now=NOW)
        store.save_page("tickets", tickets_=[TicketFact(user_id, ticket(user_id * 10 + n), NOW)
                                             for n in range(user_id % 4)], now=NOW)
    store.save_crm_page("sell_contacts", "sell", contacts=[
        ContactFact(str(c), (f"p{c % 5}@example.com",)) for c in range(20, 27)]
        + [ContactFact("7", ("ann@example.com",))], cursor=None, synced_through=NOW, now=NOW)
    store.save_crm_page("sell_deals", "sell", deals=[
        won(d, str(20 + d % 8), 100 + d, days_ago=d) for d in range(30)] + [won(99, "7", 5)],
        cursor=None, synced_through=NOW, now=NOW)
    finish(store)
    one_by_one = [store.history(user_id, SELL) for user_id in store.user_ids()]
    monkeypatch.setattr("plugin.storage.history.ID_CHUNK", 2)
    monkeypatch.setattr("plugin.storage.history.HISTORY_BATCH", 3)
    assert list(store.histories(SELL)) == one_by_one
    assert sum(len(h.tickets) for h in one_by_one) == 3 + sum(n % 4 for n in range(4, 12))
    assert {len(h.purchases) for h in one_by_one} > {0}, "some customers have one contact"
    assert any(h.notices for h in one_by_one), "some have several"
    assert store.histories_of([5, 99, 4], SELL) == [one_by_one[4], one_by_one[3]]


def test_every_write_marks_the_customers_it_changed(engine):
    """The overview's incremental refresh scores the customers marked here: a user, their
    ticket, a rating of it, their organization, a CRM contact's address and its deals."""
    store = store_for(engine)
    marks = ChangeStore(engine, store.account)

    def marked() -> set[int]:
        found = marks.pending(100)
        marks.clear(found)
        return {user_id for user_id, _ in found}

    assert marked() == {1, 2, 3}, "the users and tickets saved by store_for"
    store.save_page("ratings", ratings_=[RatingFact(20, rating(False))], now=NOW)
    assert marked() == {2}
    store.save_page("users", users_=[UserFact(replace(profile(id=3), email=None), 77, NOW)],
                    now=NOW)
    marked()
    store.save_page("organizations", organizations_=[Organization(77, "Acme")], now=NOW)
    assert marked() == {3}
    store.save_crm_page("sell_contacts", "sell", contacts=[
        ContactFact("7", ("ann@example.com",))], cursor=None, synced_through=NOW, now=NOW)
    assert marked() == {1}
    store.save_crm_page("sell_deals", "sell", deals=[won(1, "7", 4000)], cursor=None,
                        synced_through=NOW, now=NOW)
    assert marked() == {1}
    store.save_crm_page("sell_contacts", "sell", contacts=[
        ContactFact("7", ("bo@example.com",))], cursor=None, synced_through=NOW, now=NOW)
    assert marked() == {1, 2}, "the contact's old and new address"
    store.save_page("tickets", deleted_tickets=[20], now=NOW)
    assert marked() == {2}
