"""The account overview and tier overrides through HTTP: stored values refreshed by the
worker's job, ranked, filtered, sorted, paged and exported; pins with a reason and an expiry
that the sidebar's JSON and the tagger obey, ending by themselves, each step kept with who."""

import csv
import io
import time
from datetime import timedelta
from functools import partial

import pytest

from integrations.zendesk import TicketFact, UserFact
from plugin.core.domain import Organization
from plugin.core.tagging import decide_for
from plugin.service_layer import services as services_module
from plugin.service_layer.jobs import keep_overviews
from plugin.service_layer.services import STAMP_SECONDS
from plugin.storage.changes import ChangeStore
from plugin.storage.overview import Filters, OverviewStore
from tests import tokens
from tests.factories import NOW, profile, rating, ticket
from tests.fakes import FakeZendesk
from tests.tokens import ACME_TOKEN, APP_ID, INSTALLATION

session = partial(tokens.session, now=NOW)
zendesk_token = partial(tokens.zendesk_token, now=NOW)
BASE = "https://acme.zendesk.com"
ACME = Organization(id=500, name="Acme Corp", tags=("enterprise",))


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake():
    return FakeZendesk()


@pytest.fixture
def app(make_app, database_url, keys, clock, fake):
    app = make_app({"DATABASE_URL": database_url,
                    "ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com",
                    "ZENDESK_API_TOKEN": ACME_TOKEN, "ZENDESK_APP_ID": str(APP_ID),
                    "ZENDESK_INSTALLATION_ID": str(INSTALLATION)},
                   fetch_key=lambda url: keys[1], client_factory=lambda config: fake,
                   clock=clock)
    store = app.extensions["customer_value"].store(BASE)
    users = [UserFact(profile(id=i, name=f"Customer {i:02d}", joined_days_ago=400,
                              organization=ACME if i % 2 else None), ACME.id if i % 2 else None,
                      NOW) for i in range(1, 31)]
    tickets = []
    for i in range(1, 31):
        good = i <= 10  # 1-10 happy, 11-20 mixed, 21-30 unhappy and waiting
        for n in range(4 if i <= 20 else 6):
            tid = i * 100 + n
            recent = i > 20 and n >= 3  # the unhappy ones turned bad this month
            tickets.append(TicketFact(i, ticket(
                tid, days=5 + n if recent else 60 + 10 * n,
                status="open" if i > 25 and n == 5 else "closed",
                priority="urgent" if i > 20 else "normal",
                satisfaction=rating(good or (i <= 20 and n % 2 == 0),
                                    days=5 + n if recent else 55 + 10 * n)), NOW))
    store.save_page("users", users_=users, now=NOW)
    store.save_page("organizations", organizations_=[ACME], now=NOW)
    store.save_page("tickets", tickets_=tickets, now=NOW)
    return app


def lead():
    return session("acme", 125, role="team_lead")


def agent():
    return session("acme", 123, role="agent")


def refreshed(app):
    keep_overviews(app.extensions["customer_value"])


def test_the_nav_bar_gives_admins_settings_leads_and_agents_the_overview(app, keys):
    client = app.test_client()
    for user, page in (("124", "Customer Value settings"), ("125", "Customer Value overview"),
                       ("123", "Customer Value overview")):
        answer = client.post("/settings", data={"token": zendesk_token(keys[0], sub=user)})
        assert answer.status_code == 200 and page in answer.get_data(as_text=True)
    agent_page = client.post("/settings", data={"token": zendesk_token(keys[0], sub="123")})
    assert "Pin tier" not in agent_page.get_data(as_text=True)
    end_user = client.post("/settings", data={"token": zendesk_token(keys[0], sub="126")})
    assert end_user.status_code == 403


def test_the_tab_bar_carries_the_session_between_the_pages(app):
    client = app.test_client()
    token = session("acme", 124, role="admin")["Authorization"].split()[1]
    overview = client.post("/overview", data={"app_session": token})
    assert overview.status_code == 200 and 'aria-current="page">Overview' in overview.text
    settings = client.post("/settings", data={"app_session": token})
    assert settings.status_code == 200 and "Customer Value settings" in settings.text
    lead_token = lead()["Authorization"].split()[1]
    assert client.post("/settings", data={"app_session": lead_token}).status_code == 403
    assert client.post("/overview", data={"app_session": "forged"}).status_code == 401


