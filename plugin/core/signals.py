"""Each signal read from one moment's measures: measured or not (and why not), its 0..1
measurement, and the evidence an agent reads.

A signal with no data for this customer is **not measured**: it earns nothing and its weight
leaves the scale (`plugin.core.model` renormalises). A recorded zero (a spend field set to 0, a
CRM contact with no won deals, a customer with tickets and no reopens) is measured, and zero.

Every measurement is turned into points by how far it lies *beyond the account's typical
customer* (`Norms.signals`, medians from `plugin.core.norms`): a benefit at or below typical
earns nothing extra, a cost at or below typical costs nothing. So a typical customer sits near
0, a customer who writes in rarely is not rewarded for it, and evidence that fades moves a
signal toward typical, never below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from plugin.core.domain import CRM_NAMES, CustomerHistory
from plugin.core.formulas import LN2, decay_weight, money_scale, saturation
from plugin.core.measures import RECENT_DAYS, Measures, Typical
from plugin.core.phrases import (
    Phrase,
    count,
    describe_days,
    describe_minutes,
    money_formatter,
    phrase,
)
from plugin.core.settings import Settings

__all__ = ["count", "describe_days", "describe_minutes", "money_formatter"]

HALF_PURCHASES_PER_YEAR = 2.0
HALF_DEALS = 5.0
HALF_TENURE_YEARS = 2.0
HALF_POSITIVE_COMMENTS = 2.0
HALF_TICKETS = 12.0
"""Decayed tickets at which ticket volume reaches half its weight. One more ticket moves the
signal by at most 1/12 of its weight."""
HALF_EXCESS = 1.0
"""A mean wait (or reply count) of twice the account's typical earns half the signal."""
RATE_FLOOR = 0.05
"""The least typical rate a per-ticket signal is measured against (5% of tickets)."""
TYPICAL_PRIOR = 6.0
"""Pseudo-tickets at the account's typical figures in each customer's typical ticket (waits,
replies, reopens, escalations, bad ratings): one slow or reopened ticket does not stand for a
customer's whole experience, and one more ticket moves each figure by at most a seventh."""
SATISFACTION_PRIOR = 2.0
"""Pseudo-ratings at the account's own good share in each customer's satisfaction
(a Beta(2·p, 2·(1−p)) prior): unrated evidence sits at the account's typical, and one rating
moves it part of the way."""
ACTIVE_DAYS = 365.0
"""Tenure counts in full while the customer was in touch (a ticket or a deal) within a year;
after that it fades with the half-life: a relationship that has gone quiet is not a long one."""
AVERAGE_DEAL_SHARE = 0.25
"""An average deal of this share of the spend reference earns the average-deal signal in full."""
MAX_TYPICAL = 0.95
"""A typical level is capped below the top, so the best customers can still stand out."""
MAX_AMOUNT = 1e12
"""Amounts above this are data errors, not customers."""
QUIET_PRIOR = 1.0
"""Pseudo-gaps at the account's typical gap between days of contact in each customer's own
rhythm: a customer seen on one day is expected back within the account's typical gap, and one
more day of contact moves the rhythm part of the way."""
MIN_QUIET_GAP_DAYS = float(RECENT_DAYS)
"""The shortest rhythm a customer is held to: a month without a ticket or a deal is never
overdue (the product's "in contact" window), so a customer in contact never owes this cost
and one ordinary ticket from them leaves it unchanged."""
OWN_RHYTHM = ("gone_quiet",)
"""Signals read against the customer's own rhythm: their typical level is 0 (on rhythm costs
nothing), not the account's median."""
PER_TICKET = ("first_reply_wait", "resolution_wait", "back_and_forth", "reopens",
              "escalations", "bad_ratings")
"""Cost signals read as the customer's typical ticket against the account's."""
BENEFITS_FROM_PURCHASES = ("purchase_frequency", "purchase_recency", "deal_count",
                           "average_deal")
NO_WON_DEALS = phrase("no_won_deals")
NO_RATINGS_COLLECTED = phrase("no_ratings_collected")
NEVER_ASKED = phrase("never_asked")


@dataclass(frozen=True, slots=True)
class Norms:
    """What is typical in this account: the yardstick every signal is read against.

    `typical` holds the medians a single ticket is compared with; `good_share` is the share of
    good ratings (None when the account collects no ratings, so satisfaction is not measured
    for anyone); `signals` the median measurement of each signal among the customers for whom
    it is measured. Built by `plugin.core.norms.account_norms`; `DEFAULT_NORMS` stands in before
    the account has data."""

    typical: Typical = Typical(first_reply_minutes=240.0, resolution_minutes=2880.0,
                               replies=3.0)
    good_share: float | None = 0.85
    signals: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    customers: int = 0
    """How many customers the norms were read from (0: the built-in defaults)."""


