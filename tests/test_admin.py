"""The settings page and its API: admins only (by Zendesk's word), every bad value named and
nothing saved, a preview before saving, versions with diff and rollback."""

from functools import partial

import pytest
from sqlalchemy import text

from integrations.zendesk import TicketFact, UserFact
from plugin.core.preview import preview
from plugin.core.settings import Settings
from tests import tokens
from tests.factories import NOW, profile, rating, ticket
from tests.fakes import FakeZendesk
from tests.tokens import ACME_TOKEN, APP_ID, INSTALLATION

session = partial(tokens.session, now=NOW)
zendesk_token = partial(tokens.zendesk_token, now=NOW)
"""Sessions and Zendesk's signed loads issued at the app's clock."""
ADMIN = {"Authorization": session("acme", 1)["Authorization"]}


@pytest.fixture
def app(make_app, database_url, keys):
    app = make_app({"DATABASE_URL": database_url,
                    "ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com",
                    "ZENDESK_API_TOKEN": ACME_TOKEN, "ZENDESK_APP_ID": str(APP_ID),
                    "ZENDESK_INSTALLATION_ID": str(INSTALLATION)},
                   fetch_key=lambda url: keys[1], client_factory=lambda config: FakeZendesk(),
                   clock=lambda: NOW)
    services = app.extensions["customer_value"]
    store = services.store("https://acme.zendesk.com")
    users = [UserFact(profile(id=i, name=f"Customer {i}"), None, NOW) for i in range(1, 21)]
    tickets = [TicketFact(i % 20 + 1, ticket(i, days=i, priority="urgent" if i % 3 else "low",
                                              satisfaction=rating(i % 4 != 0)), NOW)
               for i in range(1, 101)]
    store.save_page("users", users_=users, now=NOW)
    store.save_page("tickets", tickets_=tickets, now=NOW)
    return app


def admin_session():
    return session("acme", 124, role="admin")


def test_zendesk_admins_get_the_page_agents_the_overview(app, keys):  # noqa: F811
    client = app.test_client()
    agent = client.post("/settings", data={"token": zendesk_token(keys[0], sub="123")})
    assert agent.status_code == 200
    assert "Customer Value overview" in agent.get_data(as_text=True)
    assert "Customer Value settings" not in agent.get_data(as_text=True)
    end_user = client.post("/settings", data={"token": zendesk_token(keys[0], sub="126")})
    assert end_user.status_code == 403 and "Only Zendesk admins" in end_user.text
    admin = client.post("/settings", data={"token": zendesk_token(keys[0], sub="124")})
    assert admin.status_code == 200 and "Customer Value settings" in admin.get_data(as_text=True)


def test_the_api_refuses_agent_sessions(app):
    client = app.test_client()
    assert client.get("/api/settings", headers=session("acme", 123)).status_code == 403
    assert client.put("/api/settings", headers=session("acme", 123),
                      json={"settings": {}}).status_code == 403
    assert client.get("/api/settings").status_code == 401


@pytest.mark.parametrize(("settings", "field", "message"), [
    ({"weights": {"tenure": 150}}, "weights.tenure", "must be between 0 and 100"),
    ({"tiers": {"high": -20, "low": 10}}, "tiers.low", "must be below the high threshold"),
    ({"currency": "euro"}, "currency", "three-letter ISO 4217"),
    ({"community_link": "http://x.example"}, "community_link", "https://"),
    ({"suggestions": {"personalise": {"text": "Hi {nick}"}}}, "suggestions.personalise.text",
     "unknown placeholder {nick}"),
])
def test_an_invalid_save_names_the_field_and_changes_nothing(app, settings, field, message):
    client = app.test_client()
    answer = client.put("/api/settings", headers=admin_session(), json={"settings": settings})
    assert answer.status_code == 422
    assert message in answer.get_json()["error"]["fields"][field]
    assert client.get("/api/settings", headers=admin_session()).get_json()["versions"] == []


