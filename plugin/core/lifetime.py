"""Predictive lifetime value: how many purchases a customer will still make, whether they are
still buying at all, and what they will spend per purchase.

Two published models, implemented here from their closed forms:

- **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2)). While active, a customer buys as a
  Poisson process of rate λ, λ ~ Gamma(r, α) across customers; after each purchase they drop
  out with probability p, p ~ Beta(a, b). A customer is summarised by (x, t_x, T): repeat
  purchases, the time of the last one and the time since the first, all in the same unit
  (weeks for CDNOW, days here). The likelihood of one customer is their equation (6):

      L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / Γ(r) ·
          [ (α+T)^−(r+x) + [x>0] · a/(b+x−1) · (α+t_x)^−(r+x) ]

  P(alive | x, t_x, T) is their equation (11) and the expected purchases in (T, T+t] their
  equation (10), with Gauss's hypergeometric function ₂F₁.
- **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for customer
  base analysis", Journal of Marketing Research 42(4); after Colombo & Jiang 1999). Purchase
  amounts of one customer are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the mean z̄
  of x purchases then has the density

      f(z̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q z̄^(px−1) x^(px) / (γ + x z̄)^(px+q)

  and the expected amount of the customer's next purchase is p(γ + x z̄) / (px + q − 1).

Everything is pure and numeric (numpy, scipy.special, scipy.optimize): fitting maximises the
summed log-likelihood over the parameters' logarithms (so they stay positive) with L-BFGS-B.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from plugin.core.domain import CustomerHistory

DAY_SECONDS = 86_400.0
MIN_REPEAT_CUSTOMERS = 100
"""Customers with at least one repeat purchase before BG/NBD is fitted for an account. Four
parameters, and a and b (the dropout) are read only from repeat buyers: with fewer than about
100 the Beta's two parameters are poorly identified (the CDNOW fit rests on 1,411 repeat
buyers of 2,357; on 100 the standard errors of a and b are already about as large as the
estimates, so fewer would give figures that mean little)."""
MIN_HISTORY_DAYS = 180
"""Days between the account's first recorded purchase and the moment of scoring: the model
reads each customer's gaps between purchases, and half a year is the least that shows the
rhythm of buyers who purchase a few times a year (CDNOW's calibration period is 39 weeks)."""
MIN_SPEND_CUSTOMERS = 50
"""Repeat buyers with a positive mean amount before Gamma-Gamma is fitted (three parameters)."""
HORIZON_DAYS = 365.0


@dataclass(frozen=True, slots=True)
class BgNbd:
    """Fitted BG/NBD parameters, the time unit being that of the data they were fitted on."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    customers: int = 0

    def p_alive(self, x: np.ndarray | float, t_x: np.ndarray | float,
                T: np.ndarray | float) -> np.ndarray:
        """The probability the customer is still active at T (equation 11; 1 with no repeat
        purchase, since the model lets customers drop out only after a purchase)."""
        x, t_x, T = _arrays(x, t_x, T)
        ratio = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x)))
        odds = np.where(x > 0, self.a / np.maximum(self.b + x - 1.0, 1e-300) * ratio, 0.0)
        return 1.0 / (1.0 + odds)

    def expected_purchases(self, t: float, x: np.ndarray | float, t_x: np.ndarray | float,
                           T: np.ndarray | float) -> np.ndarray:
        """Expected purchases in (T, T + t] given (x, t_x, T) (equation 10)."""
        x, t_x, T = _arrays(x, t_x, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        power = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        hyper = hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - power * hyper)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        odds = np.where(x > 0, a / np.maximum(b + x - 1.0, 1e-300) * ratio, 0.0)
        exact = numerator / (1.0 + odds)
        # Where ₂F₁ cannot be evaluated (parameters in the thousands, as a fit near the
        # Poisson limit gives: almost no heterogeneity, almost no dropout), the Poisson limit
        # stands in: the posterior mean rate (r+x)/(α+T) over t, times P(alive).
        limit = (r + x) / (alpha + T) * t / (1.0 + odds)
        return np.where(np.isfinite(exact) & (exact >= 0), exact, limit)


@dataclass(frozen=True, slots=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    customers: int = 0

    def expected_amount(self, x: np.ndarray | float, mean: np.ndarray | float) -> np.ndarray:
        """The expected amount of one purchase for a customer with x purchases of mean
        `mean` (the population mean pγ/(q−1) for x = 0)."""
        x, mean = np.asarray(x, dtype=float), np.asarray(mean, dtype=float)
        return self.p * (self.gamma + x * mean) / (self.p * x + self.q - 1.0)


def _arrays(*values: np.ndarray | float) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=float) for v in values)


def bgnbd_log_likelihood(params: Sequence[float], x: np.ndarray, t_x: np.ndarray,
                         T: np.ndarray) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (the logarithm of equation 6)."""
    r, alpha, a, b = params
    x, t_x, T = _arrays(x, t_x, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300))
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def gamma_gamma_log_likelihood(params: Sequence[float], x: np.ndarray,
                               mean: np.ndarray) -> np.ndarray:
    """Each customer's Gamma-Gamma log-likelihood of their mean amount."""
    p, q, gamma = params
    x, mean = _arrays(x, mean)
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1.0) * np.log(mean) + px * np.log(x) - (px + q) * np.log(gamma + x * mean))


