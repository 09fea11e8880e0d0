"""The customer-value model: value = total benefits − total costs.

Both source articles state customer value as CV = B − C (Zendesk, "What is customer value?",
2024; Bitrix24, "What Is Customer Value in Marketing?", 2024). Each signal is measured from the
customer's history, normalised to 0..1, and multiplied by the admin's weight; the weights of the
default benefits and of the default costs each add up to 100, so a value reads on −100..+100.

`score` is pure: the clock is its `now` argument and it reads nothing but its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin.core.domain import CRM_NAMES, CustomerHistory, Profile
from plugin.core.formulas import (
    decay_weight,
    log_scale,
    percentile,
    rate_per_year,
    saturation,
    wilson_lower_bound,
)
from plugin.core.measures import RECENT_DAYS, Measures, measure
from plugin.core.settings import BENEFIT_SIGNALS, COST_SIGNALS, SIGNALS, Settings

# Half-saturation points: the measurement at which a signal earns half its weight.
HALF_PURCHASES_PER_YEAR = 2.0
HALF_DEALS = 5.0
HALF_TENURE_YEARS = 2.0
HALF_POSITIVE_COMMENTS = 2.0
HALF_TICKETS = 6.0
"""Decayed tickets; a steady ticket a month with a 180-day half-life settles near 8.7."""
HALF_FIRST_REPLY_MINUTES = 240.0
HALF_RESOLUTION_MINUTES = 2 * 24 * 60.0
HALF_REPLIES_PER_TICKET = 4.0
HALF_REOPENS = 2.0
HALF_BAD_RATINGS = 2.0
HALF_ESCALATIONS = 3.0
MEAN_PRIOR_WEIGHT = 0.5
"""Pseudo-weight of "no wait, no back-and-forth" in the decayed means of the cost signals.

Additive (Lidstone) smoothing towards zero: with many recent tickets it changes little, but a
single slow reply fades as its ticket ages instead of standing for the customer's whole
experience, so older events weigh less in these signals too.
"""
AVERAGE_DEAL_SHARE = 0.25
"""An average deal of this share of the spend reference earns the average-deal signal in full."""
DRIVERS = 3
MAX_AMOUNT = 1e12
"""Amounts above this are data errors, not customers."""


@dataclass(frozen=True, slots=True)
class SignalScore:
    """One signal's contribution: its 0..1 measurement, points and the evidence behind them."""

    signal: str
    kind: str
    label: str
    measure: float
    points: float
    max_points: float
    evidence: str


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Tier boundaries on the value scale: high at or above `high`, low at or below `low`."""

    high: float
    low: float

    def tier(self, value: float) -> str:
        if value >= self.high:
            return "high"
        if value <= self.low:
            return "low"
        return "medium"


@dataclass(frozen=True, slots=True)
class Spend:
    """What the purchase signals read, for display: where spend came from and the deals."""

    source: str
    """`fields`, or the CRM of the settings' `spend_source` (`sell`, `bitrix24`)."""
    lifetime: float
    purchases: int
    lost: int
    per_year: float
    last_purchase_days: float | None
    average_deal: float
    skipped_currencies: tuple[tuple[str, int], ...] = ()
    """Won deals left out for want of an exchange rate, by currency."""


@dataclass(frozen=True, slots=True)
class CustomerValue:
    user_id: int
    name: str
    value: float
    tier: str
    benefits: tuple[SignalScore, ...]
    costs: tuple[SignalScore, ...]
    little_data: bool
    segment: str | None
    settings_version: int
    computed_at: datetime
    currency: str
    lifetime_spend: float
    cost_to_serve: float
    notices: tuple[str, ...]
    measures: Measures
    spend: Spend | None = None
    crm_degraded: bool = False
    """Computed without the CRM spend the settings ask for (see `CustomerHistory`)."""
    cutoffs: Cutoffs | None = None
    """The tier cutoffs `tier` came from (the tagger's hysteresis reads the same ones)."""

    @property
    def total_benefits(self) -> float:
        return round(sum(s.points for s in self.benefits), 1)

    @property
    def total_costs(self) -> float:
        return round(sum(s.points for s in self.costs), 1)

    @property
    def top_drivers(self) -> tuple[SignalScore, ...]:
        """The signals that move the value most, largest first."""
        ranked = sorted((s for s in self.benefits + self.costs if s.points > 0),
                        key=lambda s: (-s.points, s.signal))
        return tuple(ranked[:DRIVERS])


def absolute_cutoffs(settings: Settings) -> Cutoffs:
    if settings.tiers.mode != "absolute":
        raise ValueError("percentile tiers need the account's values: use percentile_cutoffs")
    return Cutoffs(high=settings.tiers.high, low=settings.tiers.low)


