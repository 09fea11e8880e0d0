"""One customer's assessment: the value and the suggestions that follow from it.

Decisions (the tagger, backfill, the settings preview) read these objects; the JSON contract
is made from them at the edges (`plugin.web.contract`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from plugin.core.domain import CustomerHistory
from plugin.core.lifetime import Forecast, LifetimeModel, forecast, summarise
from plugin.core.model import CustomerValue, Cutoffs, score_series
from plugin.core.overrides import TierOverride
from plugin.core.settings import Settings
from plugin.core.signals import DEFAULT_NORMS, Norms
from plugin.core.suggestions import Suggestion, suggest

TREND_POINTS = 13
TREND_STEP = timedelta(days=14)
"""The trend: the value every two weeks over the last six months, each point computed from
only what was known at its date (so it exists from day one, not only since install)."""


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    value: float
    tier: str


@dataclass(frozen=True, slots=True)
class Assessment:
    value: CustomerValue
    suggestions: tuple[Suggestion, ...]
    trend: tuple[TrendPoint, ...] = ()
    """Oldest first, ending with `value` itself; only dates on which the customer was known."""
    lifetime: Forecast | None = None
    """The next 12 months' outlook from the account's lifetime model (None without one, or
    for a customer with no purchase known)."""


def assess(
    history: CustomerHistory,
    settings: Settings,
    now: datetime,
    *,
    cutoffs: Cutoffs | None = None,
    norms: Norms = DEFAULT_NORMS,
    ticket_id: int | None = None,
    gestures_used: int = 0,
    trend_points: int = TREND_POINTS,
    lifetime: LifetimeModel | None = None,
    pin: TierOverride | None = None,
) -> Assessment:
    """The value as of `now` with its suggestions, and its trend over `trend_points` dates
    (one sweep of the history for all of them). With `pin` (the tier a person pinned, that
    applies now), the value carries the pinned tier and the suggestions are chosen for it:
    agents are offered what fits the tier they are shown."""
    moments = [now - TREND_STEP * back for back in range(max(trend_points, 1) - 1, -1, -1)]
    values = score_series(history, settings, moments, cutoffs, norms, lifetime)
    value = values[-1].pinned(pin)
    found = suggest(history, value, settings, now, ticket_id=ticket_id,
                    gestures_used=gestures_used)
    first = value.measures.first_evidence
    trend = tuple(TrendPoint(v.computed_at, v.value, v.tier) for v in values
                  if first is not None and v.computed_at >= first)
    outlook = None
    if lifetime is not None:
        summary = summarise(history, now, lifetime.currency, dict(settings.exchange_rates))
        outlook = None if summary is None else forecast(lifetime, summary)
    return Assessment(value=value, suggestions=tuple(found), trend=trend, lifetime=outlook)
