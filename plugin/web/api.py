"""The app's JSON API. `GET /api/customers/<id>/value` returns the same object as
`customer-value score --json`, plus `stale` (served from cache while a refresh runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, make_response, request

from integrations.http import CONNECT_TIMEOUT
from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.config import database_url
from plugin.core.settings import DEFAULT_SUGGESTIONS
from plugin.service_layer.crm import CrmConnector
from plugin.service_layer.services import Services
from plugin.service_layer.values import ValueCache
from plugin.storage.history import connect
from plugin.storage.installations import Installation, Registry
from plugin.storage.migrations import upgrade
from plugin.storage.vault import configured_vault
from plugin.web.auth import AppSession
from plugin.web.sidebar import DEMO_ACCOUNT, session_from_request
from plugin.web.trend import sparkline

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or database_url()
    upgrade(url)
    engine = connect(url)
    vault = configured_vault(app.config)
    registry = Registry(engine, vault)
    single = _single_account(app)
    if single is not None and app.config["ZENDESK_APP_ID"]:
        registry.save(Installation(
            subdomain=_subdomain(single), base_url=single.base_url,
            app_id=int(app.config["ZENDESK_APP_ID"]),
            installation_id=int(app.config["ZENDESK_INSTALLATION_ID"] or 0) or None,
            email=single.email, token=single.token), datetime.now(UTC))
    read_timeout = float(app.config["ZENDESK_READ_TIMEOUT"])
    app.extensions["customer_value"] = Services(
        engine=engine, zendesk=single, registry=registry,
        client_factory=lambda config: ZendeskClient.connect(
            config, mode="web", timeout=(CONNECT_TIMEOUT, read_timeout)),
        cache=ValueCache(fresh_for=float(app.config["VALUE_FRESH_SECONDS"])),
        crm=CrmConnector(allow_private_hosts=bool(
            app.config["CRM_ALLOW_PRIVATE_HOSTS"] or app.config["DEMO_MODE"])))
    app.register_blueprint(bp)


def services() -> Services:
    return current_app.extensions["customer_value"]


def _single_account(app: Flask) -> ZendeskConfig | None:
    keys = ("ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")
    env = {key: str(app.config.get(key) or "") for key in keys}
    try:
        return ZendeskConfig.from_env(env)
    except ValueError:
        return None


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
    return installation.zendesk, session


def _subdomain(config: ZendeskConfig) -> str:
    return urlsplit(config.base_url).hostname.split(".")[0] if config.base_url else ""


@bp.get("/customers/<int:user_id>/value")
def customer_value(user_id: int):
    config, _ = account()
    ticket_id = request.args.get("ticket_id", type=int)
    refresh = request.args.get("refresh") == "1"
    cached = services().value(config, user_id, ticket_id, refresh=refresh)
    return current_app.response_class(cached.encoded, mimetype="application/json")


@bp.get("/customers/<int:user_id>/trend.svg")
def customer_trend(user_id: int):
    config, _ = account()
    points = services().store(config.base_url).trend(user_id)
    response = make_response(sparkline(points))
    response.mimetype = "image/svg+xml"
    return response


@bp.post("/customers/<int:user_id>/suggestions/<suggestion>")
def suggestion_feedback(user_id: int, suggestion: str):
    config, session = account()
    body = request.get_json(silent=True) or {}
    outcome, ticket_id = body.get("outcome"), body.get("ticket_id")
    if suggestion not in DEFAULT_SUGGESTIONS:
        abort(404, f"unknown suggestion {suggestion!r}")
    if outcome not in ("accepted", "dismissed"):
        abort(400, "outcome must be accepted or dismissed")
    if ticket_id is not None and (isinstance(ticket_id, bool) or not isinstance(ticket_id, int)):
        abort(400, "ticket_id must be a ticket id")
    services().store(config.base_url).record_feedback(
        user_id=user_id, ticket_id=ticket_id, suggestion=suggestion, outcome=outcome,
        agent_id=session.user_id, at=services().clock())
    return "", 204
