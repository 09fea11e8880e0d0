"""What the sidebar shows, in the agent's words: the glance card (value on its scale, tier,
trend, one line of reasons, coverage, the top suggestion) and the details behind it, every
number, amount, duration and plural formatted by Babel (CLDR data) in the agent's locale, and
reply texts in the requester's.

Made at the web edge from the `Assessment` the cache holds; the JSON contract
(`plugin.web.contract`) stays as it is. The words live in message tables
(`templates/translations/<locale>.json`); a plural is an object keyed by CLDR plural category.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from babel.numbers import (
    format_decimal,
)

from plugin.core.assessment import Assessment, TrendPoint
from plugin.core.model import CustomerValue, SignalScore
from plugin.core.rollup import Rollup
from plugin.core.settings import DEFAULT_SUGGESTIONS, Settings
from plugin.core.suggestions import Suggestion
from plugin.web.contract import notice_audience
from plugin.web.evidence import evidence
from plugin.web.words import Words

SCALE = 100.0
"""The value reads on −SCALE..+SCALE (each group of default weights adds up to 100)."""
TREND_MIN_POINTS = 3
TREND_WINDOW = timedelta(days=30)
UI_WORDS = (
    "value", "suggestions", "no_suggestions", "dismiss", "undo", "undo_for", "dismissed",
    "restored", "insert", "insert_for", "cancel", "reply_label", "inserted", "tag_added",
    "applied", "details", "more_suggestions", "benefits", "costs", "unmeasured", "money_view",
    "money_spend", "money_cost", "money_net", "money_source", "lifetime", "refresh",
    "refreshed", "refresh_soon", "updating",
    "trend_label", "not_found_title", "not_found_body", "unavailable", "retry", "resigning",
    "people", "no_requester", "copy", "copy_for", "copy_label", "copied", "no_org_suggestions",
    "expired_title", "expired_body", "reload",
)
"""The page's own words, sent in the agent's language with the glance."""
REASONS = 3
"""Drivers in the line of reasons."""
AGENT_NOTICES = (
    ("History still loading", "notice_history_loading"),
    ("is unreachable right now", "notice_offline"),
    ("showing the last known value", "notice_offline"),
)
"""Notices that change how to read this customer's value, and the plain words for each."""


def _pin(v, w: Words) -> str | None:
    """A tier a person pinned, in plain words: who, why, until when, and the model's own tier."""
    pin = getattr(v, "override", None)
    if pin is None:
        return None
    return w("pin", tier=w("tier_" + pin.tier), who=pin.created_by_name, reason=pin.reason,
             until=format_date(pin.expires_at, format="medium", locale=w.locale),
             model=w("tier_" + (v.model_tier or v.tier)))


def glance(assessment: Assessment, *, settings: Settings, now: datetime, stale: bool,
           notices: tuple[str, ...], agent_locale: str, reply_locale: str | None,
           tiers: tuple[float, float] | None) -> dict[str, Any]:
    """Everything the sidebar shows, as display strings (the page only places them)."""
    w = Words(agent_locale)
    reply = Words(reply_locale or agent_locale)
    v = assessment.value
    high, low = tiers or ((v.cutoffs.high, v.cutoffs.low) if v.cutoffs else (33.0, -33.0))
    agent_notices = []
    for text in notices:
        if notice_audience(text) != "agent":
            continue
        key = next((key for part, key in AGENT_NOTICES if part in text), "notice_other")
        if w(key) not in agent_notices:
            agent_notices.append(w(key))
    suggestions = [suggestion_view(s, w, reply, settings) for s in assessment.suggestions]
    return {
        "name": v.name,
        "value": _scale(v.value, high, low, w),
        "tier": {"key": v.tier, "label": w("tier_" + v.tier)},
        "little_data": w("little_data") if v.little_data else None,
        "pin": _pin(v, w),
        "trend": _trend(assessment.trend, w),
        "reasons": _reasons(v, w),
        "coverage": _coverage(v, w),
        "suggestions": suggestions,
        "notices": agent_notices,
        "updated": w("updated", ago=w.ago(now - v.computed_at)),
        "computed_at": v.computed_at.isoformat(),
        "stale": stale,
        "words": {key: w(key) for key in UI_WORDS},
        "details": {
            "benefits": [_signal(s, v, w) for s in v.benefits if s.measured],
            "costs": [_signal(s, v, w) for s in v.costs if s.measured],
            "unmeasured": [{"label": w("signal_" + s.signal), "reason": evidence(s.phrase, w)}
                           for s in (*v.benefits, *v.costs) if not s.measured],
            "money": _money(v, w),
            "lifetime": _lifetime(getattr(assessment, "lifetime", None), w),
        },
    }


