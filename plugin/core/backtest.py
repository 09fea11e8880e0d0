"""Does the value predict? Score every customer at a past moment T from only what was known
then, and compare with what happened in (T, T + horizon].

Outcomes, per customer active at T (a ticket or a decided deal in the year before T, so a
customer who left long ago is not counted as "leaving" again):

- **leaving**: no ticket and no won purchase in the horizon, or the CRM marks them former
  (when the horizon reaches the end of the data, where that status stands);
- **bad rating**: a bad rating given in the horizon;
- **future spend**: the won purchases closed in the horizon (in the account's currency), and
  whether there was any.

Figures: the AUC of the value for each outcome, read in the direction a value should predict
(higher value: staying, no bad rating, buying), from the Mann–Whitney U statistic
(scipy.stats.mannwhitneyu: AUC = U / (n₁ n₂), ties counted half; 0.5 is chance); Spearman's
correlation of the value with future spend; and by value decile (highest value first) the
share leaving and its lift (the decile's share over the overall share). Each figure comes with
the customers behind it, and a warning where fewer than MIN_CLASS customers had (or had not)
the outcome: the AUC's standard error is then above about 0.06 (Hanley & McNeil 1982), too
wide to tell a modest model from chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from plugin.core.domain import CustomerHistory
from plugin.core.model import Cutoffs, score
from plugin.core.settings import Settings
from plugin.core.signals import DEFAULT_NORMS, Norms

ACTIVE_DAYS = 365
MIN_CLASS = 30
DECILES = 10
OUTCOMES = ("leaving", "bad_rating", "any_purchase")
DIRECTION = {"leaving": "staying", "bad_rating": "no bad rating", "any_purchase": "buying"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one customer in the horizon."""

    tickets: int
    purchases: int
    spend: float
    bad_rating: bool
    former: bool = False

    @property
    def leaving(self) -> bool:
        return self.former or (self.tickets == 0 and self.purchases == 0)


@dataclass(frozen=True, slots=True)
class Case:
    user_id: int
    value: float
    segment: str | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    auc: float | None
    positives: int
    negatives: int
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Decile:
    decile: int
    customers: int
    low: float
    high: float
    leaving_share: float
    leaving_lift: float | None
    bad_rating_share: float
    mean_future_spend: float


@dataclass(frozen=True, slots=True)
class Report:
    customers: int
    figures: tuple[Figure, ...]
    spearman_future_spend: float | None
    deciles: tuple[Decile, ...]
    warnings: tuple[str, ...] = ()

    def auc(self, outcome: str) -> float | None:
        return next((f.auc for f in self.figures if f.name == outcome), None)


@dataclass(frozen=True, slots=True)
class Backtest:
    at: datetime
    horizon: timedelta
    known: int
    """Customers known at T (first evidence by then); `overall.customers` are those active."""
    overall: Report
    segments: Mapping[str, Report] = field(default_factory=dict)


def active_at(history: CustomerHistory, at: datetime, days: int = ACTIVE_DAYS) -> bool:
    since = at - timedelta(days=days)
    return any(since < t.created_at <= at for t in history.tickets) or any(
        p.closed_at is not None and since < p.closed_at <= at and p.won is not None
        for p in history.purchases)


def outcome(history: CustomerHistory, at: datetime, horizon: timedelta, settings: Settings,
            former: bool = False) -> Outcome:
    """What happened to the customer in (at, at + horizon]."""
    end = at + horizon
    rates = dict(settings.exchange_rates)
    tickets = sum(1 for t in history.tickets if at < t.created_at <= end)
    bad = any(t.satisfaction is not None and t.satisfaction.is_bad
              and at < t.satisfaction.rated_at <= end for t in history.tickets)
    purchases, spend = 0, 0.0
    for p in history.purchases:
        if not p.won or p.closed_at is None or not at < p.closed_at <= end:
            continue
        rate = 1.0 if p.currency == settings.currency else rates.get(p.currency)
        purchases += 1
        spend += p.amount * (rate or 0.0)
    return Outcome(tickets, purchases, round(spend, 2), bad, former)


def auc(scores: Sequence[float], positive: Sequence[bool]) -> tuple[float | None, int, int]:
    """P(a random positive scores above a random negative), ties half: U / (n₁ n₂)."""
    x = np.asarray(scores, dtype=float)
    y = np.asarray(positive, dtype=bool)
    pos, neg = x[y], x[~y]
    if not len(pos) or not len(neg):
        return None, len(pos), len(neg)
    u = mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u) / (len(pos) * len(neg)), len(pos), len(neg)


def report(cases: Sequence[Case]) -> Report:
    values = [c.value for c in cases]
    figures, warnings = [], []
    tests = {"leaving": [not c.outcome.leaving for c in cases],
             "bad_rating": [not c.outcome.bad_rating for c in cases],
             "any_purchase": [c.outcome.purchases > 0 for c in cases]}
    for name in OUTCOMES:
        found, pos, neg = auc(values, tests[name])
        warning = None
        if min(pos, neg) < MIN_CLASS:
            warning = (f"{name}: {min(pos, neg)} customers on one side (fewer than "
                       f"{MIN_CLASS}): too few to judge")
            warnings.append(warning)
        figures.append(Figure(name, None if found is None else round(found, 4), pos, neg,
                              warning))
    rho = None
    spends = [c.outcome.spend for c in cases]
    if len(cases) >= 3 and len(set(values)) > 1 and len(set(spends)) > 1:
        rho = round(float(spearmanr(values, spends).statistic), 4)
    return Report(len(cases), tuple(figures), rho, _deciles(cases), tuple(warnings))


