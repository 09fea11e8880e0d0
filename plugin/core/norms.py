"""What is typical in an account, read from a sample of its own customers.

`account_norms(histories, settings, now)` reads up to NORMS_SAMPLE customers (deterministically:
the sample is a pure function of their ids) twice: first the typical ticket (median first reply,
resolution and reply count) and the share of good ratings; then, measuring each sampled
customer against that typical ticket, the median measurement of every signal among the
customers for whom it is measured. A signal's points are earned beyond those medians
(`plugin.core.signals.beyond_typical`), so the account's typical customer sits near 0.

Spend that comes from an organization field is counted once per organization, so an
organization of 40 people does not count its spend 40 times in what is typical.
"""

from __future__ import annotations

import heapq
import statistics
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType

from plugin.core.domain import CustomerHistory
from plugin.core.measures import SECONDS_PER_DAY, Touches, Typical, measure
from plugin.core.settings import Settings
from plugin.core.signals import DEFAULT_NORMS, Norms, money_view, read_signals

NORMS_SAMPLE = 2_000
"""Customers read for the norms: a median from 2,000 draws lies within about 2 percentile
points of the account's (the binomial standard error of the 50th percentile is √(pq/n) ≈ 1.1
points)."""
MIN_TICKETS = 20
"""Fewer tickets than this with a figure keep the default typical ticket: a median of a
handful would make the yardstick itself noisy."""
MIN_RATINGS = 20
MIN_MEASURED = 20
"""Customers a signal must be measured for before its median replaces the default of 0."""


def sample_key(user_id: int) -> tuple[int, int]:
    """Where a customer falls in the sample order: Knuth's multiplicative hash of their id."""
    return (user_id * 2654435761) % 2**32, user_id


def sample(histories: Iterable[CustomerHistory], size: int = NORMS_SAMPLE
           ) -> list[CustomerHistory]:
    """Up to `size` histories, the same ones for the same account whatever the order: those
    whose ids hash lowest."""
    return heapq.nsmallest(size, histories, key=lambda h: sample_key(h.profile.id))


def account_norms(histories: Iterable[CustomerHistory], settings: Settings,
                  now: datetime) -> Norms:
    """The account's norms as of `now` (only what was known then), from a sample."""
    chosen = sample(histories)
    typical, good_share = _typical_ticket(chosen, now)
    base = Norms(typical=typical, good_share=good_share, customers=len(chosen))
    levels: dict[str, list[float]] = {}
    organizations_seen: set[int] = set()
    for history in chosen:
        m = measure(history, now, half_life_days=settings.half_life_days, typical=typical,
                    currency=settings.currency, rates=dict(settings.exchange_rates))
        money = money_view(history, m, settings, [])
        readings = read_signals(history, m, settings, base, money)
        organization = history.profile.organization
        for name, reading in readings.items():
            if not reading.measured:
                continue
            if name == "lifetime_spend" and money.basis == "organization field":
                if organization is None or organization.id in organizations_seen:
                    continue
                organizations_seen.add(organization.id)
            levels.setdefault(name, []).append(reading.measure)
    signals = {name: statistics.median(values) for name, values in levels.items()
               if len(values) >= MIN_MEASURED}
    return Norms(typical=typical, good_share=good_share, signals=MappingProxyType(signals),
                 customers=len(chosen))


def _typical_ticket(histories: list[CustomerHistory], now: datetime
                    ) -> tuple[Typical, float | None]:
    replies, resolutions, counts, shares, gaps = [], [], [], [], []
    tickets = solved = reopens = escalations = bad = 0
    for history in histories:
        for ticket in history.tickets:
            if ticket.created_at > now:
                continue
            tickets += 1
            escalations += ticket.priority in ("urgent", "high")
            if ticket.solved_at is not None or ticket.resolution_minutes is not None:
                solved += 1
                reopens += ticket.reopens
            if ticket.first_reply_minutes is not None:
                replies.append(ticket.first_reply_minutes)
            if ticket.resolution_minutes is not None:
                resolutions.append(ticket.resolution_minutes)
            if ticket.replies is not None:
                counts.append(ticket.replies)
            if ticket.satisfaction is not None and ticket.satisfaction.rated_at <= now:
                shares.append(ticket.satisfaction.share)
                bad += ticket.satisfaction.is_bad
        gap = _contact_gap(history, now)
        if gap is not None:
            gaps.append(gap)
    default = DEFAULT_NORMS.typical
    typical = Typical(
        first_reply_minutes=_median(replies, default.first_reply_minutes),
        resolution_minutes=_median(resolutions, default.resolution_minutes),
        replies=_median(counts, default.replies),
        reopens=reopens / solved if solved >= MIN_TICKETS else default.reopens,
        escalations=escalations / tickets if tickets >= MIN_TICKETS else default.escalations,
        bad_ratings=bad / tickets if tickets >= MIN_TICKETS and shares
        else default.bad_ratings,
        contact_gap_days=statistics.median(gaps) if len(gaps) >= MIN_MEASURED
        else default.contact_gap_days)
    if len(shares) >= MIN_RATINGS:
        good_share: float | None = statistics.fmean(shares)
    elif histories and not shares and sum(len(h.tickets) for h in histories) >= MIN_TICKETS:
        good_share = None  # an account with tickets and no ratings at all collects none
    else:
        good_share = DEFAULT_NORMS.good_share
    return typical, good_share


def _contact_gap(history: CustomerHistory, now: datetime) -> float | None:
    """The customer's mean gap between days of contact known by `now` (None with fewer than
    two such days)."""
    touches = Touches.of(history)
    known = bisect_right(touches.times, now.timestamp())
    if not known or touches.days[known - 1] < 2:
        return None
    span = (touches.times[known - 1] - touches.times[0]) / SECONDS_PER_DAY
    return span / (touches.days[known - 1] - 1)


def _median(values: list[float], default: float) -> float:
    if len(values) < MIN_TICKETS:
        return default
    found = statistics.median(values)
    return found if found > 0 else default