def test_values_come_from_the_refreshed_table_ranked_filtered_and_paged(app):
    client = app.test_client()
    empty = client.get("/api/overview/customers", headers=agent()).get_json()
    assert empty["total"] == 0  # nothing is scored on a request
    refreshed(app)
    first = client.get("/api/overview/customers?per_page=10", headers=agent()).get_json()
    assert first["total"] == 30 and len(first["customers"]) == 10
    values = [c["value"] for c in first["customers"]]
    assert values == sorted(values, reverse=True)
    second = client.get("/api/overview/customers?per_page=10&page=2", headers=agent()).get_json()
    assert not {c["user_id"] for c in first["customers"]} & {
        c["user_id"] for c in second["customers"]}
    assert second["customers"][0]["value"] <= values[-1]
    assert first["customers"][0]["zendesk_url"].startswith(f"{BASE}/agent/users/")

    lowest = client.get("/api/overview/customers?order=asc&per_page=5", headers=agent())
    assert lowest.get_json()["customers"][0]["value"] == min(
        c["value"] for c in client.get("/api/overview/customers?per_page=50",
                                       headers=agent()).get_json()["customers"])
    found = client.get("/api/overview/customers?q=customer 07", headers=agent()).get_json()
    assert [c["name"] for c in found["customers"]] == ["Customer 07"]
    by_org = client.get("/api/overview/customers?organization=Acme Corp&per_page=50",
                        headers=agent()).get_json()
    assert by_org["total"] == 15 and all(c["organization"] == "Acme Corp"
                                         for c in by_org["customers"])
    at_risk = client.get("/api/overview/customers?at_risk=1&per_page=50",
                         headers=agent()).get_json()
    assert {c["user_id"] for c in at_risk["customers"]} >= set(range(21, 31))
    assert all(c["risks"] for c in at_risk["customers"])
    high = client.get("/api/overview/customers?tier=high&per_page=50", headers=agent())
    assert all(c["tier"] == "high" for c in high.get_json()["customers"])
    assert client.get("/api/overview/customers?tier=gold", headers=agent()).status_code == 400


def test_movers_and_shares_come_from_point_in_time_scores(app):
    refreshed(app)
    summary = app.test_client().get("/api/overview", headers=agent()).get_json()
    assert sum(summary["tiers"].values()) == 30
    assert len(summary["shares"]) >= 13 and "<polyline" in summary["shares_svg"]
    assert summary["drops"], "the customers who went quiet this month dropped"
    # Customers 1-20 wrote every 10 days and have been silent for 60 (30 a month ago): going
    # quiet moved them most, and each drop says so, measured at both moments.
    for drop in summary["drops"]:
        assert drop["user_id"] <= 20 and drop["moved"][0]["label"] == "Gone quiet"
        assert drop["change_30d"] == round(drop["value"] - drop["value_30d"], 1) < 0
    assert summary["choices"]["organizations"] == ["Acme Corp"]


def test_csv_exports_the_filtered_view_and_defuses_formulas(app):
    store = app.extensions["customer_value"].store(BASE)
    store.save_page("users", users_=[UserFact(profile(id=31, name="=HYPERLINK(1)"), None, NOW)],
                    now=NOW)
    refreshed(app)
    answer = app.test_client().get("/api/overview/customers.csv?organization=Acme Corp",
                                   headers=agent())
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 15 and {r["organization"] for r in rows} == {"Acme Corp"}
    everyone = app.test_client().get("/api/overview/customers.csv?q=hyperlink",
                                     headers=agent()).get_data(as_text=True)
    assert "'=HYPERLINK(1)" in everyone


