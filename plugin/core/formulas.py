"""The few formulas the model is built from, each with its source.

Pure functions of numbers: no dates, no settings, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z_95 = 1.959963984540054
"""The two-sided 95% normal quantile, the z most Wilson-interval rankings use."""

LN2 = math.log(2.0)


def wilson_lower_bound(successes: float, trials: float, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval for a proportion.

    E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
    JASA 22 (1927) 209–212; popularised for ratings by Evan Miller, "How Not To Sort By Average
    Rating" (2009). It shrinks a proportion from a small sample towards zero, so 1 good rating out
    of 1 scores far below 95 out of 100. Counts may be fractional (time-decayed weights).

        lb = (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),   p = s / n

    computed as (s + z²/2 − z·√(s(n−s)/n + z²/4)) / (n + z²), the same bound multiplied through
    by n, which stays finite when a decayed n is vanishingly small.
    """
    if trials <= 0:
        return 0.0
    if not 0 <= successes <= trials * (1 + 1e-12):
        raise ValueError(f"successes {successes} must lie between 0 and trials {trials}")
    s = min(successes, trials)
    z2 = z * z
    spread = z * math.sqrt(s * (trials - s) / trials + z2 / 4)
    return max((s + z2 / 2 - spread) / (trials + z2), 0.0)


def decay_weight(age_days: float, half_life_days: float) -> float:
    """Weight of an event `age_days` old under exponential decay: 1 now, ½ one half-life ago.

    w = 2^(−age / half-life) = exp(−ln2 · age / half-life), the exponentially weighted moving
    average's weighting (NIST/SEMATECH e-Handbook of Statistical Methods, §6.4.3.1). Future
    events (negative age) weigh 1, not more.
    """
    if age_days <= 0:
        return 1.0
    return math.exp(-LN2 * age_days / half_life_days)


def saturation(x: float, half_point: float) -> float:
    """x / (x + k): 0 at 0, ½ at k, approaching 1; a hyperbolic (Michaelis–Menten) saturation.

    It maps an unbounded count or duration onto 0..1 without a hard cap, and is strictly
    increasing, which the model's monotonicity rules rely on.
    """
    if x <= 0:
        return 0.0
    return x / (x + half_point)


def log_scale(amount: float, reference: float) -> float:
    """log(1 + amount) / log(1 + reference), capped at 1: money on a diminishing scale.

    Spend differs by orders of magnitude between customers; a logarithmic scale (Weber–Fechner)
    keeps a 100× larger account from drowning every other signal.
    """
    if amount <= 0:
        return 0.0
    return min(math.log1p(amount) / math.log1p(reference), 1.0)


MONEY_STEPS = 500.0
"""`money_scale`'s unit is the reference / 500 (USD 100 for a reference of 50,000)."""


def money_scale(amount: float, reference: float) -> float:
    """log(1 + amount/u) / log(1 + reference/u), capped at 1, with u = reference / 500.

    Money on a diminishing (Weber–Fechner) scale like `log_scale`, but starting gently: a few
    currency units near zero move it as little as they move a large account, so one ticket's
    cost to serve shifts a small customer's net by a fraction of a point.
    """
    if amount <= 0 or reference <= 0:
        return 0.0
    unit = reference / MONEY_STEPS
    return min(math.log1p(amount / unit) / math.log1p(MONEY_STEPS), 1.0)


def rate_per_year(decayed_count: float, half_life_days: float) -> float:
    """Events per year estimated from a decayed count.

    For events arriving at a steady r per day, Σ 2^(−age/h) tends to r·h/ln2, so
    r ≈ count·ln2/h: the exponentially weighted rate estimate, favouring recent behaviour.
    """
    return decayed_count * LN2 / half_life_days * 365.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks.

    Hyndman & Fan (1996), "Sample Quantiles in Statistical Packages", definition 7 (the default
    of R and NumPy).
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} must lie between 0 and 100")
    position = (len(sorted_values) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction
