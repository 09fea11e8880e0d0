"""Personalised suggestions for the conversation at hand, from the nine tips of Zendesk's
"What is customer value?" (2024): personalise, channels, onboarding, customer success, recurring
issues, closing the feedback loop, surprise and delight, loyalty rewards and community — plus
proactive outreach to customers at risk.

`suggest` is pure: it reads the history, its score and the admin's rules, and returns what to
show; it changes nothing. Each suggestion carries the evidence that triggered it as its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from plugin.core.domain import CustomerHistory, Ticket
from plugin.core.measures import BASELINE_DAYS, RECENT_DAYS, TOPIC_WINDOW_DAYS, Measures
from plugin.core.model import CustomerValue
from plugin.core.settings import PLACEHOLDER, Settings, SuggestionRule
from plugin.core.signals import describe_days

PREFERRED_CHANNEL_SHARE = 0.6
PREFERRED_CHANNEL_MIN_TICKETS = 3
RISING_VOLUME_FACTOR = 2.0
RISING_VOLUME_MIN_TICKETS = 3
RECURRING_TOPIC_MIN = 3
ENGAGED_MIN_TICKETS = 5
ENGAGED_MIN_GOOD = 3
AT_RISK_BAD_RATINGS = 2
SLOW_REPLY_MINUTES = 8 * 60.0
"""A first reply slower than a working day is a bad experience worth making up for."""
QUOTE_LENGTH = 80
SYSTEM_TAG_PREFIXES = ("cv_",)


@dataclass(frozen=True, slots=True)
class Action:
    """The one click: `type` is reply, macro, tag or link; `value` the text, id, tag or URL."""

    type: str
    value: str | int


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    title: str
    reason: str
    action: Action
    priority: int
    facts: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The figures behind `reason` and the action's text (placeholders, counts, days), so an
    edge can say the same in another language."""


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a rule may read, gathered once."""

    history: CustomerHistory
    value: CustomerValue
    settings: Settings
    now: datetime
    ticket: Ticket | None
    gestures_used: int

    @property
    def m(self) -> Measures:
        return self.value.measures


Trigger = Callable[[Context], "tuple[str, dict[str, str]] | None"]
"""A rule's test: None when it does not apply, else its reason and placeholder values."""


def suggest(
    history: CustomerHistory,
    value: CustomerValue,
    settings: Settings,
    now: datetime,
    *,
    ticket_id: int | None = None,
    gestures_used: int = 0,
) -> list[Suggestion]:
    """The suggestions that apply, most pressing first, at most `settings.max_suggestions`.

    `ticket_id` is the ticket the agent has open (the latest one when omitted);
    `gestures_used` counts surprise-and-delight gestures already given this month.
    """
    ticket = _current_ticket(history, ticket_id, value.measures)
    ctx = Context(history, value, settings, now, ticket, gestures_used)
    found = []
    for rule_id, (priority, trigger) in RULES.items():
        rule = settings.suggestions[rule_id]
        if not rule.enabled:
            continue
        hit = trigger(ctx)
        if hit is None:
            continue
        reason, extra = hit
        values = {**_placeholders(ctx), **extra}
        action = _action(rule, values)
        if action is not None:
            found.append(Suggestion(rule_id, rule.title, reason, action, priority, values))
    found.sort(key=lambda s: -s.priority)
    return found[: settings.max_suggestions]


def _current_ticket(history: CustomerHistory, ticket_id: int | None, m: Measures) -> Ticket | None:
    if ticket_id is not None:
        for ticket in history.tickets:
            if ticket.id == ticket_id:
                return ticket
    return m.last_ticket


def _placeholders(ctx: Context) -> dict[str, str]:
    profile = ctx.history.profile
    return {
        "first_name": profile.first_name or profile.name,
        "name": profile.name,
        "company": profile.organization.name if profile.organization else "",
        "tenure": describe_days(ctx.m.known_days),
        "last_topic": _last_topic(ctx),
        "community_link": ctx.settings.community_link,
        "onboarding_link": ctx.settings.onboarding_link,
        "gestures_left": str(max(ctx.settings.gesture_budget - ctx.gestures_used, 0)),
        "channel": "",
        "topic": "",
        "known_days": str(int(ctx.m.known_days)),
    }