DEFAULT_NORMS = Norms()
"""Before an account has data: a first reply within 4 hours, resolution within 2 days and 3
replies are typical, 85% of ratings good, and every other signal's typical level is zero."""


Wording = str | Phrase | Callable[[], str | Phrase]
"""Evidence as a sentence or a `Phrase`, or as the function that makes it: scoring only keeps
the function, so a value computed for a number (tagging, percentiles, trends) never builds
text."""


def worded(wording: Wording) -> str:
    """The evidence in the model's English."""
    if isinstance(wording, str):
        return wording
    return str(wording if isinstance(wording, Phrase) else wording())


def phrased(wording: Wording) -> Phrase | None:
    """The evidence as a `Phrase` an edge can word in another language (None for a plain
    sentence)."""
    if isinstance(wording, Phrase):
        return wording
    if isinstance(wording, str):
        return None
    made = wording()
    return made if isinstance(made, Phrase) else None


@dataclass(frozen=True, slots=True)
class Reading:
    """One signal as measured: `measure` in 0..1, or not measured (`reason` says why)."""

    measured: bool
    measure: float
    wording: Wording = field(compare=False, repr=False)
    reason: str | None = None

    @property
    def evidence(self) -> str:
        return worded(self.wording)


@dataclass(frozen=True, slots=True)
class Money:
    """The money view in the account's currency: what the customer brought, what serving them
    cost (`cost_per_ticket` × their decayed ticket burden), and the difference. `spend` is None
    when no spend is known for the customer; `basis` says where it came from."""

    spend: float | None
    cost_to_serve: float
    basis: str | None
    """`user field`, `organization field` (the account's spend), a CRM's name, or None."""
    field: str = ""
    """The field read (for a field basis), or how many won deals (for deals)."""

    @property
    def net(self) -> float | None:
        return None if self.spend is None else self.spend - self.cost_to_serve


def not_measured(reason: Phrase) -> Reading:
    return Reading(measured=False, measure=0.0, wording=reason, reason=str(reason))


def money_view(history: CustomerHistory, m: Measures, settings: Settings,
               notices: list[str]) -> Money:
    """Where the customer's spend comes from (won deals, else the user's, else their
    organization's field), and their cost to serve."""
    cost = round(settings.cost_per_ticket * m.burden, 2)
    if m.skipped_currencies:
        codes = ", ".join(sorted(m.skipped_currencies))
        notices.append(f"Deals in {codes} left out: no exchange rate to {settings.currency}")
    if purchases_known(history, settings, m.at):
        return Money(spend=m.won_amount, cost_to_serve=cost,
                     basis=CRM_NAMES.get(settings.spend_source, "deals"),
                     field=count(m.won, "won deal"))
    if settings.spend_source in CRM_NAMES:
        return Money(spend=None, cost_to_serve=cost, basis=None)
    profile = history.profile
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
        return Money(spend=amount, cost_to_serve=cost, basis=where, field=key)
    return Money(spend=None, cost_to_serve=cost, basis=None)


def purchases_known(history: CustomerHistory, settings: Settings,
                    at: datetime | None = None) -> bool:
    """Whether the customer's deals are known: a CRM contact matched them (or deals decided
    by `at` are on the history), and the CRM could be asked. A deal decided later is not
    known at `at` (a past score must not see it)."""
    if history.crm_degraded:
        return False
    if settings.spend_source in CRM_NAMES and history.crm_contact is not None:
        return True
    return any(at is None or p.closed_at is None or p.closed_at <= at
               for p in history.purchases)


def read_signals(history: CustomerHistory, m: Measures, settings: Settings, norms: Norms,
                 money: Money) -> dict[str, Reading]:
    """Every signal of the model, read from `m`."""
    return _benefits(history, m, settings, norms, money) | _costs(m, norms)


