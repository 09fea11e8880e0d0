"""The account overview's refresh: every stored customer scored now and at past moments (the
model's point-in-time scoring), written to the overview's table by the worker, so a page of
the overview reads stored rows and never scores anyone while an admin waits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugin.core.model import CustomerValue, SignalScore, score_series
from plugin.core.overrides import applicable
from plugin.core.risk import risks
from plugin.service_layer.services import Services
from plugin.storage.overview import OverviewStore

SHARE_DAYS = 90
SHARE_STEP = timedelta(days=7)
MOVER_DAYS = 30
MOVED_SIGNALS = 3


@dataclass(frozen=True)
class Refresh:
    customers: int
    seconds: float
    refreshed_at: datetime


def moments(now: datetime) -> list[datetime]:
    """The moments a refresh scores: weekly over the last 90 days, 30 days ago, and now."""
    found = {now - SHARE_STEP * k for k in range(SHARE_DAYS // SHARE_STEP.days + 1)}
    found |= {now - timedelta(days=SHARE_DAYS), now - timedelta(days=MOVER_DAYS), now}
    return sorted(found)


def refresh(services: Services, account_key: str) -> Refresh:
    """Score every stored customer of the account and replace the overview's rows."""
    started = time.perf_counter()
    store = services.store(account_key)
    settings = services.settings_for(store)
    now = services.clock()
    norms = services.norms(store, settings, now)
    cutoffs = services.cutoffs(store, settings, now)
    pins = services.overrides(store).active(now)
    when = moments(now)
    month_ago = when.index(now - timedelta(days=MOVER_DAYS))
    shares: dict[datetime, dict[str, int]] = {m: {"high": 0, "medium": 0, "low": 0}
                                              for m in when}

    def rows() -> Iterator[dict[str, Any]]:
        for history in store.histories(settings):
            profile = history.profile
            series = score_series(history, settings, when, cutoffs, norms)
            for moment, value in zip(when, series, strict=True):
                if profile.created_at <= moment:
                    shares[moment][value.tier] += 1
            organization = profile.organization
            organization_id = organization.id if organization is not None else None
            current = series[-1].pinned(applicable(pins, profile.id, organization_id, now))
            before = series[month_ago] if profile.created_at <= when[month_ago] else None
            reasons = risks(history, current, now)
            yield {
                "user_id": profile.id, "name": profile.name,
                "search": " ".join(filter(None, (profile.name, profile.email or "",
                                                 organization.name if organization else "")
                                          )).lower(),
                "organization_id": organization_id,
                "organization_name": organization.name if organization else "",
                "segment": current.segment or "", "value": current.value,
                "tier": current.tier,
                "value_30d": before.value if before else None,
                "tier_30d": before.tier if before else None,
                "change_30d": round(current.value - before.value, 1) if before else 0.0,
                "little_data": current.little_data, "at_risk": bool(reasons),
                "risks": list(reasons),
                "drivers": {"top": [_driver(s) for s in current.top_drivers],
                            "moved": _moved(before, current) if before else [],
                            "bad_ratings_30d": current.measures.bad_recent},
                "pinned": current.override is not None,
                "settings_version": settings.version,
            }

    overview = OverviewStore(services.engine, store.account)
    count = overview.replace(rows(), now)
    overview.save_shares([(m, shares[m]) for m in when])
    return Refresh(count, time.perf_counter() - started, now)


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
