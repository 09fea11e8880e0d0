"""The app's JSON API. `GET /api/customers/<id>/value` returns the same object as
`customer-value score --json`, plus `stale` (served from cache while a refresh runs)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, jsonify, request

from integrations.zendesk import ZendeskConfig

from .config import database_url
from .migrations import upgrade
from .services import Services
from .store import connect
from .values import ValueCache

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or database_url()
    upgrade(url)
    app.extensions["customer_value"] = Services(
        engine=connect(url), zendesk=_single_account(app),
        cache=ValueCache(fresh_for=float(app.config["VALUE_FRESH_SECONDS"])))
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


def account() -> ZendeskConfig:
    """The Zendesk account this request acts for."""
    config = services().zendesk
    if config is None:
        abort(503, "no Zendesk account is configured")
    if not current_app.config["DEMO_MODE"]:
        abort(401, "a signed session is required")
    return config


@bp.get("/customers/<int:user_id>/value")
def customer_value(user_id: int):
    ticket_id = request.args.get("ticket_id", type=int)
    cached = services().value(account(), user_id, ticket_id)
    return jsonify(cached.to_json())