def _benefits(history: CustomerHistory, m: Measures, settings: Settings, norms: Norms,
              money: Money) -> dict[str, Reading]:
    hl = settings.half_life_days
    readings: dict[str, Reading] = {"lifetime_spend": _spend(history, m, money, settings)}
    if purchases_known(history, settings, m.at):
        per_year = m.decayed_won * LN2 / hl * 365.0
        readings["purchase_frequency"] = Reading(
            True, saturation(per_year, HALF_PURCHASES_PER_YEAR),
            (lambda: phrase("purchases_a_year", per_year=per_year)) if m.won
            else NO_WON_DEALS)
        readings["purchase_recency"] = _recency(m, hl)
        readings["deal_count"] = Reading(
            True, saturation(m.won, HALF_DEALS),
            (lambda: phrase("won_lost", won=m.won, lost=m.lost)) if m.won or m.lost
            else phrase("no_decided_deals"))
        readings["average_deal"] = Reading(
            True, money_scale(m.average_deal, settings.spend_reference * AVERAGE_DEAL_SHARE),
            lambda: phrase("average_deal", amount=m.average_deal, currency=settings.currency)
        ) if m.won else not_measured(phrase("no_deals_to_average"))
    else:
        reason = _no_purchases_reason(history, settings)
        for name in BENEFITS_FROM_PURCHASES:
            readings[name] = not_measured(reason)
    readings["tenure"] = _tenure(m, hl)
    if norms.good_share is None:
        readings["satisfaction"] = readings["advocacy"] = not_measured(NO_RATINGS_COLLECTED)
    elif not m.tickets:
        readings["satisfaction"] = readings["advocacy"] = not_measured(NEVER_ASKED)
    else:
        estimate = (m.satisfied + SATISFACTION_PRIOR * norms.good_share) / (
            m.rated + SATISFACTION_PRIOR)
        readings["satisfaction"] = Reading(
            True, estimate, lambda: _satisfaction_evidence(m, estimate))
        readings["advocacy"] = Reading(
            True, saturation(m.decayed_positive_comments, HALF_POSITIVE_COMMENTS),
            (lambda: phrase("positive_comments", n=m.positive_comments))
            if m.positive_comments else phrase("no_positive_comments"))
    return readings


def _spend(history: CustomerHistory, m: Measures, money: Money, settings: Settings) -> Reading:
    if money.spend is None:
        return not_measured(_no_spend_reason(history, settings))
    net = money.net or 0.0
    return Reading(True, money_scale(max(net, 0.0), settings.spend_reference),
                   lambda: phrase("spend", amount=money.spend or 0.0, cost=money.cost_to_serve,
                                  currency=settings.currency, basis=money.basis,
                                  field=money.field, deals=m.won))


def _no_spend_reason(history: CustomerHistory, settings: Settings) -> Phrase:
    if settings.spend_source in CRM_NAMES:
        return _no_purchases_reason(history, settings)
    return phrase("no_spend_field")


def _no_purchases_reason(history: CustomerHistory, settings: Settings) -> Phrase:
    crm = CRM_NAMES.get(settings.spend_source)
    if crm is None:
        return phrase("purchases_from_field")
    if history.crm_degraded:
        return phrase("crm_not_asked", crm=crm)
    return phrase("no_crm_contact", crm=crm)


def _recency(m: Measures, half_life_days: float) -> Reading:
    days = m.last_won_days
    if days is None:
        return Reading(True, 0.0, NO_WON_DEALS)
    gap = m.purchase_gap_days
    if gap is None:
        return Reading(True, decay_weight(days, half_life_days),
                       lambda: phrase("last_purchase", days=days))
    overdue = max(days - gap, 0.0)
    return Reading(True, decay_weight(overdue, gap),
                   lambda: phrase("last_purchase", days=days, gap_days=gap, overdue_days=overdue))


def _tenure(m: Measures, half_life_days: float) -> Reading:
    years = m.tenure_days / 365.0
    quiet = max(m.silence_days - ACTIVE_DAYS, 0.0)
    return Reading(True, saturation(years, HALF_TENURE_YEARS) * decay_weight(quiet, half_life_days),
                   lambda: phrase("tenure", days=m.tenure_days,
                                  silent_days=m.silence_days if quiet > 0 else None))


