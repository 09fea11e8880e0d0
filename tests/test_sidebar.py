"""The sidebar page: Zendesk's signed POST verified before anything is shown, the demo's
unsigned GET only in demo mode, translations, and the page's own session token."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.resources import resource_dir
from plugin.web.auth import read_app_token
from plugin.web.i18n import catalog, locales
from tests.tokens import APP_ID, INSTALLATION, SECRET, zendesk_token


@pytest.fixture
def app(make_app, keys):
    fetched = []

    def fetch(url):
        fetched.append(url)
        return keys[1]

    app = make_app({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com",
                    "ZENDESK_API_TOKEN": "t", "ZENDESK_APP_ID": str(APP_ID),
                    "ZENDESK_INSTALLATION_ID": str(INSTALLATION)}, fetch_key=fetch)
    app.fetched = fetched
    return app


def session_token(page: str) -> str:
    config = re.search(r'<script type="application/json" id="cv-config">(.*?)</script>', page)
    return json.loads(config.group(1))["token"]


def test_a_signed_load_gets_the_page_and_a_session(app, keys):
    response = app.test_client().post("/sidebar", data={"token": zendesk_token(keys[0])})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    session = read_app_token(session_token(page), SECRET.encode(), datetime.now(UTC))
    assert (session.account, session.user_id) == ("acme", 123)
    assert app.fetched == [f"https://acme.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem"]
    assert "zaf_sdk.min.js" in page and "zaf-demo.js" not in page


@pytest.mark.parametrize("changes", [
    {"exp": datetime.now(UTC) - timedelta(minutes=5)},
    {"aud": "https://acme.zendesk.com/api/v2/apps/installations/1.json"},
    {"iss": "globex.zendesk.com"},
])
def test_bad_signed_loads_are_refused(app, keys, changes):
    response = app.test_client().post("/sidebar",
                                      data={"token": zendesk_token(keys[0], **changes)})
    assert response.status_code == 401
    assert "the signed load was refused" in response.get_json()["error"]["message"]


def test_a_verified_load_of_an_unknown_account_waits_for_its_admin(app, keys):
    response = app.test_client().post("/sidebar", data={"token": zendesk_token(keys[0], **{
        "iss": "globex.zendesk.com",
        "aud": f"https://globex.zendesk.com/api/v2/apps/installations/{INSTALLATION}.json"})})
    assert response.status_code == 200
    assert "An admin needs to finish set-up" in response.get_data(as_text=True)
    assert app.fetched[-1] == f"https://globex.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem"


def test_a_token_signed_with_another_key_is_refused(app):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = app.test_client().post("/sidebar", data={"token": zendesk_token(stranger)})
    assert response.status_code == 401


def test_a_missing_token_is_refused(app):
    assert app.test_client().post("/sidebar").status_code == 401


def test_unsigned_access_only_in_demo_mode(app):
    direct = app.test_client().get("/sidebar")
    assert direct.status_code == 405 and direct.headers["Allow"] == "POST"
    assert direct.mimetype == "text/html"
    assert "Zendesk loads the Customer Value sidebar with a signed POST request" in \
        direct.get_data(as_text=True)
    app.config["DEMO_MODE"] = True
    response = app.test_client().get("/sidebar?ticket_id=1&requester_id=2")
    assert response.status_code == 200
    assert "vendor/zaf_sdk.min.js" in response.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "expected"), [("de", "Kundenwert wird geladen"),
                                                  ("de-CH", "Kundenwert wird geladen"),
                                                  ("fr", "Loading customer value")])
def test_the_page_speaks_the_agents_language(app, locale, expected):
    app.config["DEMO_MODE"] = True
    page = app.test_client().get(f"/sidebar?locale={locale}").get_data(as_text=True)
    assert expected in page


def test_every_script_carries_the_responses_nonce(app):
    app.config["DEMO_MODE"] = True
    response = app.test_client().get("/sidebar")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    executable = [s for s in scripts if "application/json" not in s]
    assert executable and all(f'nonce="{nonce}"' in s for s in executable)


def test_each_page_draws_a_nonce_of_its_own(app):
    app.config["DEMO_MODE"] = True
    drawn = {re.search(r"'nonce-([^']+)'", app.test_client().get("/sidebar").headers[
        "Content-Security-Policy"]).group(1) for _ in range(3)}
    assert len(drawn) == 3 and all(len(n) >= 22 for n in drawn)


def test_translations_cover_the_same_strings():
    english = set(catalog("en"))
    assert len(locales()) >= 2
    for locale in locales():
        path = resource_dir("templates") / "translations" / f"{locale}.json"
        assert set(json.loads(path.read_text(encoding="utf-8"))) == english, locale
