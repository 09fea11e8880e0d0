"""The account overview (Zendesk's nav_bar location, beside the settings) and the tier
overrides: admins and team leads may pin tiers and refresh; agents read.

Every figure comes from the overview's stored table (`plugin.storage.overview`), which the
worker refreshes: a page of the overview never scores anyone while someone waits.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
)

from integrations.errors import IntegrationError
from plugin.core.overrides import check
from plugin.core.times import zulu
from plugin.service_layer.overview import refresh
from plugin.storage.overview import COUNT_CAP, MAX_PAGE, Filters, OverviewStore, Row
from plugin.web.charts import shares_svg
from plugin.web.i18n import catalog, pick_locale
from plugin.web.session import (
    DEMO_ACCOUNT,
    DEMO_USER_ID,
    account,
    new_session,
    services,
    session_from_form,
)

bp = Blueprint("overview", __name__)

ADMIN, LEAD, AGENT = "admin", "team_lead", "agent"
MANAGERS = (ADMIN, LEAD)
STAFF = (ADMIN, LEAD, AGENT)
MOVERS = 5
CSV_COLUMNS = ("user_id", "name", "organization", "segment", "value", "tier", "value_30d",
               "change_30d", "little_data", "at_risk", "risks", "pinned", "zendesk_url")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def page(session_token: str, role: str):
    """The overview page for a session of `role`."""
    locale = pick_locale(request.args.get("locale") or "en")
    return render_template("overview/overview.html", session_token=session_token,
                           locale=locale, strings=catalog(locale), role=role,
                           can_manage=role in MANAGERS)


@bp.post("/overview")
def tab_load():
    """The overview opened from the settings page's tab bar (the same session)."""
    session = session_from_form()
    if session.role not in STAFF:
        abort(403, "the overview is for Zendesk agents")
    return page(request.form["app_session"], session.role)


@bp.get("/overview")
def demo_load():
    if not current_app.config["DEMO_MODE"]:
        abort(405, "Zendesk loads the overview with a signed POST")
    return page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, ADMIN), ADMIN)


def staff_account(manage: bool = False):
    """The request's store, session and Zendesk account; a 403 for anyone who may not."""
    config, session = account()
    allowed = MANAGERS if manage else STAFF
    if session.role not in allowed:
        abort(403, "only Zendesk admins and team leads can change this" if manage
              else "the overview is for Zendesk agents")
    return services().store(config.base_url), session, config


def actor_name(config, user_id: int) -> str:
    """The Zendesk name of the person acting (their id when Zendesk cannot say)."""
    try:
        return services().client(config).staff(user_id)[1] or f"Zendesk user {user_id}"
    except IntegrationError:
        return f"Zendesk user {user_id}"


# --- the overview -------------------------------------------------------------------------

@bp.get("/api/overview")
def summary():
    """The account at a glance; computed once per refresh of the stored values."""
    store, session, config = staff_account()
    overview = OverviewStore(services().engine, store.account)
    refreshed = overview.refreshed_at()
    cache = current_app.extensions.setdefault("customer_value_overview", {})
    key = (store.account, refreshed)
    if key not in cache:
        for old in [k for k in cache if k[0] == store.account]:
            del cache[old]
        cache[key] = _summary(overview, refreshed, config)
    return jsonify({"role": session.role, "can_manage": session.role in MANAGERS,
                    **cache[key]})


def _summary(overview: OverviewStore, refreshed, config) -> dict[str, Any]:
    shares = overview.shares()
    drops, rises = overview.movers(MOVERS)
    at_risk, _ = overview.page(Filters(tier="high", at_risk=True), limit=MOVERS, count=False)
    latest = shares[-1][1] if shares else {"high": 0, "medium": 0, "low": 0}
    return {
        "refreshed_at": zulu(refreshed) if refreshed else None,
        "tiers": latest, "shares": [{"at": zulu(at), **counts} for at, counts in shares],
        "shares_svg": shares_svg(shares),
        "drops": [_row(r, config) for r in drops], "rises": [_row(r, config) for r in rises],
        "at_risk": [_row(r, config) for r in at_risk],
        "choices": overview.choices(),
    }


@bp.get("/api/overview/customers")
def customers():
    store, _, config = staff_account()
    filters, sort, descending = _query()
    per_page = _int_arg("per_page", 25, 1, MAX_PAGE)
    page_number = _int_arg("page", 1, 1, 100_000)
    rows, total = OverviewStore(services().engine, store.account).page(
        filters, sort=sort, descending=descending, offset=(page_number - 1) * per_page,
        limit=per_page)
    return jsonify({"customers": [_row(r, config) for r in rows],
                    "total": min(total, COUNT_CAP), "more": total > COUNT_CAP,
                    "page": page_number, "per_page": per_page})