def _fit(negative: object, start: Sequence[float]) -> np.ndarray:
    result = minimize(negative, np.log(np.asarray(start, dtype=float)), method="L-BFGS-B",
                      bounds=[(-12.0, 12.0)] * len(start))
    return np.exp(result.x)


def fit_bgnbd(x: Sequence[float], t_x: Sequence[float], T: Sequence[float]) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for customers (x, t_x, T)."""
    xs, txs, Ts = _arrays(x, t_x, T)
    if not (np.all(xs >= 0) and np.all(txs >= 0) and np.all(Ts >= txs)):
        raise ValueError("BG/NBD needs x ≥ 0 and 0 ≤ t_x ≤ T for every customer")
    scale = max(float(np.mean(Ts)), 1e-9)  # fit on T/scale: α scales, the others do not

    def negative(log_params: np.ndarray) -> float:
        value = -float(np.sum(bgnbd_log_likelihood(np.exp(log_params), xs, txs / scale,
                                                   Ts / scale)))
        return value if np.isfinite(value) else 1e300

    r, alpha, a, b = _fit(negative, (1.0, 1.0, 1.0, 1.0))
    alpha *= scale
    ll = float(np.sum(bgnbd_log_likelihood((r, alpha, a, b), xs, txs, Ts)))
    return BgNbd(r=float(r), alpha=float(alpha), a=float(a), b=float(b),
                 log_likelihood=ll, customers=len(xs))


def fit_gamma_gamma(x: Sequence[float], mean: Sequence[float]) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from customers with x > 0 purchases of
    positive mean amount (others are left out)."""
    xs, means = _arrays(x, mean)
    keep = (xs > 0) & (means > 0)
    xs, means = xs[keep], means[keep]
    if not len(xs):
        raise ValueError("Gamma-Gamma needs customers with purchases of positive amount")
    scale = float(np.mean(means))  # fit on amounts/scale: γ scales, p and q do not

    def negative(log_params: np.ndarray) -> float:
        value = -float(np.sum(gamma_gamma_log_likelihood(np.exp(log_params), xs,
                                                         means / scale)))
        return value if np.isfinite(value) else 1e300

    p, q, gamma = _fit(negative, (1.0, 2.0, 1.0))
    gamma *= scale
    ll = float(np.sum(gamma_gamma_log_likelihood((p, q, gamma), xs, means)))
    return GammaGamma(p=float(p), q=float(q), gamma=float(gamma), log_likelihood=ll,
                      customers=len(xs))


@dataclass(frozen=True, slots=True)
class Summary:
    """One customer's purchases as the models read them (days; amounts in the currency)."""

    x: int
    """Repeat purchases: won deals after the first."""
    t_x: float
    """Days from the first purchase to the last."""
    T: float
    """Days from the first purchase to the moment of scoring."""
    mean_amount: float
    """The mean amount of the repeat purchases (0 with none), as Gamma-Gamma reads it."""
    first_amount: float = 0.0


