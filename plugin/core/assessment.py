"""One customer's assessment — value and suggestions — and its JSON form.

The JSON object is a contract: `customer-value score --json` prints it and the app's
`GET /api/customers/<id>/value` returns it, so both read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plugin.core.domain import CustomerHistory
from plugin.core.model import CustomerValue, Cutoffs, SignalScore, score
from plugin.core.settings import Settings
from plugin.core.suggestions import Suggestion, suggest


@dataclass(frozen=True, slots=True)
class Assessment:
    value: CustomerValue
    suggestions: tuple[Suggestion, ...]


def assess(
    history: CustomerHistory,
    settings: Settings,
    now: datetime,
    *,
    cutoffs: Cutoffs | None = None,
    ticket_id: int | None = None,
    gestures_used: int = 0,
) -> Assessment:
    value = score(history, settings, now, cutoffs)
    found = suggest(history, value, settings, now, ticket_id=ticket_id,
                    gestures_used=gestures_used)
    return Assessment(value=value, suggestions=tuple(found))


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
        "spend": _spend(v),
        "notices": list(v.notices),
        "crm_degraded": v.crm_degraded,
        "suggestions": [
            {"id": s.id, "title": s.title, "reason": s.reason,
             "action": {"type": s.action.type, "value": s.action.value}}
            for s in assessment.suggestions
        ],
        "settings_version": v.settings_version,
        "computed_at": isoformat(v.computed_at),
    }


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


def _signal(s: SignalScore) -> dict[str, Any]:
    return {"signal": s.signal, "label": s.label, "points": s.points,
            "max_points": s.max_points, "evidence": s.evidence}


def isoformat(moment: datetime) -> str:
    """UTC, second precision, with a Z: the way Zendesk writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