def render(text: str, values: Mapping[str, str]) -> str | None:
    """Fill `{placeholder}`s from `values`; None when one it needs is empty (nothing to say).

    Only bare names are replaced, never attribute or index lookups, so an admin's text cannot
    reach into objects the way `str.format` would let it.
    """
    missing = False

    def fill(match) -> str:
        nonlocal missing
        filled = values.get(match.group(1))
        if filled is None:
            return match.group(0)
        if not filled:
            missing = True
        return filled

    rendered = PLACEHOLDER.sub(fill, text)
    return None if missing else rendered


def _action(rule: SuggestionRule, values: Mapping[str, str]) -> Action | None:
    if rule.action == "macro" and rule.macro_id:
        return Action("macro", rule.macro_id)
    if rule.action == "tag" and rule.tag:
        return Action("tag", rule.tag)
    if rule.action == "link" and rule.link:
        return Action("link", rule.link)
    if rule.action == "reply":
        text = render(rule.text, values)
        return Action("reply", text.strip()) if text and text.strip() else None
    return None


def _last_topic(ctx: Context) -> str:
    current = ctx.ticket.id if ctx.ticket is not None else None
    earlier = (t for t in ctx.history.tickets if t.id != current and t.created_at <= ctx.now)
    latest = max(earlier, key=lambda t: t.created_at, default=None)
    if latest is None:
        return ""
    return latest.subject or next((t for t in latest.tags if not _is_label(t, ctx)), "")


def _is_label(tag: str, ctx: Context) -> bool:
    """A tag that names the customer rather than what they wrote about: the app's own tags,
    the admin's system tags, and every tag the requester or their organization carries
    (Zendesk copies those onto each new ticket, so "vip" would otherwise look like a topic)."""
    settings = ctx.settings
    tag = tag.lower()
    return (tag.startswith(SYSTEM_TAG_PREFIXES) or tag in settings.system_tags
            or tag in (settings.tag_high, settings.tag_low)
            or tag in (t.lower() for t in ctx.history.profile.all_tags))


def _personalise(ctx: Context):
    profile = ctx.history.profile
    if not profile.first_name:
        return None
    reason = f"{profile.first_name}, customer for {describe_days(ctx.m.known_days)}"
    topic = _last_topic(ctx)
    if topic:
        reason += f"; last topic: {_quote(topic)}"
    return reason, {}


def _preferred_channel(ctx: Context):
    m = ctx.m
    if m.tickets < PREFERRED_CHANNEL_MIN_TICKETS or ctx.ticket is None:
        return None
    channel, used = max(m.channels.items(), key=lambda item: (item[1], item[0]))
    if used / m.tickets < PREFERRED_CHANNEL_SHARE or channel in (ctx.ticket.channel, "unknown"):
        return None
    name = channel.replace("_", " ")
    reason = (f"Uses {name} for {used} of {m.tickets} tickets; "
              f"this one came by {ctx.ticket.channel.replace('_', ' ')}")
    return reason, {"channel": name, "used": str(used), "tickets": str(m.tickets),
                    "this_channel": ctx.ticket.channel.replace("_", " ")}


def _onboarding(ctx: Context):
    """Only for a customer whose earliest evidence (user, first ticket, first deal) is recent:
    someone with earlier history is not new, whenever their user record was made."""
    if ctx.m.known_days > ctx.settings.new_customer_days:
        return None
    tickets = "no tickets" if not ctx.m.tickets else f"{ctx.m.tickets} ticket(s)"
    return (f"New customer: first seen {describe_days(ctx.m.known_days)} ago, {tickets} so far",
            {"tickets": str(ctx.m.tickets)})


def _success_checkin(ctx: Context):
    m = ctx.m
    monthly_before = m.tickets_baseline * RECENT_DAYS / BASELINE_DAYS
    if (ctx.value.tier != "high" or m.tickets_recent < RISING_VOLUME_MIN_TICKETS
            or m.tickets_recent <= RISING_VOLUME_FACTOR * monthly_before):
        return None
    reason = (f"High-value customer with {m.tickets_recent} tickets in the last {RECENT_DAYS} "
              f"days, against about {monthly_before:.1f} a month before")
    return reason, {"recent": str(m.tickets_recent), "days": str(RECENT_DAYS),
                    "before": f"{monthly_before:.1f}"}


def _recurring_issue(ctx: Context):
    topics = [(count, tag) for tag, count in ctx.m.recent_topics.items()
              if count >= RECURRING_TOPIC_MIN and not _is_label(tag, ctx)]
    if not topics:
        return None
    count, tag = max(topics)
    topic = tag.replace("_", " ")
    reason = f"{_quote(topic)} came up in {count} tickets in {TOPIC_WINDOW_DAYS} days"
    return reason, {"topic": topic, "count": str(count), "days": str(TOPIC_WINDOW_DAYS)}