ORGANIZATION_ACTIONS = ("reply", "link")
"""What a suggestion can do on the organization page, where no ticket is open: a reply to copy
into the next conversation, a link; a tag or a macro acts on a ticket, so those wait for one."""


def people_glance(rollup: Rollup, *, now: datetime, agent_locale: str, currency: str,
                  suggestions: tuple[Suggestion, ...] = (),
                  settings: Settings | None = None) -> dict[str, Any]:
    """The organization's glance: its value from its people, their spend counted once, its
    people ranked (in Details), and the suggestions for it that need no ticket."""
    w = Words(agent_locale)
    shown = [suggestion_view(s, w, w, settings, greet=False) for s in suggestions
             if settings is not None and s.action.type in ORGANIZATION_ACTIONS]
    high, low = rollup.cutoffs
    computed = min((v.computed_at for v in rollup.people), default=now)
    reasons = [w("org_rollup", len(rollup.people))]
    if rollup.spend is not None:
        reasons.insert(0, w("fact_spent", amount=w.money(rollup.spend, currency)))
    reasons.append(w("fact_tickets", rollup.tickets))
    return {
        "name": "",
        "value": _scale(rollup.value, high, low, w),
        "tier": {"key": rollup.tier, "label": w("tier_" + rollup.tier)},
        "little_data": None, "trend": None, "reasons": " · ".join(reasons), "coverage": None,
        "suggestions": shown, "notices": [], "stale": False, "computed_at": computed.isoformat(),
        "updated": w("updated", ago=w.ago(now - computed)),
        "words": {key: w(key) for key in UI_WORDS},
        "details": {"benefits": [], "costs": [], "unmeasured": [], "money": None,
                    "people": [w("person_value", name=v.name, value=w.signed(v.value))
                               + " · " + w("tier_" + v.tier) for v in rollup.people]},
    }


def _scale(value: float, high: float, low: float, w: Words) -> dict[str, Any]:
    return {"text": w.signed(value), "raw": round(value), "position": _position(value),
            "label": w("value_on_scale", value=w.signed(value), low=w.signed(-SCALE),
                       high=w.signed(SCALE)),
            "scale": [w.signed(-SCALE), w.signed(0), w.signed(SCALE)],
            "thresholds": [
                {"at": _position(low), "label": w("threshold_low", value=w.signed(low))},
                {"at": _position(high), "label": w("threshold_high", value=w.signed(high))},
            ]}


def _position(value: float) -> float:
    """Where `value` sits on the scale, 0 (−SCALE) to 1 (+SCALE)."""
    return round(min(max((value + SCALE) / (2 * SCALE), 0.0), 1.0), 4)


def _trend(points: tuple[TrendPoint, ...], w: Words) -> dict[str, Any] | None:
    """The arrow and the change over the last 30 days; nothing with fewer than 3 points."""
    if len(points) < TREND_MIN_POINTS:
        return None
    last = points[-1]
    earlier = [p for p in points if p.at <= last.at - TREND_WINDOW] or [points[0]]
    change = round(last.value - earlier[-1].value)
    direction = "up" if change > 0 else ("down" if change < 0 else "flat")
    return {"direction": direction, "arrow": {"up": "↗", "down": "↘", "flat": "→"}[direction],
            "text": w("trend_" + direction, change=w.signed(change)),
            "points": [round(p.value, 1) for p in points]}


