"""Suggested weights: the signal weights that would have predicted leaving best on an earlier
window, offered only if they also do at least as well as the current ones on a later one.

The objective is the AUC of the value for *staying* (the leaving outcome of
`plugin.core.backtest`) among the customers active at the earlier moment. The value is
rebuilt from each customer's per-signal readings, as `plugin.core.model` adds them up:

    value = pull · (W_b / W_measured · Σ_measured benefits w_s·e_s − Σ costs w_s·e_s)

with e_s the reading beyond the account's typical level, so a weight change needs no
rescoring. The AUC is a step function of the weights, so the search is derivative-free
(Powell's method, scipy.optimize.minimize) from the current weights, within 0–100, and the
result is rounded to whole weights. The held-out check rescores with the real model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.stats import rankdata

from plugin.core.model import CustomerValue
from plugin.core.settings import BENEFIT_SIGNALS, COST_SIGNALS
from plugin.core.signals import Norms, beyond_typical, neutral

OBJECTIVE = "AUC of the value for staying (the leaving outcome), customers active at T"
MAX_WEIGHT = 100.0
BENEFITS, COSTS = tuple(BENEFIT_SIGNALS), tuple(COST_SIGNALS)
NAMES = BENEFITS + COSTS


@dataclass(frozen=True, slots=True)
class Features:
    """Per customer and signal: the reading beyond typical, and whether it was measured."""

    earned: np.ndarray
    measured: np.ndarray
    pull: np.ndarray

    def values(self, weights: Mapping[str, float] | np.ndarray) -> np.ndarray:
        w = weights if isinstance(weights, np.ndarray) else np.array(
            [float(weights[name]) for name in NAMES])
        nb = len(BENEFITS)
        wb, wc = w[:nb], w[nb:]
        measured_weight = self.measured[:, :nb] @ wb
        earned_b = (self.measured[:, :nb] * self.earned[:, :nb]) @ wb
        with np.errstate(divide="ignore", invalid="ignore"):
            benefits = np.where(measured_weight > 0, wb.sum() * earned_b / measured_weight, 0.0)
        costs = (self.measured[:, nb:] * self.earned[:, nb:]) @ wc
        return self.pull * (benefits - costs)


def features(values: Sequence[CustomerValue], norms: Norms, little_data: int) -> Features:
    rows, flags, pulls = [], [], []
    for v in values:
        readings = {s.signal: s for s in v.benefits + v.costs}
        rows.append([beyond_typical(readings[n].measure, neutral(n, norms))
                     if readings[n].measured else 0.0 for n in NAMES])
        flags.append([1.0 if readings[n].measured else 0.0 for n in NAMES])
        pulls.append(1.0 if little_data <= 0 or v.evidence >= little_data
                     else v.evidence / little_data)
    return Features(np.array(rows, dtype=float).reshape(-1, len(NAMES)),
                    np.array(flags, dtype=float).reshape(-1, len(NAMES)),
                    np.array(pulls, dtype=float))


def fast_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """The Mann–Whitney AUC from ranks (ties half), for the search's many evaluations."""
    pos = int(positive.sum())
    neg = len(positive) - pos
    if not pos or not neg:
        return 0.5
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


def fit(feats: Features, staying: np.ndarray, start: Mapping[str, float]
        ) -> tuple[dict[str, float], float, float]:
    """Weights that maximise the AUC for staying, from `start`; with the AUC at `start`
    and at the result (on these customers)."""
    x0 = np.array([float(start[name]) for name in NAMES])
    base = fast_auc(feats.values(x0), staying)

    def negative(w: np.ndarray) -> float:
        return -fast_auc(feats.values(np.clip(w, 0.0, MAX_WEIGHT)), staying)

    result = minimize(negative, x0, method="Powell", bounds=[(0.0, MAX_WEIGHT)] * len(NAMES),
                      options={"maxfev": 4_000, "xtol": 0.5, "ftol": 1e-5})
    best = np.round(np.clip(result.x, 0.0, MAX_WEIGHT))
    if best[: len(BENEFITS)].sum() == 0:  # all benefits off is no value at all
        best = x0
    found = fast_auc(feats.values(best), staying)
    if found < base:  # rounding can lose what the search found: keep the start then
        best, found = x0, base
    return {name: float(w) for name, w in zip(NAMES, best, strict=True)}, base, found


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Weights fitted on (fit_at, fit_at + horizon] and checked on (at, at + horizon]."""

    weights: Mapping[str, float]
    current: Mapping[str, float]
    fit_at: str
    at: str
    fit_customers: int
    check_customers: int
    fit_auc_current: float
    fit_auc_suggested: float
    check_auc_current: float | None
    check_auc_suggested: float | None
    proposed: bool
    reason: str
    objective: str = OBJECTIVE

    def changes(self) -> dict[str, tuple[float, float]]:
        return {name: (float(self.current[name]), float(self.weights[name])) for name in NAMES
                if float(self.current[name]) != float(self.weights[name])}

    def as_dict(self) -> dict[str, object]:
        return {"objective": self.objective, "proposed": self.proposed, "reason": self.reason,
                "fit_window_from": self.fit_at, "check_window_from": self.at,
                "fit": {"customers": self.fit_customers, "auc_current": self.fit_auc_current,
                        "auc_suggested": self.fit_auc_suggested},
                "check": {"customers": self.check_customers,
                          "auc_current": self.check_auc_current,
                          "auc_suggested": self.check_auc_suggested},
                "weights": dict(self.weights) if self.proposed else None,
                "changes": {k: {"from": a, "to": b} for k, (a, b) in self.changes().items()}}

    def describe(self) -> str:
        lines = [f"Suggested weights (objective: {self.objective})",
                 f"  fitted on the window from {self.fit_at} ({self.fit_customers:,} "
                 f"customers): AUC {self.fit_auc_current:.3f} with the current weights, "
                 f"{self.fit_auc_suggested:.3f} with the suggested",
                 f"  checked on the window from {self.at} ({self.check_customers:,} "
                 f"customers): AUC {_show(self.check_auc_current)} current, "
                 f"{_show(self.check_auc_suggested)} suggested"]
        lines.append(("  PROPOSED, not applied (to use them, put them in the settings): "
                      if self.proposed else "  not proposed: ") + self.reason)
        for name, (old, new) in self.changes().items():
            lines.append(f"    {name:<22} {old:5.0f} -> {new:5.0f}")
        return "\n".join(lines)


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