def summarise(history: CustomerHistory, now: datetime, currency: str,
              rates: dict[str, float] | None = None) -> Summary | None:
    """(x, t_x, T) and the mean repeat amount of the customer's won purchases known by `now`
    (None with no dated won purchase by then). Purchases on one day count as one (the
    models' unit of time is a day), amounts in another currency are converted with `rates`
    or left out."""
    rates = rates or {}
    days: dict[int, float] = {}
    for purchase in history.purchases:
        if not purchase.won or purchase.closed_at is None or purchase.closed_at > now:
            continue
        rate = 1.0 if purchase.currency == currency else rates.get(purchase.currency)
        if rate is None:
            continue
        day = int(purchase.closed_at.timestamp() // DAY_SECONDS)
        days[day] = days.get(day, 0.0) + purchase.amount * rate
    if not days:
        return None
    ordered = sorted(days)
    first, last = ordered[0], ordered[-1]
    now_day = now.timestamp() / DAY_SECONDS
    repeat = [days[d] for d in ordered[1:]]
    return Summary(x=len(repeat), t_x=float(last - first), T=max(now_day - first, last - first),
                   mean_amount=float(np.mean(repeat)) if repeat else 0.0,
                   first_amount=days[first])


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether an account's purchase history is enough to fit the models, and why not."""

    ok: bool
    customers: int
    repeat_customers: int
    history_days: float
    reason: str = ""


def gate(summaries: Sequence[Summary], history_days: float) -> Gate:
    repeat = sum(1 for s in summaries if s.x > 0)
    if repeat < MIN_REPEAT_CUSTOMERS:
        return Gate(False, len(summaries), repeat, history_days,
                    f"{repeat} customers with a repeat purchase; lifetime value needs "
                    f"{MIN_REPEAT_CUSTOMERS}")
    if history_days < MIN_HISTORY_DAYS:
        return Gate(False, len(summaries), repeat, history_days,
                    f"{history_days:.0f} days of purchase history; lifetime value needs "
                    f"{MIN_HISTORY_DAYS}")
    return Gate(True, len(summaries), repeat, history_days)


@dataclass(frozen=True, slots=True)
class LifetimeModel:
    """An account's fitted models (amounts in `currency`, time in days)."""

    bgnbd: BgNbd
    spend: GammaGamma | None
    currency: str
    fitted_at: datetime
    customers: int
    repeat_customers: int

    @property
    def basis(self) -> str:
        spend = "" if self.spend is None else " and Gamma-Gamma"
        return (f"BG/NBD{spend} fitted on {self.customers:,} customers' purchases "
                f"({self.repeat_customers:,} repeat buyers)")


@dataclass(frozen=True, slots=True)
class Forecast:
    active_probability: float
    expected_purchases: float
    expected_spend: float | None
    currency: str
    basis: str


def fit_account(summaries: Sequence[Summary], history_days: float, currency: str,
                now: datetime) -> tuple[LifetimeModel | None, Gate]:
    """Fits BG/NBD (and Gamma-Gamma when enough repeat buyers have amounts) behind the
    data gate."""
    verdict = gate(summaries, history_days)
    if not verdict.ok:
        return None, verdict
    bg = fit_bgnbd([s.x for s in summaries], [s.t_x for s in summaries],
                   [s.T for s in summaries])
    spenders = [s for s in summaries if s.x > 0 and s.mean_amount > 0]
    gg = None
    if len(spenders) >= MIN_SPEND_CUSTOMERS:
        gg = fit_gamma_gamma([s.x for s in spenders], [s.mean_amount for s in spenders])
        if gg.q <= 1.0:  # no finite mean amount: the spend forecast would not exist
            gg = None
    return LifetimeModel(bg, gg, currency, now, len(summaries), verdict.repeat_customers), \
        verdict


def forecast(model: LifetimeModel, summary: Summary,
             horizon_days: float = HORIZON_DAYS) -> Forecast:
    """One customer's outlook over the next `horizon_days`."""
    alive = float(model.bgnbd.p_alive(summary.x, summary.t_x, summary.T))
    purchases = float(model.bgnbd.expected_purchases(horizon_days, summary.x, summary.t_x,
                                                     summary.T))
    spend = None
    if model.spend is not None:
        amount = summary.mean_amount if summary.x else summary.first_amount
        spend = round(purchases * float(model.spend.expected_amount(
            max(summary.x, 1) if amount > 0 else 0, amount)), 2)
    return Forecast(active_probability=round(alive, 4),
                    expected_purchases=round(purchases, 3), expected_spend=spend,
                    currency=model.currency, basis=model.basis)


def summaries_of(histories: Iterable[CustomerHistory], now: datetime, currency: str,
                 rates: dict[str, float] | None = None
                 ) -> tuple[dict[int, Summary], float]:
    """Every customer's summary at `now`, and the days since the account's first purchase."""
    found: dict[int, Summary] = {}
    for history in histories:
        summary = summarise(history, now, currency, rates)
        if summary is not None:
            found[history.profile.id] = summary
    span = max((s.T for s in found.values()), default=0.0)
    return found, span
