"""The JSON contract of an assessment, made at the edges only.

`customer-value score --json` prints `to_json(...)` and the app's `GET /api/customers/<id>/value`
returns it (plus `stale`), so both read the same. The shape is documented in the README; outside
checks rely on it.
"""

from __future__ import annotations

import json
from typing import Any

from plugin.core.assessment import Assessment
from plugin.core.model import CustomerValue, SignalScore
from plugin.core.times import zulu
from plugin.service_layer.values import CachedValue

ADMIN_NOTICES = (
    "left out: no exchange rate", "CRM contacts match", "No email to look up in",
    "is not configured", "refused the app's credentials", "answered \"not found\"",
    "is not an amount",
)
"""Setup problems (an admin fixes them on the settings page), by the words that start them."""


def notice_audience(text: str) -> str:
    """`admin` for a setup problem, `agent` for one that changes how to read the value."""
    return "admin" if any(part in text for part in ADMIN_NOTICES) else "agent"


def to_json(assessment: Assessment) -> dict[str, Any]:
    v = assessment.value
    return {
        "user_id": v.user_id,
        "name": v.name,
        "value": v.value,
        "tier": v.tier,
        "total_benefits": v.total_benefits,
        "total_costs": v.total_costs,
        "benefits": [_signal(s) for s in v.benefits],
        "costs": [_signal(s) for s in v.costs],
        "top_drivers": [
            {"signal": s.signal, "label": s.label, "kind": s.kind,
             "points": s.points if s.kind == "benefit" else -s.points}
            for s in v.top_drivers
        ],
        "little_data": v.little_data,
        "segment": v.segment,
        "currency": v.currency,
        "lifetime_spend": v.lifetime_spend,
        "cost_to_serve": v.cost_to_serve,
        "coverage": v.coverage,
        "money": _money(v),
        "spend": _spend(v),
        "lifetime": _lifetime(assessment),
        "notices": list(v.notices),
        "notice_audiences": [notice_audience(n) for n in v.notices],
        "tiers": {"high": v.cutoffs.high, "low": v.cutoffs.low} if v.cutoffs else None,
        "crm_degraded": v.crm_degraded,
        "suggestions": [
            {"id": s.id, "title": s.title, "reason": s.reason,
             "action": {"type": s.action.type, "value": s.action.value}}
            for s in assessment.suggestions
        ],
        "trend": [{"at": zulu(p.at), "value": p.value, "tier": p.tier}
                  for p in assessment.trend],
        "settings_version": v.settings_version,
        "computed_at": zulu(v.computed_at),
        "override": _override(v),
    }


def _override(v: CustomerValue) -> dict[str, Any] | None:
    """The tier a person pinned (`tier` then shows it), with why, by whom and until when."""
    pin = v.override
    if pin is None:
        return None
    return {"id": pin.id, "tier": pin.tier, "model_tier": v.model_tier, "reason": pin.reason,
            "subject": pin.subject, "subject_id": pin.subject_id,
            "expires_at": zulu(pin.expires_at), "pinned_by": pin.created_by_name,
            "pinned_at": zulu(pin.created_at)}


def _money(v: CustomerValue) -> dict[str, Any] | None:
    """The money view: spend (None when unknown), cost to serve, and their difference."""
    money = v.money
    if money is None:
        return None
    return {"currency": v.currency, "spend": money.spend, "basis": money.basis,
            "cost_to_serve": money.cost_to_serve,
            "net": None if money.net is None else round(money.net, 2)}


def _spend(v: CustomerValue) -> dict[str, Any] | None:
    """The purchase figures the sidebar shows: lifetime spend, purchases (won deals), how
    often lately (a year), days since the last one, the average deal, and won deals left out
    for want of an exchange rate."""
    s = v.spend
    if s is None:
        return None
    return {"source": s.source, "currency": v.currency, "lifetime": s.lifetime,
            "purchases": s.purchases, "lost": s.lost, "per_year": s.per_year,
            "last_purchase_days": s.last_purchase_days, "average_deal": s.average_deal,
            "skipped_currencies": dict(s.skipped_currencies)}


def _lifetime(assessment: Assessment) -> dict[str, Any] | None:
    """The next 12 months' outlook (`plugin.core.lifetime`): the chance the customer is still
    buying, expected purchases and spend, and what the figures rest on; None without an
    account lifetime model or a known purchase."""
    f = assessment.lifetime
    if f is None:
        return None
    return {"active_probability": f.active_probability,
            "expected_purchases_12m": f.expected_purchases,
            "expected_spend_12m": f.expected_spend, "currency": f.currency, "basis": f.basis}


def _signal(s: SignalScore) -> dict[str, Any]:
    return {"signal": s.signal, "label": s.label, "points": s.points,
            "max_points": s.max_points, "evidence": s.evidence, "measured": s.measured,
            "reason": s.reason}


def cached_json(cached: CachedValue) -> dict[str, Any]:
    """The contract object of a cached assessment: a failed refresh's notice added, `stale`
    set."""
    body = to_json(cached.result)
    if cached.notice:
        body["notices"] = [*body["notices"], cached.notice]
        body["notice_audiences"] = [*body["notice_audiences"], notice_audience(cached.notice)]
    body["stale"] = cached.stale
    return body


def encode(cached: CachedValue) -> bytes:
    """`cached_json` as compact UTF-8 JSON with sorted keys: warm requests send these bytes
    as they are (see `CachedValue.encoded`)."""
    return json.dumps(cached_json(cached), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