def _costs(m: Measures, norms: Norms) -> dict[str, Reading]:
    """Ticket volume (the customer's burden of tickets not rated good, against the account's
    typical) and six figures of the customer's typical ticket against the account's: a mean
    weighed by the contact clock, with TYPICAL_PRIOR pseudo-tickets at the account's figure,
    earning the signal by how many times worse than typical it is (twice typical: half)."""
    typical = norms.typical
    readings = {"gone_quiet": _quiet(m, typical.contact_gap_days), "ticket_volume": Reading(
        True, saturation(m.burden, HALF_TICKETS),
        (lambda: phrase("tickets", recent=m.tickets_recent, days=RECENT_DAYS, total=m.tickets))
        if m.tickets else phrase("no_tickets"))}
    for name, total, weight, none in (
            ("first_reply_wait", m.reply_sum, m.reply_weight, "no_first_replies"),
            ("resolution_wait", m.resolution_sum, m.resolution_weight, "no_resolutions"),
            ("back_and_forth", m.replies_sum, m.replies_weight, "no_replies")):
        if not weight:
            readings[name] = not_measured(phrase(none))
            continue
        mean = (total + TYPICAL_PRIOR) / (weight + TYPICAL_PRIOR)
        readings[name] = Reading(
            True, saturation(max(mean - 1.0, 0.0), HALF_EXCESS),
            lambda name=name, mean=mean: phrase(
                "against_typical", signal=name, ratio=mean, typical_replies=typical.replies,
                typical_minutes=(typical.first_reply_minutes if name == "first_reply_wait"
                                 else typical.resolution_minutes)))
    if not m.tickets:
        for name in ("reopens", "escalations"):
            readings[name] = not_measured(phrase("no_tickets_yet"))
    else:
        readings["reopens"] = _rate(
            m.decayed_reopens, m.solved_weight, typical.reopens,
            (lambda: phrase("reopened", tickets=m.reopened_tickets, reopens=m.reopens))
            if m.reopens else phrase("no_reopened"))
        readings["escalations"] = _rate(
            m.decayed_escalations, m.decayed_tickets, typical.escalations,
            (lambda: phrase("escalations", n=m.escalations))
            if m.escalations else phrase("no_escalations"))
    if norms.good_share is None or not m.tickets:
        readings["bad_ratings"] = not_measured(
            NO_RATINGS_COLLECTED if norms.good_share is None else NEVER_ASKED)
    else:
        readings["bad_ratings"] = _rate(
            m.decayed_bad, m.decayed_tickets, typical.bad_ratings,
            (lambda: phrase("bad_ratings", n=m.bad)) if m.bad else phrase("no_bad_ratings"))
    return readings


def rhythm_days(m: Measures, typical_gap_days: float) -> float:
    """The customer's own rhythm of contact: the mean gap between their days of contact
    (tickets created, deals decided), with QUIET_PRIOR pseudo-gaps at the account's typical,
    and never shorter than MIN_QUIET_GAP_DAYS."""
    gaps = max(m.contact_days - 1, 0)
    mean = (m.touch_span_days + QUIET_PRIOR * typical_gap_days) / (gaps + QUIET_PRIOR)
    return max(mean, MIN_QUIET_GAP_DAYS)


def _quiet(m: Measures, typical_gap_days: float) -> Reading:
    """Gone quiet: how far the customer's silence runs past their own rhythm g,
    `1 − 2^(−overdue/g)`, overdue = max(days since the last ticket or deal − g, 0). On rhythm
    it is 0; each further gap of silence halves what is left (the purchase-recency rule,
    read over every contact). Silence only ever raises it (silence is not improvement)."""
    quiet = m.quiet_days
    if quiet is None:
        return not_measured("no tickets or deals yet")
    gap = rhythm_days(m, typical_gap_days)
    overdue = max(quiet - gap, 0.0)
    return Reading(True, 1.0 - decay_weight(overdue, gap),
                   lambda: phrase("gone_quiet", days=quiet, gap_days=gap,
                                          overdue_days=overdue))


def _rate(events: float, tickets: float, typical: float, evidence: Wording) -> Reading:
    """How often something happens per ticket, against how often it happens in the account:
    a decayed mean with TYPICAL_PRIOR pseudo-tickets at the account's rate, earning the signal
    by how many times the typical rate it exceeds it (a rate below RATE_FLOOR counts as that
    floor, so one reopen in an account that never reopens is not infinitely bad)."""
    mean = (events + TYPICAL_PRIOR * typical) / (tickets + TYPICAL_PRIOR)
    excess = max(mean - typical, 0.0) / max(typical, RATE_FLOOR)
    return Reading(True, saturation(excess, HALF_EXCESS), evidence)


def neutral(signal: str, norms: Norms) -> float:
    """The account's typical measurement of a signal: the level it earns or costs nothing at."""
    if signal == "satisfaction":
        level = norms.good_share if norms.good_share is not None else 0.0
    elif signal in PER_TICKET:
        level = 0.0  # measured against the account's typical ticket already
    elif signal in OWN_RHYTHM:
        level = 0.0  # measured against the customer's own rhythm already
    else:
        level = norms.signals.get(signal, 0.0)
    return min(max(level, 0.0), MAX_TYPICAL)


def beyond_typical(measure: float, typical: float) -> float:
    """How far a measurement lies beyond the typical one, on 0..1: 0 at or below typical, 1 at
    the top of the scale."""
    return max(measure - typical, 0.0) / (1.0 - typical)


def _satisfaction_evidence(m: Measures, estimate: float) -> Phrase:
    if not m.ratings:
        return phrase("no_ratings_yet", estimate=estimate)
    return phrase("ratings", good=m.good, ratings=m.ratings, estimate=estimate,
                  surveys=m.survey_ratings,
                  survey_average=m.survey_sum / m.survey_ratings if m.survey_ratings else None)


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
