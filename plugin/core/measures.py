"""What a customer's history shows as of given moments: one sweep over their events.

`measure_series(history, moments, ...)` walks the customer's events in time order once and
reads off, at each moment, only what was known then: tickets created by then, a first reply
or a resolution known by then (a wait still running counts as long as it has lasted so far),
reply counts and reopens once the ticket was solved, ratings given by then, deals decided by
then. `measure(history, now, ...)` is the one-moment case. The trend (the value at past dates)
and the backtest replay a history through the same sweep, so no later event can leak into an
earlier moment.

Two clocks weigh the evidence (`half_life_days` on both):
- **Costs age on the contact clock.** A customer's bad experiences (waits beyond the account's
  typical, reopens, escalations, bad ratings, the tickets' own burden) age only as the customer
  keeps in contact: each gap between two of their tickets ages everything before it by at most
  CONTACT_GAP_DAYS. Silence ages nothing, so a quiet customer's costs never fade by themselves
  (silence is not improvement), and one more ticket, however long after the last, ages the
  past by a week at most (one ordinary ticket moves the value a little).
- **Benefits fade on the calendar.** Satisfaction, positive feedback and purchases lately weigh
  2^(−age/half-life) by their age at the moment: good evidence has to be renewed, and fading
  only ever moves a benefit down, toward the account's typical customer.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from plugin.core.domain import CustomerHistory, Ticket
from plugin.core.formulas import LN2

SECONDS_PER_DAY = 86_400.0
RECENT_DAYS = 30
"""Window for "recent" counts in evidence and suggestions."""
TOPIC_WINDOW_DAYS = 90
"""Window in which a repeated topic counts as a recurring issue."""
BASELINE_DAYS = 180
"""Earlier window against which recent ticket volume is compared."""
CONTACT_GAP_DAYS = 7.0
"""The most one gap between two of a customer's tickets ages their earlier costs. With the
default half-life of 180 days one more ticket keeps at least 2^(−7/180) = 97.3% of the weight
of everything before it."""


@dataclass(frozen=True, slots=True)
class Typical:
    """What one ticket is compared with: the account's typical first reply, resolution and
    reply count (medians), and how often its tickets are reopened, escalated (urgent or high
    priority) and rated bad (means per ticket), from `plugin.core.norms`."""

    first_reply_minutes: float
    resolution_minutes: float
    replies: float
    reopens: float = 0.1
    escalations: float = 0.2
    bad_ratings: float = 0.05
    contact_gap_days: float = 90.0
    """The account's median gap between a customer's days of contact (tickets and decided
    deals); before the account has data, a quarter."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """The latest rating that came with a comment."""

    rated_at: datetime
    comment: str
    ticket_id: int
    good: bool


@dataclass(slots=True)
class Measures:
    """One moment's reading of a history. Counts are as people read them; `decayed_*` and the
    `*_sum`/`*_weight` pairs are weighed by the clocks above."""

    at: datetime
    # the relationship
    first_evidence: datetime | None = None
    last_evidence: datetime | None = None
    last_contact: datetime | None = None
    # tickets (costs, on the contact clock)
    tickets: int = 0
    decayed_tickets: float = 0.0
    burden: float = 0.0
    """Decayed count of the tickets not rated good: what the customer's contact costs."""
    burden_tickets: int = 0
    tickets_recent: int = 0
    tickets_baseline: int = 0
    escalations: int = 0
    decayed_escalations: float = 0.0
    reopened_tickets: int = 0
    reopens: int = 0
    decayed_reopens: float = 0.0
    reply_sum: float = 0.0
    reply_weight: float = 0.0
    resolution_sum: float = 0.0
    resolution_weight: float = 0.0
    replies_sum: float = 0.0
    replies_weight: float = 0.0
    decayed_bad: float = 0.0
    solved_weight: float = 0.0
    """Decayed count of the solved tickets: the base of reopens per ticket."""
    channels: Counter[str] = field(default_factory=Counter)
    recent_topics: Counter[str] = field(default_factory=Counter)
    last_ticket: Ticket | None = None
    # ratings (benefits, on the calendar)
    ratings: int = 0
    good: int = 0
    bad: int = 0
    survey_ratings: int = 0
    survey_sum: int = 0
    satisfied: float = 0.0
    rated: float = 0.0
    positive_comments: int = 0
    decayed_positive_comments: float = 0.0
    bad_recent: int = 0
    feedback: Feedback | None = None
    # purchases (benefits, on the calendar)
    won: int = 0
    lost: int = 0
    won_amount: float = 0.0
    decayed_won: float = 0.0
    first_won: datetime | None = None
    last_won: datetime | None = None
    skipped_currencies: Counter[str] = field(default_factory=Counter)
    # the rhythm of contact (tickets created and deals decided, one per calendar day)
    contact_days: int = 0
    first_touch: datetime | None = None
    last_touch: datetime | None = None

    @property
    def tenure_days(self) -> float:
        """From the first evidence of the relationship to the last (0 with none)."""
        if self.first_evidence is None or self.last_evidence is None:
            return 0.0
        return max((self.last_evidence - self.first_evidence).total_seconds(), 0.0) \
            / SECONDS_PER_DAY

    @property
    def known_days(self) -> float:
        """How long the customer has been known: from the first evidence to the moment."""
        if self.first_evidence is None:
            return 0.0
        return max((self.at - self.first_evidence).total_seconds(), 0.0) / SECONDS_PER_DAY

    @property
    def silence_days(self) -> float:
        """Days since the last evidence of the relationship (0 with none)."""
        if self.last_evidence is None:
            return 0.0
        return max((self.at - self.last_evidence).total_seconds(), 0.0) / SECONDS_PER_DAY

    @property
    def last_won_days(self) -> float | None:
        if self.last_won is None:
            return None
        return max((self.at - self.last_won).total_seconds(), 0.0) / SECONDS_PER_DAY

    @property
    def purchase_gap_days(self) -> float | None:
        """The customer's own buying rhythm: the mean gap between their won deals (two or
        more dated ones)."""
        if self.won < 2 or self.first_won is None or self.last_won is None:
            return None
        span = (self.last_won - self.first_won).total_seconds() / SECONDS_PER_DAY
        return span / (self.won - 1) if span > 0 else None

    @property
    def average_deal(self) -> float:
        return self.won_amount / self.won if self.won else 0.0

    @property
    def quiet_days(self) -> float | None:
        """Days since the customer's last ticket or decided deal (None with neither)."""
        if self.last_touch is None:
            return None
        return max((self.at - self.last_touch).total_seconds(), 0.0) / SECONDS_PER_DAY

    @property
    def touch_span_days(self) -> float:
        """Days from the customer's first ticket or decided deal to their last."""
        if self.first_touch is None or self.last_touch is None:
            return 0.0
        return max((self.last_touch - self.first_touch).total_seconds(), 0.0) / SECONDS_PER_DAY


