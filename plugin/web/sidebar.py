"""The ticket sidebar: Zendesk's signed load, then the page that fills itself from the API.

Zendesk POSTs the app's URL with a signed JWT (`signedUrls`); the view verifies it, then hands
the page a short-lived token of the app's own for its API calls (`plugin.web.session`). In demo
mode a plain GET is served too, with a demo session, because no Zendesk is there to sign
anything.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, render_template, request, url_for

from plugin.web.auth import PublicKeyCache
from plugin.web.i18n import catalog, pick_locale
from plugin.web.pages import signed_only
from plugin.web.security import nonce
from plugin.web.session import DEMO_ACCOUNT, DEMO_USER_ID, fetch_key, new_session, verified_load
from plugin.web.setup import intercept

bp = Blueprint("sidebar", __name__)

ZAF_SDK = "vendor/zaf_sdk.min.js"
"""Zendesk's ZAF SDK, served by the app: the pinned npm package `zendesk_app_framework_sdk`
(tests/npm) bundled as-is by esbuild into one browser script (the package is CommonJS), so
Zendesk, the demo and the browser tests all run the same client."""
ZAF_BUILD = ("--bundle", "--format=iife", "--global-name=ZAFClient", "--minify", "--target=es2017")
"""esbuild's options for that bundle (`esbuild lib/index.js <options> --outfile=...`)."""


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
    return _page(new_session(claims.account, claims.user_id, "agent"), "ticket_sidebar")


@bp.get("/sidebar")
def demo_load():
    if not current_app.config["DEMO_MODE"]:
        return signed_only("sidebar", "a ticket")
    return _page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, "agent"), "ticket_sidebar")


# The user and organization pages: their own locations, loaded and bound on their own (a
# session from here names no ticket; what it may read is the person or organization Zendesk
# opened the page for, which the page asks ZAF for).
PEOPLE_LOCATIONS = {"user": "user_sidebar", "organization": "organization_sidebar"}


@bp.post("/sidebar/<any(user, organization):page>")
def signed_people_load(page: str):
    setup = intercept("sidebar")
    if setup is not None:
        return setup
    claims = verified_load()
    return _page(new_session(claims.account, claims.user_id, "agent"), PEOPLE_LOCATIONS[page])


@bp.get("/sidebar/<any(user, organization):page>")
def demo_people_load(page: str):
    if not current_app.config["DEMO_MODE"]:
        return signed_only(f"sidebar/{page}", f"a {page}")
    return _page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, "agent"), PEOPLE_LOCATIONS[page])


def _page(session_token: str, location: str):
    locale = pick_locale(request.args.get("locale") or request.accept_languages.best or "en")
    return render_template("sidebar/sidebar.html", session_token=session_token, locale=locale,
                           strings=catalog(locale), location=location,
                           zaf_sdk=url_for("static", filename=ZAF_SDK))
