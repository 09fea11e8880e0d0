"""Who a request acts for: Zendesk's signed loads verified, and the app's own session tokens.

Zendesk POSTs the app's pages with a signed JWT (`signedUrls`); `verified_load` checks it and
the page gets a short-lived session token of the app's own (`new_session`), sent back on every
API call as a Bearer header (`session_from_request`). `account` turns a session into the Zendesk
account it may act for, and nothing of any other's. Demo sessions exist in demo mode only.
"""

from __future__ import annotations

import requests
from flask import abort, current_app, request

from integrations.zendesk import ZendeskConfig
from plugin.service_layer.services import Services
from plugin.web.auth import (
    ZENDESK_TOKEN_FORM_FIELD,
    AppSession,
    AuthError,
    KeyUnavailable,
    SessionCache,
    ZendeskClaims,
    bearer_token,
    installation_audience,
    issue_app_token,
    verify_zendesk_token,
)
from plugin.web.observability import set_account

DEMO_ACCOUNT = "demo"
DEMO_USER_ID = 0


def services() -> Services:
    return current_app.extensions["customer_value"]


def account() -> tuple[ZendeskConfig, AppSession]:
    """The Zendesk account this request acts for: the installation its session names."""
    session = session_from_request()
    if session.account == DEMO_ACCOUNT:
        config = services().zendesk
        if not current_app.config["DEMO_MODE"]:
            abort(403, "demo sessions are only valid in demo mode")
        if config is None:
            abort(503, "no Zendesk account is configured")
        return config, session
    installation = services().registry.get(session.account)
    if installation is None:
        abort(403, "this app is not installed for the session's Zendesk account")
    if installation.needs_reconnect:
        # Zendesk refused the tokens and the refresh: no call is sent until an admin reconnects.
        abort(401, "reconnect: Zendesk no longer accepts the app's access; an admin needs to "
                   "reconnect it on the app's page")
    return installation.zendesk, session


def fetch_key(url: str) -> str:
    """The body of Zendesk's public-key URL; any answer but a 200 (a redirect too) raises."""
    response = requests.get(url, timeout=(5, 10), allow_redirects=False)
    if response.status_code != 200:
        raise requests.HTTPError(f"the public key URL answered {response.status_code}")
    return response.text


def verified_load() -> ZendeskClaims:
    """The claims of Zendesk's signed POST loading one of the app's pages, or a 401."""
    token = request.form.get(ZENDESK_TOKEN_FORM_FIELD, "")
    keys = current_app.extensions["customer_value_keys"]
    registry = current_app.extensions["customer_value"].registry
    now = services().clock()

    def audience(subdomain: str) -> str:
        installation = registry.get(subdomain)
        return installation_audience(subdomain, installation.installation_id or 0) \
            if installation else ""

    try:
        claims = verify_zendesk_token(token, key_for=keys.key_for(now), now=now,
                                      audience=audience)
    except KeyUnavailable as error:
        abort(503, f"the signed load cannot be checked now: {error}; try again shortly")
    except AuthError as error:
        abort(401, f"the signed load was refused: {error}")
    set_account(claims.account)
    return claims


def new_session(account: str, user_id: int, role: str) -> str:
    return issue_app_token(_secret(), account=account, user_id=user_id, role=role,
                           now=services().clock())


def session_from_request():
    """The app session of an API call (its Bearer token), or a 401."""
    try:
        session = _sessions().read(bearer_token(request.headers.get("Authorization")),
                                   services().clock())
    except AuthError as error:
        abort(401, f"a valid session token is required: {error}")
    set_account(session.account)
    return session


def session_from_form(field: str = "app_session"):
    """The app session a page posts to open another of the app's pages (its tab bar), or a
    401: the same token as the API's Bearer header, never a cookie."""
    try:
        session = _sessions().read(request.form.get(field, ""), services().clock())
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