def test_an_override_is_shown_obeyed_kept_and_ends_by_itself(app, clock, fake):
    client = app.test_client()
    services = app.extensions["customer_value"]
    config = services.config_for(BASE)
    fake.requested_tickets = lambda user_id, updated_since=None: []
    before = services.value(config, 25).result.value
    assert before.tier != "high" and before.override is None

    refused = client.post("/api/overrides", headers=agent(), json={})
    assert refused.status_code == 403
    bad = client.post("/api/overrides", headers=lead(), json={
        "subject": "user", "subject_id": 25, "tier": "gold", "reason": " ",
        "expires_at": (NOW - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"tier", "reason", "expires_at"}

    pinned = client.post("/api/overrides", headers=lead(), json={
        "subject": "user", "subject_id": 25, "tier": "high",
        "reason": "Renewal under negotiation", "expires_at": (NOW + timedelta(days=7)).isoformat()})
    assert pinned.status_code == 201
    body = client.get("/api/customers/25/value", headers=session("acme", 123)).get_json()
    assert body["tier"] == "high"
    assert body["override"]["reason"] == "Renewal under negotiation"
    assert body["override"]["model_tier"] == before.tier
    assert body["override"]["pinned_by"] == "Staff 125"
    shown = session("acme", 123)
    pin = client.get("/api/customers/25/glance?locale=en", headers=shown).get_json()["pin"]
    assert pin.startswith("Pinned High value by Staff 125 until ") and \
        "“Renewal under negotiation”" in pin and pin.endswith(f"(the model says "
                                                             f"{before.tier.capitalize()} value)")
    german = client.get("/api/customers/25/glance?locale=de", headers=shown).get_json()["pin"]
    assert german.startswith("Hoher Wert festgelegt von Staff 125 bis ")
    value = services.value(config, 25).result.value
    settings = services.settings_for(services.store(BASE))
    decision = decide_for(value, ("cv_low",), settings)
    assert (decision.add, decision.remove) == (("cv_high",), ("cv_low",))

    changed = client.post("/api/overrides", headers=lead(), json={
        "subject": "user", "subject_id": 25, "tier": "medium", "reason": "Signed, watch it",
        "expires_at": (NOW + timedelta(days=3)).isoformat()})
    assert changed.get_json()["override"]["id"] == pinned.get_json()["override"]["id"]
    assert client.get("/api/customers/25/value", headers=agent()).get_json()["tier"] == "medium"

    clock.now = NOW + timedelta(days=4)
    keep_overviews(services)  # the worker's periodic job
    later = tokens.session("acme", 123, role="agent", now=clock.now)
    after = client.get("/api/customers/25/value", headers=later).get_json()
    assert after["override"] is None and after["tier"] == before.tier
    assert client.get("/api/customers/25/glance", headers=later).get_json()["pin"] is None
    listing = client.get("/api/overrides", headers=later).get_json()
    assert listing["overrides"] == []
    assert [(e["action"], e["by"]) for e in listing["events"]] == [
        ("expire", "expired"), ("change", "Staff 125"), ("pin", "Staff 125")]


def test_an_organization_pin_applies_to_its_people_until_ended(app):
    client = app.test_client()
    pinned = client.post("/api/overrides", headers=lead(), json={
        "subject": "organization", "subject_id": ACME.id, "tier": "high",
        "reason": "Strategic account", "expires_at": (NOW + timedelta(days=30)).isoformat()})
    assert pinned.status_code == 201
    refreshed(app)
    rows = client.get("/api/overview/customers?organization=Acme Corp&per_page=50",
                      headers=agent()).get_json()["customers"]
    assert all(r["tier"] == "high" and r["pinned"] for r in rows)
    ended = client.delete(f"/api/overrides/{pinned.get_json()['override']['id']}",
                          headers=lead())
    assert ended.status_code == 200
    assert client.delete(f"/api/overrides/{pinned.get_json()['override']['id']}",
                         headers=lead()).status_code == 404
    events = client.get("/api/overrides", headers=agent()).get_json()["events"]
    assert [e["action"] for e in events] == ["end", "pin"]


def test_another_account_sees_nothing_of_this_one(app):
    refreshed(app)
    other = session("globex", 124, role="admin")
    assert app.test_client().get("/api/overview/customers", headers=other).status_code == 403


def test_a_pin_made_by_one_process_shows_at_once_in_another(app, make_app, database_url,
                                                             keys, clock, fake):
    """Two app processes on one database (the web's and the worker's Services): a value the
    worker has cached follows a pin and its end made through the web at once, not when its
    cache entry ages out."""
    worker = make_app({"DATABASE_URL": database_url, "ZENDESK_SUBDOMAIN": "acme",
                       "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": ACME_TOKEN},
                      client_factory=lambda config: fake, clock=clock)
    services = worker.extensions["customer_value"]
    assert services is not app.extensions["customer_value"]
    config = services.config_for(BASE)
    fake.requested_tickets = lambda user_id, updated_since=None: []
    before = services.value(config, 25, mode="background").result.value
    assert before.tier != "high" and services.value(config, 25).result.value is before

    client = app.test_client()
    pinned = client.post("/api/overrides", headers=lead(), json={
        "subject": "user", "subject_id": 25, "tier": "high", "reason": "Renewal",
        "expires_at": (NOW + timedelta(days=7)).isoformat()})
    assert pinned.status_code == 201
    assert services.value(config, 25, mode="background").result.value.tier == "high"
    assert client.delete(f"/api/overrides/{pinned.get_json()['override']['id']}",
                         headers=lead()).status_code == 200
    assert services.value(config, 25, mode="background").result.value.tier == before.tier


def test_an_agents_read_follows_another_process_pin_within_a_second(
        app, make_app, database_url, clock, fake, monkeypatch):
    """An agent's read in another process reuses the account's overrides stamp for at most
    STAMP_SECONDS (one database read a second, not one a request), then shows the pin; a
    pin made through its own process shows at once."""
    worker = make_app({"DATABASE_URL": database_url, "ZENDESK_SUBDOMAIN": "acme",
                       "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": ACME_TOKEN},
                      client_factory=lambda config: fake, clock=clock)
    services = worker.extensions["customer_value"]
    config = services.config_for(BASE)
    fake.requested_tickets = lambda user_id, updated_since=None: []
    before = services.value(config, 25).result.value
    assert before.tier != "high"

    pinned = app.test_client().post("/api/overrides", headers=lead(), json={
        "subject": "user", "subject_id": 25, "tier": "high", "reason": "Renewal",
        "expires_at": (NOW + timedelta(days=7)).isoformat()})
    assert pinned.status_code == 201
    assert services.value(config, 25).result.value is before
    later = time.monotonic() + STAMP_SECONDS
    monkeypatch.setattr(services_module.time, "monotonic", lambda: later)
    assert services.value(config, 25).result.value.tier == "high"

    store = services.store(BASE)
    services.overrides(store).end(pinned.get_json()["override"]["id"], actor_id=1,
                                  actor_name="Ada Lead", now=clock())
    assert services.value(config, 25).result.value.tier == before.tier


def test_between_daily_refreshes_only_the_changed_customers_are_scored_again(app, clock):
    """After a full refresh, the worker's next runs score only the customers a sync page or a
    pin changed; a settings change or a day brings the full refresh back."""
    services = app.extensions["customer_value"]
    store = services.store(BASE)
    overview = OverviewStore(services.engine, store.account)
    refreshed(app)
    first = {r.user_id: r for r in overview.each(Filters())}
    assert len(first) == 30

    clock.now = NOW + timedelta(hours=1)
    refreshed(app)  # nothing changed: nobody is scored again
    assert {r.user_id: r.refreshed_at for r in overview.each(Filters())} == {
        u: r.refreshed_at for u, r in first.items()}

    unhappy = [TicketFact(3, ticket(9000 + n, days=1 + n, priority="urgent",
                                    satisfaction=rating(False, days=1)), clock.now)
               for n in range(4)]
    store.save_page("tickets", tickets_=unhappy, now=clock.now)
    services.overrides(store).pin("user", 12, tier="high", reason="Key account",
                                  expires_at=clock.now + timedelta(days=5), actor_id=125,
                                  actor_name="Ada Lead", now=clock.now)
    clock.now = NOW + timedelta(hours=2)
    refreshed(app)
    now = {r.user_id: r for r in overview.each(Filters())}
    moved = {u for u in now if now[u].refreshed_at != first[u].refreshed_at}
    assert moved == {3, 12}
    assert now[3].value < first[3].value and now[12].tier == "high" and now[12].pinned
    assert ChangeStore(services.engine, store.account).pending(10) == []

    services.versions(store).save({"weights": {"ticket_volume": 60}}, author_id=124,
                                  now=clock.now)
    services.settings_saved(store)
    clock.now = NOW + timedelta(hours=3)
    refreshed(app)
    assert {r.refreshed_at for r in overview.each(Filters())} == {clock.now}, \
        "new settings: everyone is scored again"
    clock.now = NOW + timedelta(days=1, hours=3)
    refreshed(app)
    assert {r.refreshed_at for r in overview.each(Filters())} == {clock.now}, "the daily pass"