OVERFLOW = 600.0
"""An exponent past this reads as "vanished": older evidence against far newer, at a tiny
half-life."""


def as_known(ticket: Ticket, at: datetime) -> Ticket:
    """The ticket as it stood at `at`: a rating given later is not known yet, nor a solve."""
    changes: dict[str, object] = {}
    if ticket.satisfaction is not None and ticket.satisfaction.rated_at > at:
        changes["satisfaction"] = None
    if ticket.solved_at is not None and ticket.solved_at > at:
        changes.update(solved_at=None, status="open")
    return replace(ticket, **changes) if changes else ticket


def measure_series(history: CustomerHistory, moments: Sequence[datetime], *,
                   half_life_days: float, typical: Typical, currency: str,
                   rates: dict[str, float] | None = None) -> list[Measures]:
    """The history as known at each moment (ascending).

    One moment is read in one pass over the tickets; several are read together from prefix
    sums (`_series`): every fact is put into a stream of what becomes known when, sorted by
    that time, so a moment is one bisection into each stream. Both read the same facts the
    same way (tests/test_value_rules.py checks that a series equals each moment alone)."""
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError("moments must carry a time zone")
    if any(b < a for a, b in zip(moments, moments[1:], strict=False)):
        raise ValueError("moments must be in ascending order")
    if not moments:
        return []
    rates = rates or {}
    rate = LN2 / (half_life_days * SECONDS_PER_DAY)
    if len(moments) == 1:
        return [_one(history, moments[0], rate, typical, currency, rates)]
    last_moment = moments[-1].timestamp()
    dated = sorted((t.created_at.timestamp(), i) for i, t in enumerate(history.tickets))
    known = [(ts, i) for ts, i in dated if ts <= last_moment]
    tickets = [history.tickets[i] for _, i in known]
    created = [ts for ts, _ in known]
    clocks, cap = [], CONTACT_GAP_DAYS * SECONDS_PER_DAY
    for index, ts in enumerate(created):
        clocks.append(0.0 if index == 0 else clocks[-1] + min(ts - created[index - 1], cap))
    return _series(history, moments, tickets, created, clocks, rate, typical, currency, rates)


