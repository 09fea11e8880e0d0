"""Predictive lifetime value: the BG/NBD and Gamma-Gamma closed forms against the published
CDNOW estimates (Fader, Hardie & Lee 2005), the data gate and the customer summary."""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.core.lifetime import (
    MIN_HISTORY_DAYS,
    MIN_REPEAT_CUSTOMERS,
    BgNbd,
    Summary,
    bgnbd_log_likelihood,
    fit_account,
    fit_bgnbd,
    fit_gamma_gamma,
    forecast,
    gate,
    summarise,
)
from tests.factories import NOW, days_ago, history, purchase

CDNOW = Path(__file__).parent / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
PUBLISHED = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def cdnow():
    with CDNOW.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) for row in rows]) for key in ("x", "t_x", "T", "zbar")}


def test_the_log_likelihood_at_the_published_estimates_is_the_published_one(cdnow):
    ll = bgnbd_log_likelihood((PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b),
                              cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert len(cdnow["x"]) == 2357
    assert ll == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_fit_reproduces_the_cdnow_estimates(cdnow):
    fit = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243, 4.414, 0.793, 2.426)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_fit_reproduces_the_cdnow_estimates(cdnow):
    fit = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    assert fit.customers == 946  # the repeat buyers
    # Published to two decimals: p = 6.25, q = 3.74, γ = 15.44 (this fit: γ = 15.448).
    assert fit.p == pytest.approx(6.25, abs=0.01)
    assert fit.q == pytest.approx(3.74, abs=0.01)
    assert fit.gamma == pytest.approx(15.44, abs=0.01)


def test_conditional_expectations_at_the_published_estimates(cdnow):
    # A customer with no repeat purchase is alive with certainty (dropout follows purchases);
    # one who bought 2 times by week 30.43 and was last seen 8 weeks ago is less likely.
    assert PUBLISHED.p_alive(0, 0, 38.86) == 1.0
    assert 0.5 < PUBLISHED.p_alive(2, 30.43, 38.86) < 0.9
    assert PUBLISHED.p_alive(2, 30.43, 38.86) > PUBLISHED.p_alive(2, 5.0, 38.86)
    # The unconditional check: summed over the cohort, expected purchases in the next 39
    # weeks are positive and fewer than twice the calibration period's.
    expected = PUBLISHED.expected_purchases(39.0, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert 0.3 * cdnow["x"].sum() < expected < 2 * cdnow["x"].sum()


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 30), last=st.floats(0, 1), age=st.floats(1, 400),
       later=st.floats(0, 300))
def test_silence_never_raises_the_chance_of_being_alive_or_the_purchases_expected(
        x, last, age, later):
    t_x = 0.0 if x == 0 else last * age
    alive_now = PUBLISHED.p_alive(x, t_x, age)
    alive_later = PUBLISHED.p_alive(x, t_x, age + later)
    assert 0.0 < alive_later <= alive_now + 1e-12 <= 1.0 + 1e-12
    soon = PUBLISHED.expected_purchases(52.0, x, t_x, age)
    assert soon >= 0.0
    assert PUBLISHED.expected_purchases(52.0, x, t_x, age + later) <= soon + 1e-9


