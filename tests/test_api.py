"""The JSON API through Flask's test client, with a hand-written fake Zendesk client."""

from datetime import timedelta
from functools import partial

from sqlalchemy import text

from integrations.errors import Unavailable
from integrations.zendesk import UserFact
from plugin.core.settings import Settings
from plugin.storage.installations import Installation
from tests import tokens
from tests.factories import NOW, profile
from tests.tokens import ACME_TOKEN as TOKEN

session = partial(tokens.session, now=NOW)
"""App sessions issued at the app's clock."""


def test_value_is_the_score_contract(app):
    response = app.test_client().get("/api/customers/7/value", headers=session())
    assert response.status_code == 200
    body = response.get_json()
    assert {"user_id", "value", "tier", "benefits", "costs", "suggestions",
            "computed_at"} <= set(body)
    assert body["name"] == "<b>Zoë</b>" and body["stale"] is False
    assert any("History still loading" in n for n in body["notices"])


def test_unknown_customer_is_a_json_404(app):
    response = app.test_client().get("/api/customers/8/value", headers=session())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_zendesk_down_on_first_sight_is_a_clear_503_not_a_crash(app, fake):
    fake.fail = Unavailable("Zendesk is failing (503)")
    response = app.test_client().get("/api/customers/7/value", headers=session())
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_repeated_requests_are_served_from_the_cache(app, fake):
    client = app.test_client()
    for _ in range(5):
        assert client.get("/api/customers/7/value", headers=session()).status_code == 200
    assert fake.calls == 1


def test_a_session_token_is_required(app):
    client = app.test_client()
    assert client.get("/api/customers/7/value").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/customers/7/value", headers=bad).status_code == 401


def test_demo_sessions_stop_working_outside_demo_mode(app):
    app.config["DEMO_MODE"] = False
    assert app.test_client().get("/api/customers/7/value",
                                 headers=session()).status_code == 403


def test_a_session_of_another_account_is_refused(app):
    response = app.test_client().get("/api/customers/7/value",
                                     headers=session(account="globex"))
    assert response.status_code == 403


def test_a_session_of_this_account_is_accepted(app):
    response = app.test_client().get("/api/customers/7/value",
                                     headers=session(account="acme"))
    assert response.status_code == 200


def test_suggestion_feedback_is_recorded_and_validated(app):
    client = app.test_client()
    ok = client.post("/api/customers/7/suggestions/personalise", headers=session(),
                     json={"outcome": "accepted", "ticket_id": 3})
    assert ok.status_code == 204
    assert client.post("/api/customers/7/suggestions/personalise", headers=session(),
                       json={"outcome": "maybe"}).status_code == 400
    assert client.post("/api/customers/7/suggestions/free_pizza", headers=session(),
                       json={"outcome": "accepted"}).status_code == 404


def test_security_headers(app):
    response = app.test_client().get("/api/customers/7/value", headers=session())
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://*.zendesk.com" in csp
    assert "script-src 'self';" in csp and "nonce" not in csp, "JSON runs no nonced script"
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_app_keeps_no_cookie_session(app):
    """Sessions are Bearer tokens: no response sets a cookie session, and writing to
    flask.session is refused rather than signed into a cookie."""
    import flask

    @app.get("/_writes_session")
    def writes_session():
        flask.session["user"] = 1
        return ""

    client = app.test_client()
    response = client.get("/api/customers/7/value", headers=session())
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    app.testing = False  # the refusal is a 500 page, not an exception in the test
    refused = client.get("/_writes_session")
    assert refused.status_code == 500 and "Set-Cookie" not in refused.headers


def test_percentile_tiers_come_from_the_accounts_customers(app):
    services = app.extensions["customer_value"]
    settings = Settings.from_dict({"tiers": {"mode": "percentile", "high": 90, "low": 10}})
    services.settings = settings
    response = app.test_client().get("/api/customers/7/value", headers=session())
    assert response.status_code == 200
    # The store holds no customers yet, so there is nothing to rank against: medium.
    assert response.get_json()["tier"] == "medium"
    store = services.store("https://acme.zendesk.com")
    store.save_page("users", users_=[UserFact(profile(id=8), None, NOW)], now=NOW)
    # Cutoffs are reused for ten minutes, then ranked against user 8, who has nothing but a
    # user record: little data, a neutral 0.
    assert services.cutoffs(store, settings, NOW).high == float("inf")
    assert services.cutoffs(store, settings, NOW + timedelta(minutes=11)).high == 0.0


def test_credentials_are_encrypted_at_rest(app, tmp_path):
    with app.extensions["customer_value"].engine.connect() as raw:
        sealed = raw.execute(text("select token_sealed from installations")).scalar_one()
    assert TOKEN not in sealed
    registry = app.extensions["customer_value"].registry
    assert registry.get("acme").token == TOKEN
    assert TOKEN not in repr(registry.get("acme"))


def test_each_session_sees_only_its_own_accounts_data(app, fake):
    services = app.extensions["customer_value"]
    services.registry.save(Installation(
        subdomain="globex", base_url="https://globex.zendesk.com", app_id=56,
        installation_id=67, email="g@globex.com", token="globex-token"), NOW)
    globex_store = services.store("https://globex.zendesk.com")
    globex_store.save_page("users", users_=[UserFact(profile(id=7, name="Globex Gina"), None,
                                                     NOW)], now=NOW)
    globex = app.test_client().get("/api/customers/7/value", headers=session("globex"))
    acme = app.test_client().get("/api/customers/7/value", headers=session("acme"))
    assert globex.get_json()["name"] == "Globex Gina"
    assert acme.get_json()["name"] == "<b>Zoë</b>"
    assert globex.get_json()["notices"] == [] and acme.get_json()["notices"]


def test_the_environments_crm_credentials_serve_only_the_single_account(app):
    import responses

    from plugin.service_layer.crm import CrmConnector, CrmEnv

    services = app.extensions["customer_value"]
    services.registry.save(Installation(
        subdomain="globex", base_url="https://globex.zendesk.com", app_id=56,
        installation_id=67, email="g@globex.com", token="globex-token"), NOW)
    services.settings = Settings(spend_source="sell")
    services.crm = CrmConnector(env=CrmEnv(sell_token="acme-sell-token"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as sell:
        sell.get("https://api.getbase.com/v2/stages", json={"items": [], "meta": {}})
        sell.get("https://api.getbase.com/v2/contacts", json={"items": [], "meta": {}})
        globex = app.test_client().get("/api/customers/7/value", headers=session("globex"))
        assert len(sell.calls) == 0, "another account never uses the environment's token"
        assert any("Zendesk Sell" in n for n in globex.get_json()["notices"])
        acme = app.test_client().get("/api/customers/7/value", headers=session("acme"))
        assert len(sell.calls) > 0
        assert sell.calls[0].request.headers["Authorization"] == "Bearer acme-sell-token"
    assert not any("Zendesk Sell" in n for n in acme.get_json()["notices"])