def _known_in_order(history: CustomerHistory, ts: float) -> tuple[Sequence[Ticket], float]:
    """The tickets created by `ts`, oldest first, and the contact clock of the latest: the
    history's own tuple when it is in that order already (a store's is), so reading one moment
    copies nothing; sorted otherwise."""
    cap = CONTACT_GAP_DAYS * SECONDS_PER_DAY
    clock, previous, ordered = 0.0, None, True
    for ticket in history.tickets:
        created = ticket.created_at.timestamp()
        if previous is not None and created < previous:
            ordered = False
            break
        if created <= ts:
            if previous is not None:
                clock += min(created - previous, cap)
            previous = created
    if ordered:
        return history.tickets, clock
    tickets = sorted(history.tickets, key=lambda t: t.created_at)
    clock, previous = 0.0, None
    for ticket in tickets:
        created = ticket.created_at.timestamp()
        if created <= ts:
            if previous is not None:
                clock += min(created - previous, cap)
            previous = created
    return tickets, clock


def _one(history: CustomerHistory, moment: datetime, rate: float, typical: Typical,
         currency: str, rates: dict[str, float]) -> Measures:
    """One moment, in two passes over the tickets and no copies: the latest contact clock
    first, then each ticket weighed against it."""
    ts = moment.timestamp()
    m = Measures(at=moment)
    tickets, final = _known_in_order(history, ts)
    cap = CONTACT_GAP_DAYS * SECONDS_PER_DAY
    clock, previous, first_ts = 0.0, None, None
    reply_typ, resolution_typ, replies_typ = (typical.first_reply_minutes,
                                              typical.resolution_minutes, typical.replies)
    exp = math.exp
    best: Feedback | None = None
    bad_times = []
    recent = ts - RECENT_DAYS * SECONDS_PER_DAY
    baseline = recent - BASELINE_DAYS * SECONDS_PER_DAY
    topics = ts - TOPIC_WINDOW_DAYS * SECONDS_PER_DAY
    deals = [stamp for stamp in (p.closed_at.timestamp() for p in history.purchases
                                 if p.closed_at is not None) if stamp <= ts]
    deal_days = {int(stamp // SECONDS_PER_DAY) for stamp in deals}
    ticket_days, last_day = 0, None  # days with a ticket and no decided deal
    for ticket in tickets:
        c = ticket.created_at.timestamp()
        if c > ts:
            continue  # created after the moment (a sorted history ends with these)
        if previous is not None:
            clock += min(c - previous, cap)
        else:
            first_ts = c
        previous = c
        day = int(c // SECONDS_PER_DAY)
        if day != last_day:
            last_day = day
            if day not in deal_days:
                ticket_days += 1
        m.last_ticket = as_known(ticket, moment)
        exponent = rate * (clock - final)
        w = exp(exponent) if exponent > -OVERFLOW else 0.0
        m.tickets += 1
        m.decayed_tickets += w
        m.burden += w
        m.channels[ticket.channel] += 1
        if ticket.priority == "urgent" or ticket.priority == "high":
            m.escalations += 1
            m.decayed_escalations += w
        if c > recent:
            m.tickets_recent += 1
        elif c > baseline:
            m.tickets_baseline += 1
        if c > topics:
            for tag in ticket.tags:
                m.recent_topics[tag] += 1
        reply = ticket.first_reply_minutes
        if reply is not None:
            so_far = reply if c + reply * 60 <= ts else (ts - c) / 60.0
            m.reply_sum += w * _ratio(so_far, reply_typ)
            m.reply_weight += w
        end = _solve_ts(ticket, c)
        resolution = ticket.resolution_minutes
        if resolution is not None:
            so_far = resolution if end <= ts else (ts - c) / 60.0
            m.resolution_sum += w * _ratio(so_far, resolution_typ)
            m.resolution_weight += w
        if end is not None and end <= ts:
            if ticket.replies is not None:
                m.replies_sum += w * _ratio(ticket.replies, replies_typ)
                m.replies_weight += w
            m.solved_weight += w
            if ticket.reopens:
                m.reopened_tickets += 1
                m.reopens += ticket.reopens
                m.decayed_reopens += w * ticket.reopens
        rating = ticket.satisfaction
        if rating is not None:
            read = max(rating.rated_at.timestamp(), c)
            if read <= ts:
                cw = exp(-rate * (ts - read))
                m.ratings += 1
                m.rated += cw
                m.satisfied += cw * rating.share
                if rating.scale == 5:
                    m.survey_ratings += 1
                    m.survey_sum += rating.score
                if rating.is_good:
                    m.good += 1
                    m.burden -= w
                    if rating.comment:
                        m.positive_comments += 1
                        m.decayed_positive_comments += cw
                elif rating.is_bad:
                    m.bad += 1
                    m.decayed_bad += w
                    bad_times.append(read)
                if rating.comment and (best is None or rating.rated_at >= best.rated_at):
                    best = Feedback(rating.rated_at, rating.comment, ticket.id, rating.is_good)
    if m.last_ticket is not None:
        m.last_contact = m.last_ticket.created_at
    m.burden_tickets = m.tickets - m.good
    m.feedback = best
    m.bad_recent = sum(1 for read in bad_times if read > recent)
    _purchases(m, history, ts, rate, currency, rates)
    _evidence(m, history, first_ts, previous, ts)
    # the contacts known by now, counted in this pass (no timeline of every contact)
    touches = deals + ([first_ts, previous] if first_ts is not None else [])
    if touches:
        m.contact_days = ticket_days + len(deal_days)
        m.first_touch = datetime.fromtimestamp(min(touches), moment.tzinfo)
        m.last_touch = datetime.fromtimestamp(max(touches), moment.tzinfo)
    return m


def _series(history: CustomerHistory, moments: Sequence[datetime], tickets: list[Ticket],
            created: list[float], clocks: list[float], rate: float, typical: Typical,
            currency: str, rates: dict[str, float]) -> list[Measures]:
    """Several moments together, from prefix sums over what becomes known when."""
    touches = Touches.of(history)
    stamps = np.array([moment.timestamp() for moment in moments])
    count = len(tickets)
    c = np.array(created, dtype=float)
    clock = np.array(clocks, dtype=float)
    final = clock[-1] if count else 0.0
    w = np.exp(np.maximum(rate * (clock - final), -OVERFLOW))
    nan, inf = math.nan, math.inf
    reply_l, resolution_l, replies_l, reopens_l, escalated_l, solve_l = [], [], [], [], [], []
    for ticket, ts in zip(tickets, created, strict=True):
        reply_l.append(nan if ticket.first_reply_minutes is None else ticket.first_reply_minutes)
        resolution_l.append(nan if ticket.resolution_minutes is None
                            else ticket.resolution_minutes)
        replies_l.append(nan if ticket.replies is None else ticket.replies)
        reopens_l.append(ticket.reopens)
        escalated_l.append(ticket.priority == "urgent" or ticket.priority == "high")
        end = _solve_ts(ticket, ts)
        solve_l.append(inf if end is None else end)
    reply, resolution = np.array(reply_l, dtype=float), np.array(resolution_l, dtype=float)
    replies, reopens = np.array(replies_l, dtype=float), np.array(reopens_l, dtype=float)
    escalated, solve = np.array(escalated_l, dtype=float), np.array(solve_l, dtype=float)
    n = np.searchsorted(c, stamps, side="right")
    last = np.maximum(n - 1, 0)
    contact = np.where(n > 0, np.exp(np.minimum(rate * (final - clock[last]) if count
                                                else np.zeros(len(stamps)), OVERFLOW)), 0.0)
    contact = np.where(rate * ((final - clock[last]) if count else 0) >= OVERFLOW, 0.0, contact)

    def by_creation(values: np.ndarray) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(values)))[n]

    def by_time(times: np.ndarray, values: list[np.ndarray]) -> list[np.ndarray]:
        order = np.argsort(times, kind="stable")
        done = np.searchsorted(times[order], stamps, side="right")
        return [np.concatenate(([0.0], np.cumsum(v[order])))[done] for v in values]

    decayed = by_creation(w)
    has_reply, has_resolution = ~np.isnan(reply), ~np.isnan(resolution)
    reply_end = np.where(has_reply, c + np.nan_to_num(reply) * 60, np.inf)
    waits = {}
    for name, present, end, minutes, typ in (
            ("reply", has_reply, reply_end, reply, typical.first_reply_minutes),
            ("resolution", has_resolution, np.where(has_resolution, solve, np.inf), resolution,
             typical.resolution_minutes)):
        wp = np.where(present, w, 0.0)
        done_sum, done_w, done_wc = by_time(end, [
            wp * np.nan_to_num(minutes) / typ if typ > 0 else wp * 0, wp, wp * c])
        running_w = np.maximum(by_creation(wp) - done_w, 0.0)
        running_wc = by_creation(wp * c) - done_wc
        running = np.maximum(stamps * running_w - running_wc, 0.0) / 60.0 / typ \
            if typ > 0 else np.zeros(len(stamps))
        waits[name] = ((done_sum + running) * contact, (done_w + running_w) * contact)
    has_replies = ~np.isnan(replies)
    solved_values = by_time(solve, [
        np.where(has_replies, w * np.nan_to_num(replies) / typical.replies
                 if typical.replies > 0 else 0.0, 0.0),
        np.where(has_replies, w, 0.0), w, w * reopens, (reopens > 0).astype(float), reopens])
    # ratings, read when given (no earlier than their ticket)
    rated = [(max(t.satisfaction.rated_at.timestamp(), ts), index)
             for index, (t, ts) in enumerate(zip(tickets, created, strict=True))
             if t.satisfaction is not None]
    rated.sort()
    read = np.array([r[0] for r in rated], dtype=float)
    rating_of = [tickets[index].satisfaction for _, index in rated]
    rw = w[[index for _, index in rated]] if rated else np.zeros(0)
    columns = [(r.is_good, r.is_bad, r.share, bool(r.comment), r.scale == 5,
                r.score if r.scale == 5 else 0) for r in rating_of]
    good, bad, share, comment, survey, score = (
        np.array(column, dtype=float) for column in zip(*columns, strict=True)) \
        if columns else (np.zeros(0) for _ in range(6))
    reference = read[-1] if len(read) else 0.0
    cw = np.exp(np.maximum(rate * (read - reference), -OVERFLOW))
    known_r = np.searchsorted(read, stamps, side="right")

    def by_rating(values: np.ndarray) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(values)))[known_r]

    calendar = np.where(rate * (reference - stamps) < OVERFLOW,
                        np.exp(np.minimum(-rate * (stamps - reference), OVERFLOW)), 0.0)
    feedback, best = [], None
    for (_, index), rating in zip(rated, rating_of, strict=True):
        if rating.comment and (best is None or rating.rated_at >= best.rated_at):
            best = Feedback(rating.rated_at, rating.comment, tickets[index].id, rating.is_good)
        feedback.append(best)
    bad_read = read[bad > 0]
    escalations = by_creation(escalated)
    decayed_escalations = by_creation(w * escalated) * contact
    satisfied = by_rating(cw * share) * calendar
    rated_weight = by_rating(cw) * calendar
    positive = by_rating(cw * good * comment) * calendar
    decayed_bad = by_rating(rw * bad) * contact
    burden = (decayed - by_rating(rw * good)) * contact
    goods, bads = by_rating(good), by_rating(bad)
    surveys, survey_sums = by_rating(survey), by_rating(score)
    positives = by_rating(good * comment)
    results, channels, seen = [], Counter(), 0
    for k, moment in enumerate(moments):
        ts, upto, r = float(stamps[k]), int(n[k]), int(known_r[k])
        m = Measures(at=moment)
        for ticket in tickets[seen:upto]:
            channels[ticket.channel] += 1
        seen = upto
        m.channels = Counter(channels)
        m.tickets = upto
        if upto:
            m.last_ticket = as_known(tickets[upto - 1], moment)
            m.last_contact = tickets[upto - 1].created_at
        m.decayed_tickets = float(decayed[k] * contact[k])
        m.escalations = round(float(escalations[k]))
        m.decayed_escalations = float(decayed_escalations[k])
        m.reply_sum, m.reply_weight = (float(v[k]) for v in waits["reply"])
        m.resolution_sum, m.resolution_weight = (float(v[k]) for v in waits["resolution"])
        (m.replies_sum, m.replies_weight, m.solved_weight, m.decayed_reopens) = (
            float(v[k] * contact[k]) for v in solved_values[:4])
        m.reopened_tickets, m.reopens = (round(float(v[k])) for v in solved_values[4:])
        m.ratings = r
        m.satisfied, m.rated = float(satisfied[k]), float(rated_weight[k])
        m.decayed_positive_comments = float(positive[k])
        m.decayed_bad, m.burden = float(decayed_bad[k]), float(burden[k])
        m.good, m.bad = round(float(goods[k])), round(float(bads[k]))
        m.burden_tickets = upto - m.good
        m.survey_ratings, m.survey_sum = round(float(surveys[k])), round(float(survey_sums[k]))
        m.positive_comments = round(float(positives[k]))
        m.feedback = feedback[r - 1] if r else None
        recent = ts - RECENT_DAYS * SECONDS_PER_DAY
        m.bad_recent = int(np.count_nonzero((bad_read > recent) & (bad_read <= ts)))
        m.tickets_recent = upto - bisect_right(created, recent, 0, upto)
        m.tickets_baseline = bisect_right(created, recent, 0, upto) - bisect_right(
            created, recent - BASELINE_DAYS * SECONDS_PER_DAY, 0, upto)
        for ticket in tickets[bisect_right(created, ts - TOPIC_WINDOW_DAYS * SECONDS_PER_DAY,
                                           0, upto):upto]:
            for tag in ticket.tags:
                m.recent_topics[tag] += 1
        _purchases(m, history, ts, rate, currency, rates)
        _evidence(m, history, created[0] if upto else None,
                  created[upto - 1] if upto else None, ts)
        _touches(m, touches, ts)
        results.append(m)
    return results