@bp.get("/api/overview/customers.csv")
def customers_csv():
    store, _, config = staff_account()
    filters, sort, descending = _query()
    rows = OverviewStore(services().engine, store.account).each(
        filters, sort=sort, descending=descending)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            shown = _row(row, config)
            writer.writerow([_cell(shown[c]) for c in CSV_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=customer-values.csv"})


@bp.post("/api/overview/refresh")
def refresh_now():
    """Refresh the account's overview now (the worker also does, every few minutes)."""
    store, _, config = staff_account(manage=True)
    done = refresh(services(), config.base_url)
    return jsonify({"customers": done.customers, "seconds": round(done.seconds, 2),
                    "refreshed_at": zulu(done.refreshed_at)})


def _query() -> tuple[Filters, str, bool]:
    args = request.args

    def flag(name: str) -> bool | None:
        value = args.get(name, "")
        return {"1": True, "true": True, "0": False, "false": False}.get(value)

    tier = args.get("tier", "")
    if tier and tier not in ("high", "medium", "low"):
        abort(400, "tier must be high, medium or low")
    sort = args.get("sort", "value")
    if sort not in ("value", "change", "name", "organization"):
        abort(400, "sort by value, change, name or organization")
    return (Filters(search=args.get("q", "")[:100].strip(), tier=tier,
                    segment=args.get("segment", "")[:80],
                    organization=args.get("organization", "")[:200],
                    little_data=flag("little_data"), at_risk=flag("at_risk")),
            sort, args.get("order", "desc") != "asc")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        abort(400, f"{name} must be a whole number")
    return max(low, min(high, value))


def _row(r: Row, config) -> dict[str, Any]:
    return {"user_id": r.user_id, "name": r.name, "organization": r.organization_name,
            "organization_id": r.organization_id, "segment": r.segment, "value": r.value,
            "tier": r.tier, "value_30d": r.value_30d, "tier_30d": r.tier_30d,
            "change_30d": r.change_30d, "little_data": r.little_data, "at_risk": r.at_risk,
            "risks": list(r.risks), "top_drivers": r.drivers.get("top", []),
            "moved": r.drivers.get("moved", []), "pinned": r.pinned,
            "zendesk_url": f"{config.base_url}/agent/users/{r.user_id}"}


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a customer's name never runs as a spreadsheet formula
    return value


# --- tier overrides ---------------------------------------------------------------------

@bp.get("/api/overrides")
def list_overrides():
    store, _, _ = staff_account()
    pins = services().overrides(store)
    now = services().clock()
    return jsonify({"overrides": [_pin(o) for o in pins.active(now)],
                    "events": [{"override_id": e.override_id, "action": e.action,
                                "tier": e.tier, "reason": e.reason,
                                "expires_at": zulu(e.expires_at), "by": e.actor_name,
                                "at": zulu(e.at)} for e in pins.events(limit=100)]})


@bp.post("/api/overrides")
def pin_tier():
    store, session, config = staff_account(manage=True)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send a JSON object")
    now = services().clock()
    subject, tier = str(body.get("subject") or "user"), str(body.get("tier") or "")
    reason = str(body.get("reason") or "")
    expires_at = _moment(body.get("expires_at"))
    errors = check(subject, tier, reason, expires_at, now)
    subject_id = body.get("subject_id")
    if isinstance(subject_id, bool) or not isinstance(subject_id, int) or subject_id <= 0:
        errors["subject_id"] = "must be the Zendesk id of the user or organization"
    if errors:
        return jsonify({"error": {"code": "invalid_override", "message": "; ".join(
            f"{k}: {v}" for k, v in errors.items()), "fields": errors}}), 422
    pinned = services().overrides(store).pin(
        subject, subject_id, tier=tier, reason=reason.strip(), expires_at=expires_at,
        actor_id=session.user_id, actor_name=actor_name(config, session.user_id), now=now)
    services().overrides_changed(config)
    return jsonify({"override": _pin(pinned)}), 201


@bp.delete("/api/overrides/<int:override_id>")
def end_pin(override_id: int):
    store, session, config = staff_account(manage=True)
    ended = services().overrides(store).end(
        override_id, actor_id=session.user_id, actor_name=actor_name(config, session.user_id),
        now=services().clock())
    if ended is None:
        abort(404, "no such active override")
    services().overrides_changed(config)
    return jsonify({"override": _pin(ended)})


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _pin(o) -> dict[str, Any]:
    return {"id": o.id, "subject": o.subject, "subject_id": o.subject_id, "tier": o.tier,
            "reason": o.reason, "expires_at": zulu(o.expires_at), "pinned_by": o.created_by_name,
            "pinned_at": zulu(o.created_at),
            "ended_at": zulu(o.ended_at) if o.ended_at else None}