def test_save_versions_diff_and_rollback(app):
    client = app.test_client()
    first = client.put("/api/settings", headers=admin_session(),
                       json={"settings": {"weights": {"tenure": 40}}, "note": "tenure matters"})
    assert first.status_code == 200 and first.get_json()["version"] == 2
    second = client.put("/api/settings", headers=admin_session(),
                        json={"settings": {"weights": {"tenure": 40}, "half_life_days": 90},
                              "base_version": 2})
    assert second.get_json()["version"] == 3
    stale = client.put("/api/settings", headers=admin_session(),
                       json={"settings": {}, "base_version": 2})
    assert stale.status_code == 409
    changes = client.get("/api/settings/diff/1/3", headers=admin_session()).get_json()["changes"]
    assert {(c["setting"], c["before"], c["after"]) for c in changes} == {
        ("weights.tenure", 15, 40), ("half_life_days", 180.0, 90)}
    back = client.post("/api/settings/versions/2/rollback", headers=admin_session())
    assert back.get_json()["version"] == 4
    listing = client.get("/api/settings", headers=admin_session()).get_json()
    assert listing["settings"]["half_life_days"] == 180.0
    assert [v["version"] for v in listing["versions"]] == [4, 3, 2]
    assert listing["versions"][0]["note"] == "Rolled back to v2"
    assert listing["versions"][-1]["author_id"] == 124


def test_a_save_keeps_what_it_leaves_out(app):
    client = app.test_client()
    rates = {"EUR": 1.08, "GBP": 1.27}
    client.put("/api/settings", headers=admin_session(),
               json={"settings": {"spend_source": "sell", "exchange_rates": rates}})
    again = client.put("/api/settings", headers=admin_session(),
                       json={"settings": {"half_life_days": 90}})
    kept = again.get_json()["settings"]
    assert (kept["exchange_rates"], kept["spend_source"], kept["half_life_days"]) == (
        rates, "sell", 90)
    cleared = client.put("/api/settings", headers=admin_session(),
                         json={"settings": {"exchange_rates": {}}})
    assert cleared.get_json()["settings"]["exchange_rates"] == {}


def test_scores_record_the_settings_version_they_used(app):
    client = app.test_client()
    before = client.get("/api/customers/2/value", headers=session("acme")).get_json()
    client.put("/api/settings", headers=admin_session(),
               json={"settings": {"weights": {"ticket_volume": 0}}})
    after = client.get("/api/customers/2/value", headers=session("acme")).get_json()
    assert (before["settings_version"], after["settings_version"]) == (1, 2)
    volume = [next(c for c in body["costs"] if c["signal"] == "ticket_volume")
              for body in (before, after)]
    assert volume[0]["max_points"] > 0 and volume[1]["max_points"] == 0, \
        "the new version's weights are the ones used"


def test_preview_reports_the_effect_before_saving(app):
    client = app.test_client()
    answer = client.post("/api/settings/preview", headers=admin_session(),
                         json={"settings": {"weights": {"escalations": 100}}})
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["customers"] == 20
    assert sum(m["customers"] for m in body["moves"]) == 20
    assert body["histogram_svg"].startswith("<svg") and "<rect" in body["histogram_svg"]
    assert client.get("/api/settings", headers=admin_session()).get_json()["versions"] == []
    bad = client.post("/api/settings/preview", headers=admin_session(),
                      json={"settings": {"weights": {"escalations": -1}}})
    assert bad.status_code == 422