def _deciles(cases: Sequence[Case]) -> tuple[Decile, ...]:
    if not cases:
        return ()
    ranked = sorted(cases, key=lambda c: (-c.value, c.user_id))
    overall = sum(c.outcome.leaving for c in ranked) / len(ranked)
    found = []
    for index in range(DECILES):
        group = ranked[index * len(ranked) // DECILES:(index + 1) * len(ranked) // DECILES]
        if not group:
            continue
        share = sum(c.outcome.leaving for c in group) / len(group)
        found.append(Decile(
            decile=index + 1, customers=len(group), low=min(c.value for c in group),
            high=max(c.value for c in group), leaving_share=round(share, 4),
            leaving_lift=round(share / overall, 3) if overall else None,
            bad_rating_share=round(sum(c.outcome.bad_rating for c in group) / len(group), 4),
            mean_future_spend=round(sum(c.outcome.spend for c in group) / len(group), 2)))
    return tuple(found)


def cases(histories: Iterable[CustomerHistory], settings: Settings, at: datetime,
          horizon: timedelta, *, norms: Norms = DEFAULT_NORMS, cutoffs: Cutoffs | None = None,
          former: frozenset[int] = frozenset(),
          progress: Callable[[int], None] | None = None) -> tuple[list[Case], int]:
    """Every customer active at `at`, scored as of `at`, with their outcome; and how many
    customers were known then."""
    found, known = [], 0
    for done, history in enumerate(histories, 1):
        if progress is not None:
            progress(done)
        active = active_at(history, at)
        if not active and history.profile.created_at > at:
            continue
        known += 1
        if not active:
            continue
        value = score(history, settings, at, cutoffs, norms)
        found.append(Case(history.profile.id, value.value, value.segment,
                          outcome(history, at, horizon, settings,
                                  history.profile.id in former)))
    return found, known


def backtest(found: Sequence[Case], known: int, at: datetime, horizon: timedelta) -> Backtest:
    segments: dict[str, list[Case]] = {}
    for case in found:
        if case.segment is not None:
            segments.setdefault(case.segment, []).append(case)
    return Backtest(at=at, horizon=horizon, known=known, overall=report(found),
                    segments={name: report(group) for name, group in sorted(segments.items())})


def as_dict(result: Backtest) -> dict[str, object]:
    def one(r: Report) -> dict[str, object]:
        return {"customers": r.customers,
                "auc": {f.name: {"auc": f.auc, "predicts": DIRECTION[f.name],
                                 "with": f.positives, "without": f.negatives,
                                 "warning": f.warning} for f in r.figures},
                "spearman_future_spend": r.spearman_future_spend,
                "deciles": [{"decile": d.decile, "customers": d.customers,
                             "value_low": d.low, "value_high": d.high,
                             "leaving_share": d.leaving_share, "leaving_lift": d.leaving_lift,
                             "bad_rating_share": d.bad_rating_share,
                             "mean_future_spend": d.mean_future_spend} for d in r.deciles],
                "warnings": list(r.warnings)}
    return {"at": result.at.isoformat().replace("+00:00", "Z"),
            "horizon_days": round(result.horizon.total_seconds() / 86_400, 3),
            "known_customers": result.known, "overall": one(result.overall),
            "segments": {name: one(r) for name, r in result.segments.items()}}


def fmt_auc(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def lift_svg(current: Sequence[Decile], draft: Sequence[Decile], width: int = 360,
             height: int = 140) -> str:
    """Lift of leaving by value decile (highest value first), current grey and draft blue,
    with a line at 1 (the account's average). A value that predicts leaving rises to the
    right: low lift in the top deciles, high in the bottom ones."""
    lifts = [d.leaving_lift or 0.0 for d in (*current, *draft)]
    top = max([2.0, *lifts])
    slot = width / DECILES
    bar = slot / 2 - 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}" '
             f'viewBox="0 0 {width} {height + 16}" role="img">']
    for offset, deciles, colour in ((0.0, current, "#c2c8cc"), (bar + 1, draft, "#1f73b7")):
        for d in deciles:
            h = (height - 4) * (d.leaving_lift or 0.0) / top
            x = (d.decile - 1) * slot + offset
            parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
    one = height - (height - 4) / top
    parts.append(f'<line x1="0" x2="{width}" y1="{one:.1f}" y2="{one:.1f}" stroke="#68737d" '
                 'stroke-dasharray="3 3"/>')
    for decile in (1, 5, 10):
        parts.append(f'<text x="{(decile - 1) * slot:.1f}" y="{height + 12}" font-size="10" '
                     f'fill="#68737d">{decile}</text>')
    parts.append("</svg>")
    return "".join(parts)