def _reasons(v: CustomerValue, w: Words) -> str:
    """The biggest drivers in one line: "↑ $27.5K spent · ↑ 5 years · ↓ 33 tickets"."""
    scored = sorted((s for s in (*v.benefits, *v.costs) if s.measured and round(s.points)),
                    key=lambda s: -abs(s.points))
    return " · ".join(("↑ " if s.kind == "benefit" else "↓ ") + _fact(s, v, w)
                      for s in scored[:REASONS])


def _fact(s: SignalScore, v: CustomerValue, w: Words) -> str:
    """The figure behind one signal, in a few words."""
    m = v.measures
    slow = round(s.points) > 0
    spend = v.money.spend if v.money and v.money.spend is not None else v.lifetime_spend
    facts = {
        "lifetime_spend": lambda: w("fact_spent", amount=w.money(spend, v.currency)),
        "purchase_frequency": lambda: w("fact_purchases", m.won),
        "purchase_recency": lambda: w("fact_last_purchase", ago=w.since(
            (m.at - m.last_won).total_seconds() / 86_400)) if m.last_won
        else w("signal_" + s.signal),
        "deal_count": lambda: w("fact_deals", m.won),
        "average_deal": lambda: w("fact_per_deal", amount=w.money(
            m.won_amount / m.won if m.won else 0.0, v.currency)),
        "tenure": lambda: w.duration(m.tenure_days),
        "satisfaction": lambda: w("fact_good_ratings", m.ratings, good=w.number(m.good)),
        "advocacy": lambda: w("fact_positive_comments", m.positive_comments),
        "ticket_volume": lambda: w("fact_tickets", m.tickets),
        "first_reply_wait": lambda: w("fact_first_reply_wait" if slow else "fact_usual"),
        "resolution_wait": lambda: w("fact_resolution_wait" if slow else "fact_usual"),
        "back_and_forth": lambda: w("fact_back_and_forth" if slow else "fact_usual"),
        "reopens": lambda: w("fact_reopened", m.reopened_tickets),
        "bad_ratings": lambda: w("fact_bad_ratings", m.bad),
        "escalations": lambda: w("fact_escalations", m.escalations),
        "gone_quiet": lambda: w("fact_quiet", ago=w.duration(m.quiet_days or 0.0)),
    }
    made = facts.get(s.signal)
    return made() if made else w("signal_" + s.signal)


def _coverage(v: CustomerValue, w: Words) -> str | None:
    if v.coverage >= 0.995:
        return None
    return w("coverage", share=w.percent(v.coverage))


def _signal(s: SignalScore, v: CustomerValue, w: Words) -> dict[str, Any]:
    return {"signal": s.signal, "label": w("signal_" + s.signal), "kind": s.kind,
            "points": w("points_of", points=w.number(s.points), max=w.number(s.max_points)),
            "share": round(s.points / s.max_points, 4) if s.max_points else 0.0,
            "fact": _fact(s, v, w), "evidence": evidence(s.phrase, w)}


def _money(v: CustomerValue, w: Words) -> dict[str, str] | None:
    money = v.money
    if money is None or money.spend is None:
        return None
    basis = {"user field": w("basis_user_field"),
             "organization field": w("basis_organization_field"),
             "expected next 12 months": w("basis_expected"),
             "deals": w("basis_deals")}.get(money.basis or "", money.basis or "")
    return {"source": basis, "spend": w.money(money.spend, v.currency),
            "cost": w.money(money.cost_to_serve, v.currency),
            "net": w.money(money.net or 0.0, v.currency)}


def _lifetime(lifetime: Any, w: Words) -> list[list[str]] | None:
    """The lifetime-value figures (a probability of still being active, purchases and spend
    expected over 12 months), when the model gives them."""
    if lifetime is None:
        return None

    def part(name: str) -> Any:
        return lifetime.get(name) if isinstance(lifetime, Mapping) else getattr(lifetime, name)

    rows = [[w("lifetime_active"), w.percent(part("active_probability"))],
            [w("lifetime_purchases"), w.number(part("expected_purchases_12m"))]]
    if part("expected_spend_12m") is not None:
        rows.append([w("lifetime_spend"), w.money(part("expected_spend_12m"), part("currency"))])
    return rows


