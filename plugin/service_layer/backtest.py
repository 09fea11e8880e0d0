"""The backtest as the app runs it: the account's norms and cutoffs as of T (from only what
was known then), every customer scored at T, and what happened in the horizon
(`plugin.core.backtest`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType

import numpy as np

from plugin.core.backtest import Backtest, active_at, backtest, cases, outcome
from plugin.core.domain import CustomerHistory
from plugin.core.model import account_cutoffs, score
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.core.times import zulu
from plugin.core.weights import Suggestion, features, fit

Histories = Callable[[], Iterable[CustomerHistory]]


def data_end(histories: Iterable[CustomerHistory]) -> datetime | None:
    """The latest ticket or decided deal in the data: where a CRM's status stands."""
    latest = None
    for history in histories:
        for moment in [t.created_at for t in history.tickets] + [
                p.closed_at for p in history.purchases if p.closed_at is not None]:
            if latest is None or moment > latest:
                latest = moment
    return latest


def run_backtest(histories: Histories, settings: Settings, at: datetime, horizon: timedelta,
                 *, former: frozenset[int] = frozenset(), end: datetime | None = None,
                 progress: Callable[[int], None] | None = None,
                 sample: Histories | None = None) -> Backtest:
    """Scores every customer at `at` with the account's norms and cutoffs as of `at`, and
    measures (at, at + horizon]. `former` (customers a CRM marks as left, a status as of
    `end`) counts as leaving only when the horizon reaches `end`. `sample`, when the source
    can read the norms' sample without the rest (the store), gives the same norms sooner."""
    norms = account_norms((sample or histories)(), settings, at)
    cutoffs = account_cutoffs(histories(), settings, at, norms)
    use_former = former if end is not None and at + horizon >= end else frozenset()
    found, known = cases(histories(), settings, at, horizon, norms=norms, cutoffs=cutoffs,
                         former=use_former, progress=progress)
    return backtest(found, known, at, horizon)


def suggest(histories: Histories, settings: Settings, at: datetime, horizon: timedelta, *,
            former: frozenset[int] = frozenset(), end: datetime | None = None,
            progress: Callable[[int], None] | None = None,
            sample: Histories | None = None) -> Suggestion:
    """Weights fitted on the window before `at` ((at − horizon, at]: scores at at − horizon,
    outcomes known by `at`, no CRM status, which stands at the data's end) and checked on
    (at, at + horizon] against the current ones with the real model; proposed only if the
    held-out AUC is at least the current weights'."""
    fit_at = at - horizon
    norms = account_norms((sample or histories)(), settings, fit_at)
    cutoffs = account_cutoffs(histories(), settings, fit_at, norms)
    scored, staying = [], []
    for done, history in enumerate(histories(), 1):
        if progress is not None:
            progress(done)
        if not active_at(history, fit_at):
            continue
        scored.append(score(history, settings, fit_at, cutoffs, norms))
        staying.append(not outcome(history, fit_at, horizon, settings).leaving)
    feats = features(scored, norms, settings.little_data_tickets)
    weights, fit_current, fit_suggested = fit(feats, np.array(staying, dtype=bool),
                                              settings.weights)
    offset = len(scored)
    count = [0]

    def step(done: int) -> None:
        count[0] = max(count[0], done)
        if progress is not None:
            progress(offset + done)

    current = run_backtest(histories, settings, at, horizon, former=former, end=end,
                           progress=step, sample=sample)
    trial = replace(settings, weights=MappingProxyType(dict(weights)))
    suggested = run_backtest(histories, trial, at, horizon, former=former, end=end,
                             progress=lambda done: step(count[0] + done), sample=sample)
    check_current = current.overall.auc("leaving")
    check_suggested = suggested.overall.auc("leaving")
    same = all(float(settings.weights[n]) == weights[n] for n in weights)
    if same:
        proposed, reason = False, "the search found nothing better than the current weights"
    elif check_current is None or check_suggested is None:
        proposed, reason = False, "the later window has no leaving customers, or no stayers"
    elif check_suggested >= check_current:
        proposed, reason = True, (f"held-out AUC {check_suggested:.3f} ≥ "
                                  f"{check_current:.3f} with the current weights")
    else:
        proposed, reason = False, (f"held-out AUC {check_suggested:.3f} < {check_current:.3f} "
                                   "with the current weights: they do not carry over")
    return Suggestion(weights=weights, current=dict(settings.weights), fit_at=zulu(fit_at),
                      at=zulu(at), fit_customers=len(scored),
                      check_customers=current.overall.customers,
                      fit_auc_current=round(fit_current, 4),
                      fit_auc_suggested=round(fit_suggested, 4),
                      check_auc_current=check_current, check_auc_suggested=check_suggested,
                      proposed=proposed, reason=reason)