def test_a_fit_recovers_the_parameters_it_was_drawn_from():
    rng = np.random.default_rng(3)
    n, horizon = 20_000, 365.0
    lam = rng.gamma(0.8, 1 / 20.0, n)  # r = 0.8, alpha = 20 (days)
    p = rng.beta(1.0, 4.0, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    fit = fit_bgnbd(x, t_x, np.full(n, horizon))
    assert fit.r == pytest.approx(0.8, rel=0.1)
    assert fit.alpha == pytest.approx(20.0, rel=0.15)
    assert fit.a == pytest.approx(1.0, rel=0.2)
    assert fit.b == pytest.approx(4.0, rel=0.25)


def test_the_summary_reads_won_purchases_known_by_then_one_per_day():
    h = history(purchases=(purchase(100, days=300), purchase(50, days=100),
                           purchase(70, days=100.01), purchase(999, days=50, won=False),
                           purchase(400, days=5)))
    s = summarise(h, NOW, "USD")
    assert s.x == 2 and s.first_amount == 100
    assert s.mean_amount == pytest.approx((120 + 400) / 2)
    assert (s.t_x, s.T) == (pytest.approx(295, abs=1), pytest.approx(300, abs=1))
    earlier = summarise(h, days_ago(20), "USD")
    assert earlier.x == 1 and earlier.mean_amount == pytest.approx(120)
    assert summarise(h, days_ago(301), "USD") is None
    assert summarise(history(purchases=(purchase(10, currency="CHF"),)), NOW, "USD") is None


def test_the_gate_names_its_thresholds():
    few = [Summary(x=1, t_x=10, T=400, mean_amount=5)] * (MIN_REPEAT_CUSTOMERS - 1)
    verdict = gate(few, 400)
    assert not verdict.ok and str(MIN_REPEAT_CUSTOMERS) in verdict.reason
    enough = few + [Summary(x=2, t_x=10, T=400, mean_amount=5)]
    assert gate(enough, 400).ok
    short = gate(enough, MIN_HISTORY_DAYS - 1)
    assert not short.ok and str(MIN_HISTORY_DAYS) in short.reason
    model, verdict = fit_account(few, 400, "USD", NOW)
    assert model is None and not verdict.ok


def test_an_account_forecast_from_purchases():
    rng = np.random.default_rng(5)
    summaries = []
    for _ in range(400):
        x = int(rng.poisson(2))
        T = float(rng.uniform(200, 700))
        t_x = float(rng.uniform(0, T)) if x else 0.0
        summaries.append(Summary(x=x, t_x=t_x, T=T, mean_amount=float(rng.gamma(4, 30)) if x
                                 else 0.0, first_amount=50.0))
    model, verdict = fit_account(summaries, 700, "USD", NOW)
    assert verdict.ok and model is not None and model.spend is not None
    recent = forecast(model, Summary(x=5, t_x=590, T=600, mean_amount=200))
    gone = forecast(model, Summary(x=5, t_x=450, T=600, mean_amount=200))
    assert 0 < gone.active_probability < recent.active_probability <= 1
    assert recent.expected_spend > gone.expected_spend > 0
    assert "BG/NBD" in recent.basis and recent.currency == "USD"


def _buyers(count: int, *, repeat: bool = True):
    rng = np.random.default_rng(11)
    found = []
    for user in range(1, count + 1):
        n = int(rng.integers(2, 6)) if repeat else 1
        ages = sorted(rng.uniform(5, 600, n), reverse=True)
        found.append(history(purchases=tuple(purchase(float(rng.gamma(4, 50)), days=a)
                                             for a in ages), id=user))
    return found


def test_the_account_fit_reads_the_stores_purchases_behind_the_gate():
    from plugin.core.settings import Settings
    from plugin.service_layer.lifetime import fit_lifetime

    model, verdict = fit_lifetime(_buyers(150), Settings(), NOW)
    assert verdict.ok and model is not None and model.repeat_customers == 150
    model, verdict = fit_lifetime(_buyers(150, repeat=False), Settings(), NOW)
    assert model is None and verdict.repeat_customers == 0


def test_the_contract_carries_the_outlook_or_null():
    from plugin.core.assessment import assess
    from plugin.core.settings import Settings
    from plugin.service_layer.lifetime import fit_lifetime
    from plugin.web.contract import to_json

    buyers = _buyers(150)
    model, _ = fit_lifetime(buyers, Settings(), NOW)
    body = to_json(assess(buyers[0], Settings(), NOW, lifetime=model))
    outlook = body["lifetime"]
    assert set(outlook) == {"active_probability", "expected_purchases_12m",
                            "expected_spend_12m", "currency", "basis"}
    assert 0 < outlook["active_probability"] <= 1 and outlook["expected_spend_12m"] > 0
    assert to_json(assess(buyers[0], Settings(), NOW))["lifetime"] is None


def test_the_forward_money_view_reads_the_next_12_months():
    from plugin.core.model import score
    from plugin.core.settings import Settings
    from plugin.service_layer.lifetime import fit_lifetime

    buyers = _buyers(150)
    model, _ = fit_lifetime(buyers, Settings(), NOW)
    forward = Settings.from_dict({"money_outlook": "forward"})
    past = score(buyers[0], forward, NOW)  # no model: the past view stays
    ahead = score(buyers[0], forward, NOW, lifetime=model)
    assert past.money.basis == "deals"
    assert ahead.money.basis == "expected next 12 months"
    expected = forecast(model, summarise(buyers[0], NOW, "USD")).expected_spend
    assert ahead.money.spend == expected
    # With the default (past) outlook, a model changes nothing.
    assert score(buyers[0], Settings(), NOW, lifetime=model) == score(buyers[0], Settings(), NOW)


def test_the_money_outlook_setting_is_checked_and_kept():
    from plugin.core.settings import Settings, SettingsError

    forward = Settings.from_dict({"money_outlook": "forward"})
    assert Settings.from_dict(forward.to_dict()) == forward
    assert Settings().money_outlook == "past"
    with pytest.raises(SettingsError) as error:
        Settings.from_dict({"money_outlook": "sideways"})
    assert "money_outlook" in error.value.errors
