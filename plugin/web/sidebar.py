"""The ticket sidebar: Zendesk's signed load, then the page that fills itself from the API.

Zendesk POSTs the app's URL with a signed JWT (`signedUrls`); the view verifies it, then hands
the page a short-lived token of the app's own for its API calls (`plugin.web.session`). In demo
mode a plain GET is served too, with a demo session, because no Zendesk is there to sign
anything.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, render_template, request

from plugin.web.auth import PublicKeyCache
from plugin.web.i18n import catalog, pick_locale
from plugin.web.security import nonce
from plugin.web.setup import intercept
from plugin.web.pages import signed_only
from plugin.web.session import DEMO_ACCOUNT, DEMO_USER_ID, fetch_key, new_session, verified_load

bp = Blueprint("sidebar", __name__)

ZAF_SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"


def init_app(app: Flask, fetch: Callable[[str], str] | None = None) -> None:
    """Register the pages; Zendesk's public keys are fetched with `fetch` (by default over
    HTTPS from the account) and cached."""
    app.register_blueprint(bp)
    app.jinja_env.globals["csp_nonce"] = nonce
    app.extensions["customer_value_fetch"] = fetch or fetch_key
    app.extensions["customer_value_keys"] = PublicKeyCache(
        fetch or fetch_key, app.extensions["customer_value"].registry.app_ids())


@bp.post("/sidebar")
def signed_load():
    setup = intercept("sidebar")
    if setup is not None:
        return setup
    claims = verified_load()
    return _page(new_session(claims.account, claims.user_id, "agent"))


@bp.get("/sidebar")
def demo_load():
    if not current_app.config["DEMO_MODE"]:
        return signed_only("sidebar", "a ticket")
    return _page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, "agent"))


def _page(session_token: str):
    locale = pick_locale(request.args.get("locale") or request.accept_languages.best or "en")
    demo = current_app.config["DEMO_MODE"]
    return render_template("sidebar/sidebar.html", session_token=session_token, locale=locale,
                           strings=catalog(locale), demo=demo,
                           zaf_sdk=None if demo else ZAF_SDK_URL)