def _evidence(m: Measures, history: CustomerHistory, first: float | None,
              last: float | None, ts: float) -> None:
    """The first and last evidence of the relationship by the moment: the user record, the
    customer's tickets and their decided deals."""
    for when in (m.first_won, m.last_won, *_decided_times(history, ts)):
        if when is not None:
            stamp = when.timestamp()
            first = stamp if first is None else min(first, stamp)
            last = stamp if last is None else max(last, stamp)
    profile_ts = history.profile.created_at.timestamp()
    if profile_ts <= ts:
        first = profile_ts if first is None else min(first, profile_ts)
        last = profile_ts if last is None else last
    zone = m.at.tzinfo
    m.first_evidence = None if first is None else datetime.fromtimestamp(first, zone)
    m.last_evidence = None if last is None else datetime.fromtimestamp(last, zone)


@dataclass(frozen=True, slots=True)
class Touches:
    """A customer's contacts in time order: when each ticket was created and each deal decided
    (won or lost), and how many distinct calendar days (UTC) the first k of them cover. A
    moment reads the prefix known by then with one bisection."""

    times: tuple[float, ...]
    days: tuple[int, ...]
    """days[k]: distinct days among the first k + 1 contacts."""

    @classmethod
    def of(cls, history: CustomerHistory) -> Touches:
        stamps = sorted([t.created_at.timestamp() for t in history.tickets]
                        + [p.closed_at.timestamp() for p in history.purchases
                           if p.closed_at is not None])
        days, seen, last = [], 0, None
        for stamp in stamps:
            day = int(stamp // SECONDS_PER_DAY)
            if day != last:
                seen, last = seen + 1, day
            days.append(seen)
        return cls(tuple(stamps), tuple(days))


def _touches(m: Measures, touches: Touches, ts: float) -> None:
    known = bisect_right(touches.times, ts)
    if not known:
        return
    zone = m.at.tzinfo
    m.contact_days = touches.days[known - 1]
    m.first_touch = datetime.fromtimestamp(touches.times[0], zone)
    m.last_touch = datetime.fromtimestamp(touches.times[known - 1], zone)


def _decided_times(history: CustomerHistory, ts: float) -> list[datetime]:
    """When the customer's lost deals were decided (won ones are read in `_purchases`)."""
    return [p.closed_at for p in history.purchases
            if not p.won and p.closed_at is not None and p.closed_at.timestamp() <= ts]


def _purchases(m: Measures, history: CustomerHistory, ts: float, rate: float,
               currency: str, rates: dict[str, float]) -> None:
    """The deals decided by the moment (a deal without a date counts at any moment)."""
    for purchase in history.purchases:
        when = purchase.closed_at
        if when is not None and when.timestamp() > ts:
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
        if when is not None:
            m.decayed_won += math.exp(-rate * (ts - when.timestamp()))
            if m.first_won is None or when < m.first_won:
                m.first_won = when
            if m.last_won is None or when > m.last_won:
                m.last_won = when


def measure(history: CustomerHistory, now: datetime, *, half_life_days: float,
            typical: Typical, currency: str, rates: dict[str, float] | None = None) -> Measures:
    """The history as known at `now`."""
    return measure_series(history, [now], half_life_days=half_life_days, typical=typical,
                          currency=currency, rates=rates)[0]


def _solve_ts(ticket: Ticket, created: float) -> float | None:
    """When a ticket's reply count and reopens became known: its solve time."""
    if ticket.solved_at is not None:
        return max(ticket.solved_at.timestamp(), created)
    if ticket.resolution_minutes is not None:
        return created + ticket.resolution_minutes * 60
    return None


def _ratio(value: float | None, typical: float) -> float:
    """A ticket's figure against the account's typical one: 1 is typical."""
    return (value or 0.0) / typical if typical > 0 else 0.0
