"""Suggested weights: fitted on the earlier window, checked on the later one, proposed only
if at least as good there, and blind to anything after the moment of the check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from integrations.files.crm import load_crm
from integrations.files.dataset import load
from plugin.core.model import score
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.core.spend import with_contacts
from plugin.core.weights import NAMES, features, fit
from plugin.demo.generator import generate
from plugin.service_layer.backtest import run_backtest, suggest

NOW = datetime(2025, 6, 1, tzinfo=UTC)
AT = NOW - timedelta(days=90)
HORIZON = timedelta(days=90)
SELL = Settings.from_dict({"spend_source": "sell"})


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    generate(folder, 700, seed=11, now=NOW, lifetimes=True)
    crm = load_crm(folder, "sell")
    return [with_contacts(h, crm, SELL) for h in load(folder).histories()]


@pytest.mark.slow  # generates and scores an account of 700 customers
def test_the_rebuilt_value_is_the_models(histories):
    norms = account_norms(histories, SELL, AT)
    values = [score(h, SELL, AT, norms=norms) for h in histories[:300]]
    rebuilt = features(values, norms, SELL.little_data_tickets).values(SELL.weights)
    # The model rounds each signal's points to 0.1: 15 signals, at most 0.05 each.
    assert np.max(np.abs(rebuilt - [v.value for v in values])) <= 15 * 0.05 + 0.05


def test_the_fit_never_returns_worse_than_its_start():
    rng = np.random.default_rng(1)
    from plugin.core.weights import Features

    n = 400
    feats = Features(rng.random((n, len(NAMES))), np.ones((n, len(NAMES))), np.ones(n))
    staying = rng.random(n) < 0.5
    weights, base, found = fit(feats, staying, SELL.weights)
    assert found >= base and set(weights) == set(NAMES)
    assert all(0 <= w <= 100 and w == round(w) for w in weights.values())


@pytest.mark.slow  # generates and scores an account of 700 customers
def test_suggested_weights_are_proposed_only_if_at_least_as_good_held_out(histories):
    found = suggest(lambda: iter(histories), SELL, AT, HORIZON)
    assert found.fit_auc_suggested >= found.fit_auc_current
    if found.proposed:
        assert found.check_auc_suggested >= found.check_auc_current
    else:
        assert found.reason
    # The held-out figures are the real backtest's, with each set of weights.
    trial = replace(SELL, weights=found.weights)
    assert run_backtest(lambda: iter(histories), trial, AT, HORIZON).overall.auc(
        "leaving") == found.check_auc_suggested
    assert run_backtest(lambda: iter(histories), SELL, AT, HORIZON).overall.auc(
        "leaving") == found.check_auc_current
    body = found.as_dict()
    assert body["objective"].startswith("AUC") and (body["weights"] is None) != found.proposed


@pytest.mark.slow  # generates and scores an account of 700 customers
def test_the_fit_sees_nothing_after_the_check_moment(histories):
    """Weights fitted for a check at AT come from (AT − horizon, AT]: cutting every event
    after AT out of the histories changes nothing of the fit."""
    def cut(h):
        return replace(h, tickets=tuple(t for t in h.tickets if t.created_at <= AT),
                       purchases=tuple(p for p in h.purchases
                                       if p.closed_at is None or p.closed_at <= AT))
    past = [cut(h) for h in histories]
    full = suggest(lambda: iter(histories), SELL, AT, HORIZON)
    blind = suggest(lambda: iter(past), SELL, AT, HORIZON)
    assert (full.weights, full.fit_auc_current, full.fit_auc_suggested, full.fit_customers) == (
        blind.weights, blind.fit_auc_current, blind.fit_auc_suggested, blind.fit_customers)
