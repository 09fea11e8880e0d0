"""Alert rules (admins set them) and the alerts they raised (everyone on the overview sees
them, with what each action did)."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, jsonify, request

from plugin.core.alerts import KINDS, AlertRule, check_rule
from plugin.core.times import zulu
from plugin.storage.alerts import AlertStore
from plugin.storage.overview import OverviewStore
from plugin.web.overview import ADMIN, staff_account
from plugin.web.session import services

bp = Blueprint("alerts", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _admin():
    store, session, config = staff_account()
    if session.role != ADMIN:
        abort(403, "only Zendesk admins can set alert rules")
    return store, session, config


@bp.get("/api/alerts")
def listing():
    store, _, config = staff_account()
    alerts = AlertStore(services().engine, store.account)
    rules = {r.id: r for r in alerts.rules(enabled_only=False)}
    overview = OverviewStore(services().engine, store.account)
    recent = alerts.recent()
    names = {a.user_id: (overview.get(a.user_id).name if overview.get(a.user_id) else "")
             for a in recent}
    return jsonify({
        "kinds": dict(KINDS),
        "rules": [_rule(r) for r in rules.values() if r.enabled],
        "alerts": [{"id": a.id, "rule": rules[a.rule_id].label if a.rule_id in rules else "",
                    "user_id": a.user_id, "name": names.get(a.user_id) or f"User {a.user_id}",
                    "zendesk_url": f"{config.base_url}/agent/users/{a.user_id}",
                    "reason": a.reason, "fired_at": zulu(a.fired_at),
                    "ended_at": zulu(a.ended_at) if a.ended_at else None,
                    "done": list(a.done)} for a in recent],
    })


@bp.post("/api/alerts/rules")
def add_rule():
    store, session, _ = _admin()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send a JSON object")
    rule, errors = check_rule(body)
    if errors:
        return jsonify({"error": {"code": "invalid_rule", "message": "; ".join(
            f"{k}: {v}" for k, v in errors.items()), "fields": errors}}), 422
    saved = AlertStore(services().engine, store.account).add_rule(
        rule, author_id=session.user_id, now=services().clock())
    services().forget_cached(("alert_rules", store.account))
    return jsonify({"rule": _rule(saved)}), 201


@bp.delete("/api/alerts/rules/<int:rule_id>")
def remove_rule(rule_id: int):
    store, _, _ = _admin()
    if not AlertStore(services().engine, store.account).remove_rule(rule_id):
        abort(404, "no such rule")
    services().forget_cached(("alert_rules", store.account))
    return jsonify({"removed": rule_id})


def _rule(rule: AlertRule) -> dict:
    return {"id": rule.id, "kind": rule.kind, "threshold": rule.threshold,
            "label": rule.label, "actions": list(rule.actions)}
