"""The ticket sidebar: Zendesk's signed load, then the page that fills itself from the API.

Zendesk POSTs the app's URL with a signed JWT (`signedUrls`); the view verifies it, then hands
the page a short-lived token of the app's own for its API calls. In demo mode a plain GET is
served too, with a demo session, because no Zendesk is there to sign anything.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from flask import Blueprint, Flask, abort, current_app, render_template, request

from plugin.observability import set_account
from plugin.storage.installations import Registry
from plugin.web.auth import (
    ZENDESK_TOKEN_FORM_FIELD,
    AuthError,
    PublicKeyCache,
    SessionCache,
    ZendeskClaims,
    bearer_token,
    installation_audience,
    issue_app_token,
    verify_zendesk_token,
)
from plugin.web.i18n import catalog, pick_locale
from plugin.web.security import nonce

bp = Blueprint("sidebar", __name__)

DEMO_ACCOUNT = "demo"
DEMO_USER_ID = 0
ZAF_SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"


def init_app(app: Flask, registry: Registry) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["csp_nonce"] = nonce
    app.extensions["customer_value_keys"] = PublicKeyCache(_fetch_key, registry.app_ids())


def _fetch_key(url: str) -> str:
    response = requests.get(url, timeout=(5, 10))
    response.raise_for_status()
    return response.text


def verified_load() -> ZendeskClaims:
    """The claims of Zendesk's signed POST loading one of the app's pages, or a 401."""
    token = request.form.get(ZENDESK_TOKEN_FORM_FIELD, "")
    keys = current_app.extensions["customer_value_keys"]
    registry = current_app.extensions["customer_value"].registry
    now = datetime.now(UTC)

    def audience(subdomain: str) -> str:
        installation = registry.get(subdomain)
        return installation_audience(subdomain, installation.installation_id or 0) \
            if installation else ""

    try:
        claims = verify_zendesk_token(token, key_for=keys.key_for(now), now=now,
                                      audience=audience)
    except AuthError as error:
        abort(401, f"the signed load was refused: {error}")
    set_account(claims.account)
    return claims


def new_session(account: str, user_id: int, role: str) -> str:
    return issue_app_token(_secret(), account=account, user_id=user_id, role=role,
                           now=datetime.now(UTC))


@bp.post("/sidebar")
def signed_load():
    claims = verified_load()
    return _page(new_session(claims.account, claims.user_id, "agent"))


@bp.get("/sidebar")
def demo_load():
    if not current_app.config["DEMO_MODE"]:
        abort(405, "Zendesk loads the sidebar with a signed POST")
    return _page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, "agent"))


def _page(session_token: str):
    locale = pick_locale(request.args.get("locale") or request.accept_languages.best or "en")
    demo = current_app.config["DEMO_MODE"]
    return render_template("sidebar/sidebar.html", session_token=session_token, locale=locale,
                           strings=catalog(locale), demo=demo,
                           zaf_sdk=None if demo else ZAF_SDK_URL)


def session_from_request():
    """The app session of an API call (its Bearer token), or a 401."""
    try:
        session = _sessions().read(bearer_token(request.headers.get("Authorization")),
                                   datetime.now(UTC))
    except AuthError as error:
        abort(401, f"a valid session token is required: {error}")
    set_account(session.account)
    return session


def _sessions() -> SessionCache:
    cache = current_app.extensions.get("customer_value_sessions")
    if cache is None or cache.secret != _secret():
        cache = current_app.extensions["customer_value_sessions"] = SessionCache(_secret())
    return cache


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()