def _we_heard_you(ctx: Context):
    feedback = ctx.m.feedback
    if feedback is None:
        return None
    age = (ctx.now - feedback.rated_at).total_seconds() / 86_400
    if age > RECENT_DAYS:
        return None
    kind = "good" if feedback.good else "critical"
    return (f"Left {kind} feedback {describe_days(age)} ago on #{feedback.ticket_id}: "
            f"{_quote(feedback.comment)}"), {"kind": kind, "age_days": str(int(age)),
                                            "ticket_id": str(feedback.ticket_id),
                                            "comment": _quote(feedback.comment)}


def _surprise_delight(ctx: Context):
    left = ctx.settings.gesture_budget - ctx.gestures_used
    if ctx.value.tier != "high" or ctx.value.little_data or left <= 0:
        return None
    bad = _bad_experience(ctx)
    if bad is None:
        return None
    return (f"High-value customer after {bad}; {left} of {ctx.settings.gesture_budget} "
            f"gestures left this month"), {"left": str(left),
                                           "budget": str(ctx.settings.gesture_budget)}


def _bad_experience(ctx: Context) -> str | None:
    if ctx.m.bad_recent:
        return f"{ctx.m.bad_recent} bad rating(s) in the last {RECENT_DAYS} days"
    ticket = ctx.ticket
    if ticket is not None and ticket.reopens:
        return f"this ticket was reopened {ticket.reopens} time(s)"
    if ticket is not None and (ticket.first_reply_minutes or 0) > SLOW_REPLY_MINUTES:
        return f"a first reply after {ticket.first_reply_minutes / 60:.0f} hours"
    return None


def _loyalty_reward(ctx: Context):
    """Loyalty needs the evidence that names it, and never for a customer with little data or
    of low value (a reward is spent on customers worth keeping; a pinned tier counts as the
    tier)."""
    s, m, v = ctx.settings, ctx.m, ctx.value
    if v.little_data or v.tier == "low":
        return None
    reasons, facts = [], {}
    if m.known_days >= s.loyalty_tenure_days:
        reasons.append(f"customer for {describe_days(m.known_days)}")
        facts["loyal_days"] = str(int(m.known_days))
    if v.lifetime_spend >= s.loyalty_spend > 0:
        reasons.append(f"{v.currency} {v.lifetime_spend:,.0f} spent")
        facts["spend"], facts["currency"] = f"{v.lifetime_spend:.2f}", v.currency
    if m.won >= s.loyalty_purchases > 0:
        reasons.append(f"{m.won} purchases")
        facts["purchases"] = str(m.won)
    if not reasons:
        return None
    return "Loyal customer: " + ", ".join(reasons), facts


def _community_invite(ctx: Context):
    m = ctx.m
    if m.tickets < ENGAGED_MIN_TICKETS or m.good < ENGAGED_MIN_GOOD or not m.positive_comments:
        return None
    return (f"Engaged customer: {m.good} good ratings and {m.positive_comments} positive "
            f"comment(s) over {m.tickets} tickets"), {"good": str(m.good),
                                                      "comments": str(m.positive_comments),
                                                      "tickets": str(m.tickets)}


def _proactive_outreach(ctx: Context):
    m, v = ctx.m, ctx.value
    reasons, facts = [], {}
    if v.tier == "low" and not v.little_data:
        reasons.append(f"low value ({v.value:+.0f})")
        facts["value"] = f"{v.value:.0f}"
    if m.bad_recent >= AT_RISK_BAD_RATINGS:
        reasons.append(f"{m.bad_recent} bad ratings in the last {RECENT_DAYS} days")
        facts["bad_recent"], facts["days"] = str(m.bad_recent), str(RECENT_DAYS)
    if not reasons:
        return None
    return "At risk: " + ", ".join(reasons), facts


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1].rstrip() + "…"
    return f"“{text}”"


RULES: Mapping[str, tuple[int, Trigger]] = {
    "proactive_outreach": (95, _proactive_outreach),
    "surprise_delight": (90, _surprise_delight),
    "success_checkin": (85, _success_checkin),
    "onboarding": (80, _onboarding),
    "we_heard_you": (75, _we_heard_you),
    "recurring_issue": (70, _recurring_issue),
    "loyalty_reward": (60, _loyalty_reward),
    "personalise": (50, _personalise),
    "preferred_channel": (40, _preferred_channel),
    "community_invite": (30, _community_invite),
}
"""Every rule, with its priority (higher shows first) and trigger."""