def test_preview_numbers_on_a_fixed_dataset():
    from tests.factories import history
    calm = history(ticket(1, priority="low"), ticket(2, priority="low"), id=1)
    urgent = history(*[ticket(i, priority="urgent", days=i) for i in range(1, 9)], id=2,
                     fields={"lifetime_spend": 60000})
    current = Settings()
    draft = Settings.from_dict({"weights": {"escalations": 0}, "tiers": {"high": 30,
                                                                         "low": 10}})
    result = preview([calm, urgent], current, draft, NOW)
    # urgent: all 8 tickets urgent against the default 20%: (8 + 6·0.2) / (8 + 6) = 0.657 per
    # ticket, 2.29× beyond typical → 2.29 / 3.29 · 5 = 3.5 points of escalations; without
    # them 32.3 → 35.8, high either way. calm: 9.4 either way (little data: 2 of 3 tickets),
    # medium now, low under the draft's low of 10.
    assert result.customers == 2
    assert result.moves == {("medium", "low"): 1, ("high", "high"): 1}
    assert result.changed_tier == 1
    first, second = result.examples
    assert (first.user_id, first.before, first.after, first.tier_after) == (1, 9.4, 9.4, "low")
    assert (second.user_id, second.before, second.after) == (2, 32.3, 35.8)
    assert result.histogram_current == {0: 1, 30: 1} and result.histogram_draft == {0: 1, 30: 1}


def test_demo_serves_the_page_only_in_demo_mode(app):
    direct = app.test_client().get("/settings")
    assert direct.status_code == 405 and direct.mimetype == "text/html"
    assert "settings page with a signed POST request" in direct.get_data(as_text=True)
    app.config["DEMO_MODE"] = True
    assert app.test_client().get("/settings").status_code == 200


def test_crm_credentials_are_write_only_and_sealed(app, tmp_path):
    client = app.test_client()
    assert client.get("/api/settings", headers=admin_session()).get_json()["secrets"] == {
        "sell_token": False, "bitrix24_webhook_url": False, "alert_signing_secret": False}
    answer = client.put("/api/settings/secrets", headers=admin_session(),
                        json={"sell_token": "sell-secret-value-123"})
    assert answer.get_json() == {"secrets": {"sell_token": True, "bitrix24_webhook_url": False,
                                             "alert_signing_secret": False}}
    short = client.put("/api/settings/secrets", headers=admin_session(),
                       json={"alert_signing_secret": "too short"})
    assert short.status_code == 422
    page = client.get("/api/settings", headers=admin_session()).get_data(as_text=True)
    assert "sell-secret-value-123" not in page
    with app.extensions["customer_value"].engine.connect() as raw:
        stored = " ".join(r[0] for r in raw.execute(text("select sealed from account_secrets")))
    assert "sell-secret-value-123" not in stored
    bad = client.put("/api/settings/secrets", headers=admin_session(),
                     json={"bitrix24_webhook_url": "http://evil.example/hook"})
    assert bad.status_code == 422
    assert "Bitrix24 inbound webhook URL" in bad.get_json()["error"]["fields"][
        "secrets.bitrix24_webhook_url"]
    cleared = client.put("/api/settings/secrets", headers=admin_session(),
                         json={"sell_token": ""})
    assert cleared.get_json()["secrets"]["sell_token"] is False
    assert client.put("/api/settings/secrets", headers=session("acme", 123),
                      json={"sell_token": "x"}).status_code == 403


@pytest.mark.parametrize("url", ["https://127.0.0.1/rest/1/abc/",
                                 "https://169.254.169.254/rest/1/abc/",
                                 "https://user@10.0.0.8/rest/1/abc/",
                                 "http://127.0.0.1:8765/rest/1/abc/"])
def test_a_webhook_url_to_a_private_host_is_not_saved(app, url):
    bad = app.test_client().put("/api/settings/secrets", headers=admin_session(),
                                json={"bitrix24_webhook_url": url})
    assert bad.status_code == 422
    assert "not allowed" in bad.get_json()["error"]["fields"]["secrets.bitrix24_webhook_url"]
    app.extensions["customer_value"].crm.allow_private_hosts = True
    if "@" not in url:
        saved = app.test_client().put("/api/settings/secrets", headers=admin_session(),
                                      json={"bitrix24_webhook_url": url})
        assert saved.get_json()["secrets"]["bitrix24_webhook_url"] is True


