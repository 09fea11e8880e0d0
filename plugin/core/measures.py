"""What one pass over a customer's history measures, as of a given moment.

`measure(history, now, ...)` reads every ticket, rating and deal once and returns plain numbers:
raw counts for the evidence an agent reads, and time-decayed sums for the points. Events after
`now` have not happened yet and are left out, so a history can be replayed at any date.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from plugin.core.domain import CustomerHistory, Satisfaction, Ticket
from plugin.core.formulas import LN2

SECONDS_PER_DAY = 86_400.0
RECENT_DAYS = 30
"""Window for "recent" counts in evidence and suggestions."""
TOPIC_WINDOW_DAYS = 90
"""Window in which a repeated topic counts as a recurring issue."""
BASELINE_DAYS = 180
"""Earlier window against which recent ticket volume is compared."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """The latest rating that came with a comment."""

    rated_at: datetime
    comment: str
    ticket_id: int
    good: bool


@dataclass(slots=True)
class Measures:
    tenure_days: float = 0.0
    # tickets
    tickets: int = 0
    decayed_tickets: float = 0.0
    tickets_recent: int = 0
    tickets_baseline: int = 0
    escalations: int = 0
    decayed_escalations: float = 0.0
    reopened_tickets: int = 0
    reopens: int = 0
    decayed_reopens: float = 0.0
    reply_wait_sum: float = 0.0
    reply_wait_weight: float = 0.0
    resolution_sum: float = 0.0
    resolution_weight: float = 0.0
    replies_sum: float = 0.0
    replies_weight: float = 0.0
    channels: Counter[str] = field(default_factory=Counter)
    recent_topics: Counter[str] = field(default_factory=Counter)
    last_ticket: Ticket | None = None
    # ratings
    ratings: int = 0
    good: int = 0
    bad: int = 0
    survey_ratings: int = 0
    survey_sum: int = 0
    satisfied: float = 0.0
    rated: float = 0.0
    decayed_bad: float = 0.0
    positive_comments: int = 0
    decayed_positive_comments: float = 0.0
    bad_recent: int = 0
    feedback: Feedback | None = None
    # purchases
    won: int = 0
    lost: int = 0
    won_amount: float = 0.0
    decayed_won: float = 0.0
    last_won_days: float | None = None
    skipped_currencies: Counter[str] = field(default_factory=Counter)

    @property
    def reply_wait(self) -> float | None:
        """Decay-weighted mean minutes to first reply, or None when none was recorded."""
        return self.reply_wait_sum / self.reply_wait_weight if self.reply_wait_weight else None

    @property
    def resolution(self) -> float | None:
        return self.resolution_sum / self.resolution_weight if self.resolution_weight else None

    @property
    def replies_per_ticket(self) -> float | None:
        return self.replies_sum / self.replies_weight if self.replies_weight else None

    @property
    def average_deal(self) -> float:
        return self.won_amount / self.won if self.won else 0.0


def measure(
    history: CustomerHistory,
    now: datetime,
    half_life_days: float,
    currency: str,
    rates: dict[str, float] | None = None,
) -> Measures:
    """Measure a history as of `now`, decaying each event with the given half-life."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    m = Measures()
    m.tenure_days = max((now - history.profile.created_at).total_seconds() / SECONDS_PER_DAY, 0)
    rate = LN2 / half_life_days
    _measure_tickets(m, history.tickets, now, rate)
    _measure_purchases(m, history, now, rate, currency, rates or {})
    return m


def _measure_tickets(m: Measures, tickets: tuple[Ticket, ...], now: datetime, rate: float) -> None:
    exp = math.exp
    last_created = None
    for ticket in tickets:
        age = (now - ticket.created_at).total_seconds() / SECONDS_PER_DAY
        if age < 0:
            continue
        weight = exp(-rate * age)
        m.tickets += 1
        m.decayed_tickets += weight
        if age <= RECENT_DAYS:
            m.tickets_recent += 1
        elif age <= RECENT_DAYS + BASELINE_DAYS:
            m.tickets_baseline += 1
        if age <= TOPIC_WINDOW_DAYS:
            for tag in ticket.tags:
                m.recent_topics[tag] += 1
        m.channels[ticket.channel] += 1
        if ticket.priority == "urgent" or ticket.priority == "high":
            m.escalations += 1
            m.decayed_escalations += weight
        if ticket.reopens:
            m.reopened_tickets += 1
            m.reopens += ticket.reopens
            m.decayed_reopens += weight * ticket.reopens
        if ticket.first_reply_minutes is not None:
            m.reply_wait_sum += weight * ticket.first_reply_minutes
            m.reply_wait_weight += weight
        if ticket.resolution_minutes is not None:
            m.resolution_sum += weight * ticket.resolution_minutes
            m.resolution_weight += weight
        if ticket.replies is not None:
            m.replies_sum += weight * ticket.replies
            m.replies_weight += weight
        if ticket.satisfaction is not None:
            _measure_rating(m, ticket, ticket.satisfaction, now, rate)
        if last_created is None or ticket.created_at > last_created:
            last_created = ticket.created_at
            m.last_ticket = ticket


def _measure_rating(
    m: Measures, ticket: Ticket, rating: Satisfaction, now: datetime, rate: float
) -> None:
    age = (now - rating.rated_at).total_seconds() / SECONDS_PER_DAY
    if age < 0:
        return
    weight = math.exp(-rate * age)
    m.ratings += 1
    m.rated += weight
    m.satisfied += weight * rating.share
    if rating.scale == 5:
        m.survey_ratings += 1
        m.survey_sum += rating.score
    if rating.is_good:
        m.good += 1
        if rating.comment:
            m.positive_comments += 1
            m.decayed_positive_comments += weight
    elif rating.is_bad:
        m.bad += 1
        m.decayed_bad += weight
        if age <= RECENT_DAYS:
            m.bad_recent += 1
    if rating.comment and (m.feedback is None or rating.rated_at > m.feedback.rated_at):
        m.feedback = Feedback(rating.rated_at, rating.comment, ticket.id, rating.is_good)


def _measure_purchases(
    m: Measures,
    history: CustomerHistory,
    now: datetime,
    rate: float,
    currency: str,
    rates: dict[str, float],
) -> None:
    for purchase in history.purchases:
        if purchase.closed_at is not None and purchase.closed_at > now:
            continue
        if not purchase.won:
            m.lost += 1
            continue
        if purchase.currency == currency:
            amount = purchase.amount
        elif purchase.currency in rates:
            amount = purchase.amount * rates[purchase.currency]
        else:
            m.skipped_currencies[purchase.currency] += 1
            continue
        m.won += 1
        m.won_amount += amount
        if purchase.closed_at is not None:
            age = max((now - purchase.closed_at).total_seconds() / SECONDS_PER_DAY, 0.0)
            m.decayed_won += math.exp(-rate * age)
            if m.last_won_days is None or age < m.last_won_days:
                m.last_won_days = age
