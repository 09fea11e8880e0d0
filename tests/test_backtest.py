"""The backtest: outcomes read from (T, T + horizon], figures checked against a hand
computation on a tiny account, and no future event leaking into a past score."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.core.backtest import Case, Outcome, active_at, auc, outcome, report
from plugin.core.domain import CustomerHistory, Purchase, Ticket
from plugin.core.model import score
from plugin.core.settings import Settings
from plugin.service_layer.backtest import run_backtest
from tests.factories import NOW, days_ago, history, purchase, rating, ticket
from tests.test_properties import histories as zendesk_histories
from tests.test_properties import satisfactions

T = days_ago(100)
HORIZON = timedelta(days=90)


def test_the_outcome_reads_only_the_horizon():
    h = history(ticket(1, days=150), ticket(2, days=100),  # at T itself: before the horizon
                ticket(3, days=50, satisfaction=rating(False, days=40)),
                ticket(4, days=5),  # after T + horizon (10 days ago is the end)
                purchases=(purchase(300, days=60), purchase(50, days=2),
                           purchase(999, days=30, won=False)))
    found = outcome(h, T, HORIZON, Settings())
    assert found == Outcome(tickets=1, purchases=1, spend=300.0, bad_rating=True)
    assert not found.leaving
    quiet = outcome(history(ticket(1, days=150)), T, HORIZON, Settings())
    assert quiet.leaving and quiet.tickets == 0
    assert outcome(h, T, HORIZON, Settings(), former=True).leaving
    assert active_at(h, T) and not active_at(history(ticket(1, days=600)), T)


def test_auc_is_the_share_of_pairs_ordered_right():
    assert auc([3, 2, 1], [True, False, False])[0] == 1.0
    assert auc([1, 2, 3], [True, False, False])[0] == 0.0
    assert auc([2, 2], [True, False])[0] == 0.5
    assert auc([1, 2], [True, True]) == (None, 2, 0)


def _case(user, value, *, tickets=0, purchases=0, spend=0.0, bad=False):
    return Case(user, value, None, Outcome(tickets, purchases, spend, bad))


def test_figures_match_a_hand_computation():
    cases = [_case(1, 30.0, tickets=2, purchases=1, spend=500),
             _case(2, 20.0, tickets=1),
             _case(3, 10.0),  # leaves
             _case(4, 5.0, tickets=1, bad=True),
             _case(5, -5.0),  # leaves
             _case(6, -10.0, purchases=1, spend=100, bad=True),
             _case(7, -20.0),  # leaves
             _case(8, -30.0),  # leaves
             _case(9, 0.0, tickets=3, purchases=2, spend=50),
             _case(10, 15.0)]  # leaves
    result = report(cases)
    by_name = {f.name: f for f in result.figures}
    # Staying: users 1, 2, 4, 6, 9 (values 30, 20, 5, -10, 0) against the leavers 3, 5, 7,
    # 8, 10 (10, -5, -20, -30, 15). Pairs where the stayer is higher, by stayer:
    # 30: 5, 20: 5, 5: 3 (-5, -20, -30), -10: 2 (-20, -30), 0: 3 (-5, -20, -30) = 18 of 25.
    assert by_name["leaving"].auc == pytest.approx(18 / 25, abs=1e-4)
    assert (by_name["leaving"].positives, by_name["leaving"].negatives) == (5, 5)
    # No bad rating: 8 customers against users 4 (5) and 6 (-10). Pairs won: over 5: 30, 20,
    # 10, 15 (4); over -10: 30, 20, 10, -5, 0, 15 (6); ties none: 10 of 16.
    assert by_name["bad_rating"].auc == pytest.approx(10 / 16, abs=1e-4)
    # Buying: users 1 (30), 6 (-10), 9 (0) against 7 others (20, 10, 5, -5, -20, -30, 15):
    # 30 beats 7, -10 beats 2 (-20, -30), 0 beats 3 (-5, -20, -30): 12 of 21.
    assert by_name["any_purchase"].auc == pytest.approx(12 / 21, abs=1e-4)
    # Every figure rests on fewer than 30 on a side: each is flagged.
    assert len(result.warnings) == 3 and all("too few" in w for w in result.warnings)
    # Deciles of one customer each, highest value first; 5 of 10 leave overall (0.5).
    assert [d.high for d in result.deciles] == [30, 20, 15, 10, 5, 0, -5, -10, -20, -30]
    assert [d.leaving_lift for d in result.deciles] == [0, 0, 2, 2, 0, 0, 2, 0, 2, 2]
    # Spearman: value ranks against spend ranks (500, 100, 50 and seven ties at 0).
    values = [c.value for c in cases]
    spends = [c.outcome.spend for c in cases]
    assert result.spearman_future_spend == pytest.approx(_spearman(values, spends), abs=1e-4)


def _ranks(xs):
    order = sorted(xs)
    return [sum(i + 1 for i, v in enumerate(order) if v == x) / order.count(x) for x in xs]


def _spearman(xs, ys):
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    return cov / (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5


def test_a_tiny_account_end_to_end():
    # Two who stay (contact in the horizon), two who go quiet; one joined after T.
    accounts = [
        history(ticket(1, days=200, satisfaction=rating(True, days=199)),
                ticket(2, days=120, satisfaction=rating(True, days=119)), ticket(3, days=50),
                id=1),
        history(ticket(1, days=300), ticket(2, days=40), id=2),
        history(ticket(1, days=150, reopens=3, first_reply_minutes=5000,
                       satisfaction=rating(False, days=149)), id=3),
        history(ticket(1, days=130, satisfaction=rating(False, days=129),
                       resolution_minutes=20_000), id=4),
        history(ticket(1, days=20), id=5, joined_days_ago=30),
    ]
    result = run_backtest(lambda: iter(accounts), Settings(), T, HORIZON)
    assert result.known == 4 and result.overall.customers == 4
    values = {h.profile.id: score(h, Settings(), T).value for h in accounts[:4]}
    stayers, leavers = (values[1], values[2]), (values[3], values[4])
    pairs = sum((s > g) + 0.5 * (s == g) for s, g in product(stayers, leavers))
    assert result.overall.auc("leaving") == pytest.approx(pairs / 4)


def test_backtest_command_prints_the_figures(tmp_path):
    from click.testing import CliRunner

    from plugin.cli import main
    from plugin.demo.generator import generate

    generate(tmp_path / "data", 300, seed=3, now=NOW, lifetimes=True)
    (tmp_path / "s.json").write_text(json.dumps({"spend_source": "sell"}))
    run = CliRunner().invoke(main, ["backtest", "--data", str(tmp_path / "data"),
                                    "--settings", str(tmp_path / "s.json"), "--json",
                                    "--at", "2025-02-01T00:00:00Z", "--horizon", "12w"])
    assert run.exit_code == 0, run.output
    body = json.loads(run.stdout)
    assert body["at"] == "2025-02-01T00:00:00Z" and body["horizon_days"] == 84
    overall = body["overall"]
    assert overall["customers"] > 0 and len(overall["deciles"]) == 10
    assert set(overall["auc"]) == {"leaving", "bad_rating", "any_purchase"}
    assert sum(d["customers"] for d in overall["deciles"]) == overall["customers"]
    text = CliRunner().invoke(main, ["backtest", "--data", str(tmp_path / "data"),
                                     "--horizon", "90d"])
    assert text.exit_code == 0 and "AUC, value predicts staying" in text.output
    bad = CliRunner().invoke(main, ["backtest", "--data", str(tmp_path / "data"),
                                    "--horizon", "ninety"])
    assert bad.exit_code != 0 and "90d" in bad.output


future_ages = st.floats(min_value=0, max_value=99.9, allow_nan=False)  # after T (100 days ago)


@st.composite
def future_events(draw, past: CustomerHistory):
    """Events after T: new tickets, purchases, and ratings given after T on tickets that had
    none."""
    new = []
    for index in range(draw(st.integers(0, 5))):
        age = draw(future_ages)
        new.append(Ticket(id=1000 + index, created_at=days_ago(age),
                          status=draw(st.sampled_from(["open", "solved"])),
                          priority=draw(st.sampled_from(["normal", "urgent"])),
                          satisfaction=draw(st.one_of(st.none(), satisfactions(age))),
                          first_reply_minutes=draw(st.floats(0, 10_000)),
                          resolution_minutes=draw(st.floats(0, 50_000)),
                          replies=draw(st.integers(0, 10)), reopens=draw(st.integers(0, 3))))
    rated = []
    for t in past.tickets:
        if t.satisfaction is None and t.created_at <= T and draw(st.booleans()):
            t = replace(t, satisfaction=draw(satisfactions(draw(future_ages))))
        rated.append(t)
    buys = tuple(Purchase(amount=draw(st.floats(0, 10_000)), currency="USD",
                          won=draw(st.booleans()), closed_at=days_ago(draw(future_ages)))
                 for _ in range(draw(st.integers(0, 4))))
    return replace(past, tickets=tuple(rated) + tuple(new),
                   purchases=past.purchases + buys)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_adding_events_after_t_never_changes_the_score_at_t(data):
    past = data.draw(zendesk_histories())
    # Only what had happened by T: tickets created and rated by then.
    past = replace(past, tickets=tuple(
        t for t in past.tickets if t.created_at <= T
        and (t.satisfaction is None or t.satisfaction.rated_at <= T)))
    deals = tuple(Purchase(amount=data.draw(st.floats(0, 10_000)), currency="USD",
                           won=data.draw(st.booleans()),
                           closed_at=days_ago(data.draw(st.floats(100.1, 2000))))
                  for _ in range(data.draw(st.integers(0, 3))))
    past = replace(past, purchases=deals)
    later = data.draw(future_events(past))
    for spend_source in ("fields", "sell"):
        s = Settings.from_dict({"spend_source": spend_source})
        assert score(later, s, T) == score(past, s, T)


def test_figures_by_segment_count_their_own_customers():
    s = Settings.from_dict({"segments": [{"tag": "vip", "weights": {"tenure": 50}}]})
    accounts = [history(ticket(1, days=150), ticket(2, days=50 if i % 2 else 300), id=i,
                        tags=("vip",) if i % 3 == 0 else ()) for i in range(1, 13)]
    result = run_backtest(lambda: iter(accounts), s, T, HORIZON)
    assert list(result.segments) == ["vip"]
    assert result.segments["vip"].customers == 4 and result.overall.customers == 12
    assert all("too few" in w for w in result.segments["vip"].warnings)


def test_the_typical_contact_gap_is_read_from_what_was_known_at_t():
    """The account's typical gap between days of contact (the gone-quiet cost's prior) is the
    median of each customer's mean gap, from tickets and deals known by T only."""
    from plugin.core.norms import account_norms

    def customer(i, gap):
        # Four days of contact `gap` days apart, the last 120 days ago; then, after T
        # (100 days ago), a ticket every day, which must not shorten the gap at T.
        before = [ticket(i * 100 + n, days=120 + gap * n) for n in range(4)]
        after = [ticket(i * 100 + 50 + n, days=90 - n) for n in range(20)]
        return history(*before, id=i), history(*before, *after, id=i)

    pairs = [customer(i, gap) for i, gap in enumerate([10] * 10 + [20] + [40] * 10, 1)]
    known = account_norms([p for p, _ in pairs], Settings(), T)
    later = account_norms([f for _, f in pairs], Settings(), T)
    assert known.typical.contact_gap_days == later.typical.contact_gap_days == 20.0
    assert account_norms([f for _, f in pairs], Settings(), NOW).typical.contact_gap_days < 20