def test_saving_crm_credentials_forgets_the_accounts_crm_answers_and_outages(app):
    services = app.extensions["customer_value"]
    forgotten = []
    services.crm.forget = lambda account, old: forgotten.append((account, old))
    app.test_client().put("/api/settings/secrets", headers=admin_session(),
                          json={"sell_token": "first-token"})
    app.test_client().put("/api/settings/secrets", headers=admin_session(),
                          json={"sell_token": "second-token"})
    account = services.store("https://acme.zendesk.com").account
    assert forgotten == [(account, [""]), (account, ["first-token"])]


def test_saving_crm_credentials_forgets_the_accounts_computed_values(app):
    from plugin.service_layer.values import CachedValue

    cache = app.extensions["customer_value"].cache
    mine, theirs = ("https://acme.zendesk.com", 7, None, 1), ("https://other.zendesk.com", 7,
                                                               None, 1)
    for key in (mine, theirs):
        cache.get(key, lambda: {"value": 1.0})
    app.test_client().put("/api/settings/secrets", headers=admin_session(),
                          json={"sell_token": "new-token"})
    computed = []
    cache.get(mine, lambda: computed.append(1) or {"value": 2.0})
    assert computed == [1], "the account's value is computed again with the new credentials"
    assert isinstance(cache.get(theirs, lambda: {"value": 3.0}), CachedValue)
    assert cache.get(theirs, lambda: {"value": 3.0}).result == {"value": 1.0}, \
        "another account's values stay"


def test_a_save_of_a_hundred_thousand_segments_is_refused_with_the_reason(app):
    client = app.test_client()
    segments = [{"tag": f"s{i}", "weights": {}} for i in range(100_000)]
    answer = client.put("/api/settings", headers=admin_session(),
                        json={"settings": {"segments": segments}})
    assert answer.status_code in (413, 422)
    small = [{"tag": f"s{i}", "weights": {}} for i in range(51)]
    answer = client.put("/api/settings", headers=admin_session(),
                        json={"settings": {"segments": small}})
    assert answer.status_code == 422
    assert "at most 50 segments" in answer.get_json()["error"]["fields"]["segments"]
    preview = client.post("/api/settings/preview", headers=admin_session(),
                          json={"settings": {"segments": small}})
    assert preview.status_code == 422
    note = client.put("/api/settings", headers=admin_session(),
                      json={"settings": {}, "note": "n" * 501})
    assert note.status_code == 422 and "note" in note.get_json()["error"]["fields"]
    assert client.get("/api/settings", headers=admin_session()).get_json()["versions"] == []


def test_the_backtest_compares_current_and_draft_settings(app):
    client = app.test_client()
    answer = client.post("/api/settings/backtest", headers=admin_session(),
                         json={"settings": {"weights": {"escalations": 100}}})
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["horizon_days"] == 90 and body["at"] == "2025-03-03T12:00:00Z"
    for side in ("current", "draft"):
        assert set(body[side]["auc"]) == {"leaving", "bad_rating", "any_purchase"}
        assert body[side]["customers"] == sum(d["customers"] for d in body[side]["deciles"])
        assert body[side]["warnings"], "twenty customers are too few to judge, and it says so"
    assert body["lift_svg"].startswith("<svg") and "<line" in body["lift_svg"]
    bad = client.post("/api/settings/backtest", headers=admin_session(),
                      json={"settings": {"weights": {"escalations": -1}}})
    assert bad.status_code == 422
    assert client.post("/api/settings/backtest", json={"settings": {}}).status_code in (
        401, 403)


def test_suggested_weights_are_offered_never_saved(app):
    client = app.test_client()
    answer = client.post("/api/settings/suggest-weights", headers=admin_session(), json={})
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["objective"].startswith("AUC") and isinstance(body["proposed"], bool)
    assert (body["weights"] is not None) == body["proposed"]
    assert client.get("/api/settings", headers=admin_session()).get_json()["versions"] == []
    assert client.post("/api/settings/suggest-weights", json={}).status_code in (401, 403)