def percentile_cutoffs(values: Sequence[float], settings: Settings) -> Cutoffs:
    """Cutoffs at the configured percentiles of the account's own customers' values."""
    if settings.tiers.mode != "percentile":
        return absolute_cutoffs(settings)
    if not values:
        return Cutoffs(high=math.inf, low=-math.inf)
    ordered = sorted(values)
    return Cutoffs(high=percentile(ordered, settings.tiers.high),
                   low=percentile(ordered, settings.tiers.low))


def account_cutoffs(histories: Iterable[CustomerHistory], settings: Settings,
                    now: datetime) -> Cutoffs:
    """The account's tier cutoffs: the absolute ones, or percentiles of every customer's value
    (the histories are only read in percentile mode)."""
    if settings.tiers.mode == "absolute":
        return absolute_cutoffs(settings)
    untiered = Cutoffs(0, 0)
    return percentile_cutoffs([score(h, settings, now, untiered).value for h in histories],
                              settings)


def score(
    history: CustomerHistory,
    settings: Settings,
    now: datetime,
    cutoffs: Cutoffs | None = None,
) -> CustomerValue:
    """The customer's value as of `now`. Percentile tiers need `cutoffs` from the account."""
    if cutoffs is None:
        cutoffs = absolute_cutoffs(settings)
    profile = history.profile
    weights, segment = settings.weights_for(profile.all_tags)
    m = measure(history, now, settings.half_life_days, settings.currency,
                dict(settings.exchange_rates))
    notices = list(history.notices)
    spend, spend_evidence = _lifetime_spend(profile, m, settings, notices)
    measured = _benefits(m, spend, spend_evidence, settings) | _costs(m, settings)
    scores = {name: _points(name, weights, *measured[name]) for name in SIGNALS}
    benefits = tuple(scores[name] for name in BENEFIT_SIGNALS)
    costs = tuple(scores[name] for name in COST_SIGNALS)
    value = round(sum(s.points for s in benefits) - sum(s.points for s in costs), 1)
    little = m.tickets < settings.little_data_tickets and not m.won and not spend
    return CustomerValue(
        user_id=profile.id, name=profile.name, value=value, tier=cutoffs.tier(value),
        benefits=benefits, costs=costs, little_data=little, segment=segment,
        settings_version=settings.version, computed_at=now, currency=settings.currency,
        lifetime_spend=round(spend, 2),
        cost_to_serve=round(m.tickets * settings.cost_per_ticket, 2),
        notices=tuple(notices), measures=m, spend=_spend(m, spend, settings),
        crm_degraded=history.crm_degraded, cutoffs=cutoffs,
    )


def _spend(m: Measures, lifetime: float, settings: Settings) -> Spend:
    return Spend(
        source=settings.spend_source, lifetime=round(lifetime, 2), purchases=m.won,
        lost=m.lost, per_year=round(rate_per_year(m.decayed_won, settings.half_life_days), 2),
        last_purchase_days=None if m.last_won_days is None else round(m.last_won_days, 1),
        average_deal=round(m.average_deal, 2),
        skipped_currencies=tuple(sorted(m.skipped_currencies.items())))


def _points(name: str, weights: Mapping[str, float], value: float, evidence: str) -> SignalScore:
    weight = float(weights[name])
    kind = "benefit" if name in BENEFIT_SIGNALS else "cost"
    return SignalScore(signal=name, kind=kind, label=SIGNALS[name], measure=round(value, 4),
                       points=round(weight * value, 1), max_points=weight, evidence=evidence)


def _lifetime_spend(
    profile: Profile, m: Measures, settings: Settings, notices: list[str]
) -> tuple[float, str]:
    money = _money_formatter(settings.currency)
    if m.skipped_currencies:
        codes = ", ".join(sorted(m.skipped_currencies))
        notices.append(f"Deals in {codes} left out: no exchange rate to {settings.currency}")
    if m.won:
        deals = "deal" if m.won == 1 else "deals"
        return m.won_amount, f"{money(m.won_amount)} over {m.won} won {deals}"
    if settings.spend_source in CRM_NAMES:
        # Spend comes from the CRM alone: a stale field beside it would count twice.
        return 0.0, f"no won deals in {CRM_NAMES[settings.spend_source]}"
    sources = [("user field", profile.fields, settings.spend_field)]
    if profile.organization is not None:
        sources.append(("organization field", profile.organization.fields,
                        settings.organization_spend_field))
    for where, values, key in sources:
        raw = values.get(key)
        if raw is None or raw == "":
            continue
        amount = _amount(raw)
        if amount is None:
            notices.append(f"The {where} {key} is not an amount: {str(raw)[:40]}")
            continue
        return amount, f"{money(amount)} lifetime ({where} {key})"
    return 0.0, "no spend recorded"