def suggestion_view(s: Suggestion, w: Words, reply: Words, settings: Settings, *,
                    greet: bool = True) -> dict[str, Any]:
    """One suggestion as the sidebar shows it: the admin's own words where they wrote some,
    else the translated defaults; buttons named after what they do and for which suggestion."""
    rule = settings.suggestions[s.id]
    default = DEFAULT_SUGGESTIONS.get(s.id)
    own_title = default is None or rule.title != default.title
    title = rule.title if own_title else w("suggestion_" + s.id)
    action: dict[str, Any] = {"type": s.action.type, "value": s.action.value}
    if s.action.type == "reply":
        edited = default is None or rule.text != default.text
        text = str(s.action.value) if edited else _reply_text(s, reply)
        greeting = reply("greeting", name=s.facts["first_name"]) \
            if greet and s.facts.get("first_name") else ""
        if greeting and text.lower().startswith(greeting.split()[0].lower()):
            greeting = ""  # the text greets already
        action |= {"value": text, "greeting": greeting, "label": w("action_reply"),
                   "accessible": w("action_reply_for", title=title)}
    elif s.action.type == "tag":
        action |= {"label": w("action_tag_named", tag=s.action.value),
                   "accessible": w("action_tag_for", tag=s.action.value, title=title)}
    else:
        action |= {"label": w("action_" + s.action.type),
                   "accessible": w("action_for", action=w("action_" + s.action.type),
                                   title=title)}
    return {"id": s.id, "title": title, "reason": _reason(s, w), "action": action,
            "dismiss": w("dismiss_for", title=title)}


def _reply_text(s: Suggestion, reply: Words) -> str:
    """A default reply in the requester's language, from the same figures."""
    facts = dict(s.facts)
    facts["tenure"] = reply.duration(float(facts.get("known_days", "0") or 0))
    return reply("reply_" + s.id, **facts).strip()


def _reason(s: Suggestion, w: Words) -> str:
    """The suggestion's reason in the agent's language, from its figures."""
    f = s.facts
    num = lambda key: float(f.get(key) or 0)  # noqa: E731
    known = w.duration(num("known_days"))
    if s.id == "personalise":
        text = w("reason_personalise", name=f.get("first_name", ""), tenure=known)
        if f.get("last_topic"):
            text += w("reason_last_topic", topic=_quoted(f["last_topic"]))
        return text
    if s.id == "loyalty_reward":
        parts = []
        if "loyal_days" in f:
            parts.append(w("reason_part_tenure", tenure=w.duration(num("loyal_days"))))
        if "spend" in f:
            parts.append(w("fact_spent", amount=w.money(num("spend"), f["currency"])))
        if "purchases" in f:
            parts.append(w("fact_purchases", num("purchases")))
        return w("reason_loyalty_reward", parts=", ".join(parts))
    if s.id == "proactive_outreach":
        parts = []
        if "value" in f:
            parts.append(w("reason_part_low", value=w.signed(num("value"))))
        if "bad_recent" in f:
            parts.append(w("reason_part_bad", num("bad_recent"), days=w.number(num("days"))))
        return w("reason_proactive_outreach", parts=", ".join(parts))
    counts = {"onboarding": "tickets", "recurring_issue": "count", "success_checkin": "recent",
              "community_invite": "good", "preferred_channel": "used", "we_heard_you": "age_days",
              "surprise_delight": "left"}
    values = {key: w.number(float(value)) if value.replace(".", "", 1).isdigit() else value
              for key, value in f.items()}
    values |= {"known": known, "known_ago": w.since(num("known_days")),
               "topic": _quoted(f.get("topic", "")),
               "age": w.duration(num("age_days")), "age_ago": w.since(num("age_days")),
               "before": format_decimal(num("before"), format="#,##0.#", locale=w.locale),
               "kind": w("feedback_" + f.get("kind", "good"))}
    return w("reason_" + s.id, num(counts.get(s.id, "")) if s.id in counts else None, **values)


def _quoted(text: str) -> str:
    return text if text.startswith("“") else f"“{text}”"
