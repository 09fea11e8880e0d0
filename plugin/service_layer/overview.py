"""The account overview's refresh: stored customers scored now and at past moments (the
model's point-in-time scoring), written to the overview's table by the worker, so a page of
the overview reads stored rows and never scores anyone while an admin waits. Once a day (and
after a settings change) every customer is scored; in between, only the customers whose
inputs a sync or a pin changed (`plugin.storage.changes`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugin.core.domain import CustomerHistory
from plugin.core.model import CustomerValue, Cutoffs, SignalScore, score_series
from plugin.core.overrides import TierOverride, applicable
from plugin.core.risk import risks
from plugin.core.settings import Settings
from plugin.core.signals import Norms
from plugin.service_layer.services import Services
from plugin.storage.changes import ChangeStore
from plugin.storage.history import HistoryStore
from plugin.storage.overview import OverviewStore

SHARE_DAYS = 90
SHARE_STEP = timedelta(days=7)
MOVER_DAYS = 30
MOVED_SIGNALS = 3
FULL_EVERY = timedelta(days=1)
"""The full refresh's period: values move with time alone (evidence fades, percentile
cutoffs shift), which no mark records."""
CHANGED_BATCH = 5_000
"""At most this many changed customers per incremental refresh (the rest wait for the next)."""


@dataclass(frozen=True)
class Refresh:
    customers: int
    seconds: float
    refreshed_at: datetime
    full: bool = True
    """Every customer (the daily pass), or only those marked changed."""


@dataclass(frozen=True)
class Scoring:
    """What scoring a customer for the overview needs, gathered once per refresh."""

    settings: Settings
    now: datetime
    norms: Norms
    cutoffs: Cutoffs
    pins: list[TierOverride]
    when: list[datetime]
    month_ago: int


def moments(now: datetime) -> list[datetime]:
    """The moments a refresh scores: weekly over the last 90 days, 30 days ago, and now."""
    found = {now - SHARE_STEP * k for k in range(SHARE_DAYS // SHARE_STEP.days + 1)}
    found |= {now - timedelta(days=SHARE_DAYS), now - timedelta(days=MOVER_DAYS), now}
    return sorted(found)


def scoring(services: Services, store: HistoryStore) -> Scoring:
    settings = services.settings_for(store)
    now = services.clock()
    when = moments(now)
    return Scoring(settings, now, services.norms(store, settings, now),
                   services.cutoffs(store, settings, now),
                   services.overrides(store).active(now), when,
                   when.index(now - timedelta(days=MOVER_DAYS)))


def keep(services: Services, account_key: str) -> Refresh:
    """The worker's periodic job for one account: the full refresh when it is due (a day
    after the last, or once the settings changed, or for a first overview), else only the
    customers whose inputs changed since their row was written."""
    store = services.store(account_key)
    overview = OverviewStore(services.engine, store.account)
    last = overview.last_full()
    if last is None or services.clock() - last >= FULL_EVERY or \
            overview.scored_otherwise(services.settings_for(store).version):
        return refresh(services, account_key)
    return refresh_changed(services, account_key)


def refresh(services: Services, account_key: str) -> Refresh:
    """Score every stored customer of the account and replace the overview's rows."""
    started = time.perf_counter()
    store = services.store(account_key)
    changes = ChangeStore(services.engine, store.account)
    marks = changes.pending()  # read before the histories: scoring them answers these
    context = scoring(services, store)
    when = context.when
    shares: dict[datetime, dict[str, int]] = {m: {"high": 0, "medium": 0, "low": 0}
                                              for m in when}

    def rows() -> Iterator[dict[str, Any]]:
        for history in store.histories(context.settings):
            series = score_series(history, context.settings, when, context.cutoffs,
                                  context.norms)
            for moment, value in zip(when, series, strict=True):
                if history.profile.created_at <= moment:
                    shares[moment][value.tier] += 1
            yield row_of(history, series, context)

    overview = OverviewStore(services.engine, store.account)
    count = overview.replace(rows(), context.now)
    overview.save_shares([(m, shares[m]) for m in when])
    changes.clear(marks)
    return Refresh(count, time.perf_counter() - started, context.now)


def refresh_changed(services: Services, account_key: str, limit: int = CHANGED_BATCH
                    ) -> Refresh:
    """Score again only the customers marked changed (up to `limit`, the longest waiting
    first) and write their rows; the tier shares wait for the next full refresh."""
    started = time.perf_counter()
    store = services.store(account_key)
    changes = ChangeStore(services.engine, store.account)
    marks = changes.pending(limit)
    if not marks:
        return Refresh(0, time.perf_counter() - started, services.clock(), full=False)
    context = scoring(services, store)
    found = []
    for user_id, _ in marks:
        history = store.history(user_id, context.settings)
        if history is not None:
            found.append(row_of(history, score_series(
                history, context.settings, context.when, context.cutoffs, context.norms),
                context))
    count = OverviewStore(services.engine, store.account).upsert(found, context.now)
    changes.clear(marks)
    return Refresh(count, time.perf_counter() - started, context.now, full=False)


def row_of(history: CustomerHistory, series: list[CustomerValue], context: Scoring
           ) -> dict[str, Any]:
    """A customer's overview row from their scores at the refresh's moments."""
    profile, now = history.profile, context.now
    organization = profile.organization
    organization_id = organization.id if organization is not None else None
    current = series[-1].pinned(applicable(context.pins, profile.id, organization_id, now))
    before = series[context.month_ago] \
        if profile.created_at <= context.when[context.month_ago] else None
    reasons = risks(history, current, now)
    return {
        "user_id": profile.id, "name": profile.name,
        "search": " ".join(filter(None, (profile.name, profile.email or "",
                                         organization.name if organization else ""))).lower(),
        "organization_id": organization_id,
        "organization_name": organization.name if organization else "",
        "segment": current.segment or "", "value": current.value, "tier": current.tier,
        "value_30d": before.value if before else None,
        "tier_30d": before.tier if before else None,
        "change_30d": round(current.value - before.value, 1) if before else 0.0,
        "little_data": current.little_data, "at_risk": bool(reasons), "risks": list(reasons),
        "drivers": {"top": [_driver(s) for s in current.top_drivers],
                    "moved": _moved(before, current) if before else [],
                    "bad_ratings_30d": current.measures.bad_recent},
        "pinned": current.override is not None,
        "settings_version": context.settings.version,
    }


def _driver(s: SignalScore) -> dict[str, Any]:
    return {"signal": s.signal, "label": s.label, "kind": s.kind,
            "points": s.points if s.kind == "benefit" else -s.points}


def _moved(before: CustomerValue, after: CustomerValue) -> list[dict[str, Any]]:
    """The signals whose points moved the value most between the two moments."""
    def signed(v: CustomerValue) -> dict[str, tuple[str, float]]:
        return {s.signal: (s.label, s.points if s.kind == "benefit" else -s.points)
                for s in v.benefits + v.costs}

    old, new = signed(before), signed(after)
    moved = [(label, round(points - old.get(signal, (label, 0.0))[1], 1))
             for signal, (label, points) in new.items()]
    moved = [m for m in moved if m[1] != 0]
    moved.sort(key=lambda m: (-abs(m[1]), m[0]))
    return [{"label": label, "points": points} for label, points in moved[:MOVED_SIGNALS]]