def _amount(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        amount = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT:
        return None
    return amount


def _benefits(
    m: Measures, spend: float, spend_evidence: str, settings: Settings
) -> dict[str, tuple[float, str]]:
    money = _money_formatter(settings.currency)
    hl = settings.half_life_days
    per_year = rate_per_year(m.decayed_won, hl)
    recency = 0.0 if m.last_won_days is None else decay_weight(m.last_won_days, hl)
    satisfaction = wilson_lower_bound(m.satisfied, m.rated)
    return {
        "lifetime_spend": (log_scale(spend, settings.spend_reference), spend_evidence),
        "purchase_frequency": (
            saturation(per_year, HALF_PURCHASES_PER_YEAR),
            f"about {per_year:.1f} purchases a year lately" if m.won else "no purchases recorded"),
        "purchase_recency": (
            recency,
            "no purchases recorded" if m.last_won_days is None
            else f"last purchase {describe_days(m.last_won_days)} ago"),
        "deal_count": (
            saturation(m.won, HALF_DEALS),
            f"{m.won} won, {m.lost} lost" if m.won or m.lost else "no deals recorded"),
        "average_deal": (
            log_scale(m.average_deal, settings.spend_reference * AVERAGE_DEAL_SHARE),
            f"{money(m.average_deal)} on average" if m.won else "no deals recorded"),
        "tenure": (
            saturation(m.tenure_days / 365.0, HALF_TENURE_YEARS),
            f"customer for {describe_days(m.tenure_days)}"),
        "satisfaction": (satisfaction, _satisfaction_evidence(m)),
        "advocacy": (
            saturation(m.decayed_positive_comments, HALF_POSITIVE_COMMENTS),
            _count(m.positive_comments, "positive comment") if m.positive_comments
            else "no positive comments yet"),
    }


def _costs(m: Measures, settings: Settings) -> dict[str, tuple[float, str]]:
    money = _money_formatter(settings.currency)
    reply, resolution, replies = m.reply_wait, m.resolution, m.replies_per_ticket
    shrunk_reply = _shrunk(m.reply_wait_sum, m.reply_wait_weight)
    shrunk_resolution = _shrunk(m.resolution_sum, m.resolution_weight)
    shrunk_replies = _shrunk(m.replies_sum, m.replies_weight)
    volume = (f"{m.tickets_recent} in the last {RECENT_DAYS} days, {m.tickets} in all "
              f"(about {money(m.tickets * settings.cost_per_ticket)} to serve)")
    return {
        "ticket_volume": (saturation(m.decayed_tickets, HALF_TICKETS),
                          volume if m.tickets else "no tickets yet"),
        "first_reply_wait": (
            saturation(shrunk_reply, HALF_FIRST_REPLY_MINUTES),
            "no reply times recorded" if reply is None
            else f"first reply after {describe_minutes(reply)} on average"),
        "resolution_wait": (
            saturation(shrunk_resolution, HALF_RESOLUTION_MINUTES),
            "no resolution times recorded" if resolution is None
            else f"resolved after {describe_minutes(resolution)} on average"),
        "back_and_forth": (
            saturation(shrunk_replies, HALF_REPLIES_PER_TICKET),
            "no reply counts recorded" if replies is None
            else f"{replies:.1f} replies per ticket"),
        "reopens": (
            saturation(m.decayed_reopens, HALF_REOPENS),
            f"{_count(m.reopened_tickets, 'ticket')} reopened ({_count(m.reopens, 'reopen')})"
            if m.reopens else "no reopened tickets"),
        "bad_ratings": (saturation(m.decayed_bad, HALF_BAD_RATINGS),
                        _count(m.bad, "bad rating") if m.bad else "no bad ratings"),
        "escalations": (
            saturation(m.decayed_escalations, HALF_ESCALATIONS),
            _count(m.escalations, "urgent or high priority ticket")
            if m.escalations else "no urgent or high priority tickets"),
    }


def _shrunk(weighted_sum: float, weight: float) -> float:
    return weighted_sum / (weight + MEAN_PRIOR_WEIGHT)


def _satisfaction_evidence(m: Measures) -> str:
    if not m.ratings:
        return "no ratings yet"
    parts = [f"{m.good} of {_count(m.ratings, 'rating')} good"]
    if m.survey_ratings:
        parts.append(f"average {m.survey_sum / m.survey_ratings:.1f}/5 over "
                     f"{_count(m.survey_ratings, 'survey')}")
    return "; ".join(parts) + " (recent ones weigh most)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _money_formatter(currency: str):
    def money(amount: float) -> str:
        return f"{currency} {amount:,.0f}"
    return money


def describe_days(days: float) -> str:
    """A duration for people: "2 years 3 months", "5 months", "12 days"."""
    whole = int(days)
    if whole < 1:
        return "less than a day"
    if whole < 60:
        return _count(whole, "day")
    months = int(days / 30.44)
    years, months = divmod(months, 12)
    if not years:
        return _count(months, "month")
    return _count(years, "year") + (f" {_count(months, 'month')}" if months else "")


def describe_minutes(minutes: float) -> str:
    """A wait for people: "45 min", "3 h 20 min", "2.5 days"."""
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        hours, rest = divmod(int(round(minutes)), 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes / 1440:.1f} days"
