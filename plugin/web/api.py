"""The app's JSON API. `GET /api/customers/<id>/value` returns the same object as
`customer-value score --json`, plus `stale` (served from cache while a refresh runs)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, request

from plugin.core.settings import DEFAULT_SUGGESTIONS
from plugin.service_layer.organizations import organization_view
from plugin.web.binding import (
    allow_refresh,
    organization_binding,
    require,
    session_token,
    ticket_binding,
)
from plugin.web.contract import encode, notice_audience
from plugin.web.glance import glance, people_glance
from plugin.web.i18n import pick_locale
from plugin.web.ids import optional_id
from plugin.web.session import account, services

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PEOPLE = 50
"""People of an organization the roll-up reads (the ones first known)."""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _bound_value(user_id: int):
    """The customer's cached value for a session bound to them (and the ticket, when the call
    names one); `refresh=1` bypasses the cache, at most once per REFRESH_EVERY a session."""
    config, _ = account()
    ticket_id = optional_id(request.args.get("ticket_id"), "ticket_id")
    token = session_token()
    require(token, ticket_binding(user_id, ticket_id))
    refresh = request.args.get("refresh") == "1"
    if refresh:
        allow_refresh(token, services().clock())
    return config, services().value(config, user_id, ticket_id, refresh=refresh)


@bp.get("/customers/<zid:user_id>/value")
def customer_value(user_id: int):
    _, cached = _bound_value(user_id)
    return current_app.response_class(cached.encoded(encode), mimetype="application/json")


@bp.get("/customers/<zid:user_id>/glance")
def customer_glance(user_id: int):
    """What the sidebar shows, worded and formatted for the agent (`locale`), replies for the
    requester (`reply_locale`)."""
    config, cached = _bound_value(user_id)
    reply_locale = request.args.get("reply_locale")
    store = services().store(config.base_url)
    notices = (*cached.result.value.notices, *((cached.notice,) if cached.notice else ()))
    body = glance(cached.result, settings=services().settings_for(store),
                  now=services().clock(), stale=cached.stale,
                  notices=tuple(n for n in notices if notice_audience(n) == "agent"),
                  agent_locale=pick_locale(request.args.get("locale") or "en"),
                  reply_locale=pick_locale(reply_locale) if reply_locale else None, tiers=None)
    return body


@bp.get("/organizations/<zid:organization_id>/glance")
def organization_glance(organization_id: int):
    """The organization's value rolled up from its people (at most `MAX_PEOPLE` of them), with
    the suggestions the rules make for it."""
    config, _ = account()
    require(session_token(), organization_binding(organization_id))
    view = organization_view(services(), config, organization_id, MAX_PEOPLE)
    if view is None:
        abort(404, "no people of this organization are known yet")
    store = services().store(config.base_url)
    settings = services().settings_for(store)
    return people_glance(view.rollup, now=services().clock(),
                         agent_locale=pick_locale(request.args.get("locale") or "en"),
                         currency=settings.currency, suggestions=view.suggestions,
                         settings=settings)


@bp.post("/customers/<zid:user_id>/suggestions/<suggestion>")
def suggestion_feedback(user_id: int, suggestion: str):
    config, session = account()
    body = request.get_json(silent=True) or {}
    outcome, ticket_id = body.get("outcome"), body.get("ticket_id")
    if suggestion not in DEFAULT_SUGGESTIONS:
        abort(404, f"unknown suggestion {suggestion!r}")
    if outcome not in ("accepted", "dismissed"):
        abort(400, "outcome must be accepted or dismissed")
    if ticket_id is not None and not isinstance(ticket_id, int):
        abort(400, "ticket_id must be a ticket id")
    ticket_id = optional_id(ticket_id, "ticket_id")
    require(session_token(), ticket_binding(user_id, ticket_id))
    services().store(config.base_url).record_feedback(
        user_id=user_id, ticket_id=ticket_id, suggestion=suggestion, outcome=outcome,
        agent_id=session.user_id, at=services().clock())
    return "", 204
