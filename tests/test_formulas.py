"""Each formula against worked values from its source or an independent calculation."""

import math

import pytest

from plugin.core.formulas import (
    decay_weight,
    log_scale,
    percentile,
    rate_per_year,
    saturation,
    wilson_lower_bound,
)


@pytest.mark.parametrize(("successes", "trials", "expected"), [
    # 95% Wilson intervals as published for these counts (e.g. Newcombe, Statistics in
    # Medicine 17 (1998) 857–872, Table I; the same as statsmodels' proportion_confint
    # method="wilson"): 5/10 → [0.2366, 0.7634], 10/10 → [0.7225, 1], 0/10 → [0, 0.2775].
    (5, 10, 0.2366),
    (10, 10, 0.7225),
    (0, 10, 0.0),
    # 1/1: p = 1, so lb = 1 / (1 + z²) = 1 / 4.8415 = 0.2065.
    (1, 1, 0.2065),
    # Newcombe (1998), Table I, example (a): 81/263 → [0.2553, 0.3662].
    (81, 263, 0.2553),
])
def test_wilson_lower_bound_matches_published_intervals(successes, trials, expected):
    assert wilson_lower_bound(successes, trials) == pytest.approx(expected, abs=5e-5)


def test_wilson_lower_bound_of_nothing_is_zero():
    assert wilson_lower_bound(0, 0) == 0.0


def test_wilson_rejects_more_successes_than_trials():
    with pytest.raises(ValueError, match="between 0 and trials"):
        wilson_lower_bound(3, 2)


def test_wilson_ranks_many_good_ratings_above_one():
    assert wilson_lower_bound(95, 100) > wilson_lower_bound(1, 1)


@pytest.mark.parametrize(("age", "half_life", "expected"), [
    (0, 180, 1.0), (180, 180, 0.5), (360, 180, 0.25), (90, 180, 1 / math.sqrt(2)),
    (-5, 180, 1.0),
])
def test_decay_halves_every_half_life(age, half_life, expected):
    assert decay_weight(age, half_life) == pytest.approx(expected)


@pytest.mark.parametrize(("x", "k", "expected"), [(0, 5, 0.0), (5, 5, 0.5), (15, 5, 0.75),
                                                  (-1, 5, 0.0)])
def test_saturation_is_half_at_its_half_point(x, k, expected):
    assert saturation(x, k) == pytest.approx(expected)


@pytest.mark.parametrize(("amount", "reference", "expected"), [
    (0, 1000, 0.0), (1000, 1000, 1.0), (10**6, 1000, 1.0),
    (99, 9999, 0.5),  # log(100) / log(10000)
])
def test_log_scale(amount, reference, expected):
    assert log_scale(amount, reference) == pytest.approx(expected)


def test_rate_per_year_recovers_a_steady_rate():
    # One event a week for ten years, decayed with a 90-day half-life. A discrete sum counts
    # about half an event more than the integral (Σ e^(−ak) = 1/(1 − e^(−a)) ≈ 1/a + ½), so the
    # estimate is 52.14 · (1 + a/2) with a = 7·ln2/90, about 2.7% high.
    decayed = sum(decay_weight(7 * week, 90) for week in range(520))
    assert rate_per_year(decayed, 90) == pytest.approx(52.14 * (1 + 7 * math.log(2) / 180),
                                                       rel=0.002)


@pytest.mark.parametrize(("q", "expected"), [(0, 1), (25, 1.75), (50, 2.5), (80, 3.4),
                                             (100, 4)])
def test_percentile_interpolates_like_numpy_default(q, expected):
    assert percentile([1, 2, 3, 4], q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_wilson_stays_finite_for_vanishing_decayed_counts():
    # A single rating decayed over hundreds of half-lives: n underflows n² to zero.
    assert wilson_lower_bound(7.9e-163, 7.9e-163) == pytest.approx(0.0, abs=1e-12)
    assert wilson_lower_bound(0.0, 1e-300) == 0.0
