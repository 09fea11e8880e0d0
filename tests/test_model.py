"""The model on hand-made histories: worked values, evidence, segments, tiers and currencies."""

import math

import pytest

from plugin.core.domain import Organization
from plugin.core.model import Cutoffs, percentile_cutoffs, score
from plugin.core.settings import COST_SIGNALS, Settings
from tests.factories import NOW, history, profile, purchase, rating, ticket


def points(result, signal):
    return next(s for s in result.benefits + result.costs if s.signal == signal)


def test_worked_example_of_one_ticket():
    # One ticket 10 days old with a 180-day half-life weighs 2^(-10/180) = 0.9622;
    # ticket volume = 25 · 0.9622 / (0.9622 + 6) = 3.5 points.
    result = score(history(ticket(days=10)), Settings(), NOW)
    weight = 2 ** (-10 / 180)
    assert points(result, "ticket_volume").points == round(25 * weight / (weight + 6), 1) == 3.5
    # Means shrink towards zero with a pseudo-weight of 0.5: first reply 60 min reads as
    # 60 · 0.9622 / 1.4622 = 39.5 min → 15 · 39.5 / (39.5 + 240) = 2.1.
    shrink = weight / (weight + 0.5)
    assert points(result, "first_reply_wait").points == round(
        15 * 60 * shrink / (60 * shrink + 240), 1) == 2.1
    # Resolution 600 min → 394.8 min: 15 · 394.8 / (394.8 + 2880) = 1.8.
    assert points(result, "resolution_wait").points == 1.8
    # 2 replies → 1.316: 10 · 1.316 / 5.316 = 2.5. Tenure 800 days = 2.19 years: 15 · 2.19/4.19.
    assert points(result, "back_and_forth").points == 2.5
    assert points(result, "tenure").points == round(15 * (800 / 365) / (800 / 365 + 2), 1)
    assert result.value == round(result.total_benefits - result.total_costs, 1)


def test_satisfaction_uses_the_wilson_lower_bound_of_decayed_ratings():
    rated = [ticket(i, days=1, satisfaction=rating(True, days=0)) for i in range(1, 11)]
    result = score(history(*rated), Settings(), NOW)
    # Ten good ratings today: lb(10, 10) = 0.7225 → 25 · 0.7225 = 18.1.
    assert points(result, "satisfaction").points == 18.1
    assert points(result, "satisfaction").evidence.startswith("10 of 10 ratings good")


def test_one_good_rating_scores_far_below_many():
    one = score(history(ticket(1, satisfaction=rating(True))), Settings(), NOW)
    many = score(history(*[ticket(i, satisfaction=rating(True)) for i in range(1, 21)]),
                 Settings(), NOW)
    assert points(one, "satisfaction").points < points(many, "satisfaction").points / 2


def test_survey_scale_evidence_reports_the_average():
    rated = [ticket(1, satisfaction=rating(5, scale=5)), ticket(2, satisfaction=rating(4, scale=5)),
             ticket(3, satisfaction=rating(2, scale=5))]
    evidence = points(score(history(*rated), Settings(), NOW), "satisfaction").evidence
    assert "2 of 3 ratings good" in evidence and "average 3.7/5 over 3 surveys" in evidence


@pytest.mark.parametrize("signal", sorted(COST_SIGNALS))
def test_a_recent_costly_ticket_costs_more_than_an_old_one(signal):
    def cost(days):
        costly = ticket(1, days=days, priority="urgent", reopens=2, first_reply_minutes=900.0,
                        resolution_minutes=9000.0, replies=9,
                        satisfaction=rating(False, days=days))
        return points(score(history(costly), Settings(), NOW), signal).points

    assert cost(5) > cost(400) > 0


def test_segment_weights_apply_and_are_recorded():
    settings = Settings.from_dict({"segments": [{"tag": "enterprise",
                                                 "weights": {"ticket_volume": 0}}]})
    org = Organization(id=5, name="Acme", tags=("enterprise",))
    result = score(history(ticket(1), ticket(2), organization=org), settings, NOW)
    assert result.segment == "enterprise"
    assert points(result, "ticket_volume").points == 0
    plain = score(history(ticket(1), ticket(2)), settings, NOW)
    assert plain.segment is None and points(plain, "ticket_volume").points > 0


def test_spend_comes_from_deals_first_then_user_then_organization_field():
    org = Organization(id=5, fields={"lifetime_spend": "3000"})
    from_org = score(history(organization=org), Settings(), NOW)
    assert from_org.lifetime_spend == 3000
    assert "organization field" in points(from_org, "lifetime_spend").evidence
    from_user = score(history(organization=org, fields={"lifetime_spend": 500}), Settings(), NOW)
    assert from_user.lifetime_spend == 500
    from_deals = score(history(purchases=(purchase(700), purchase(300, won=False)),
                               organization=org, fields={"lifetime_spend": 500}), Settings(), NOW)
    assert from_deals.lifetime_spend == 700
    assert points(from_deals, "deal_count").evidence == "1 won, 1 lost"


def test_an_unreadable_spend_field_is_a_notice_not_a_crash():
    result = score(history(fields={"lifetime_spend": "lots"}), Settings(), NOW)
    assert result.lifetime_spend == 0
    assert any("not an amount" in n for n in result.notices)


def test_deals_in_other_currencies_are_converted_or_flagged():
    settings = Settings.from_dict({"currency": "EUR", "exchange_rates": {"USD": 0.5}})
    deals = (purchase(1000, currency="USD"), purchase(200, currency="EUR"),
             purchase(9999, currency="JPY"))
    result = score(history(purchases=deals), settings, NOW)
    assert result.lifetime_spend == 700
    assert result.notices == ("Deals in JPY left out: no exchange rate to EUR",)
    assert points(result, "lifetime_spend").evidence == "EUR 700 over 2 won deals"


def test_purchase_signals_reward_frequent_recent_buyers():
    frequent = score(history(purchases=tuple(purchase(500, days=d) for d in range(5, 400, 30))),
                     Settings(), NOW)
    lapsed = score(history(purchases=(purchase(500, days=900),)), Settings(), NOW)
    for signal in ("purchase_frequency", "purchase_recency", "deal_count"):
        assert points(frequent, signal).points > points(lapsed, signal).points
    assert points(frequent, "purchase_recency").evidence == "last purchase 5 days ago"


def test_little_data_flag():
    assert score(history(ticket(1)), Settings(), NOW).little_data
    assert not score(history(ticket(1), ticket(2), ticket(3)), Settings(), NOW).little_data
    assert not score(history(purchases=(purchase(),)), Settings(), NOW).little_data


def test_top_drivers_are_the_largest_contributions():
    heavy = [ticket(i, days=i, priority="urgent", reopens=1) for i in range(1, 30)]
    result = score(history(*heavy), Settings(), NOW)
    drivers = result.top_drivers
    assert len(drivers) == 3
    assert [d.points for d in drivers] == sorted((d.points for d in drivers), reverse=True)
    others = [s.points for s in result.benefits + result.costs if s not in drivers]
    assert min(d.points for d in drivers) >= max(others)


def test_tiers_follow_absolute_thresholds():
    cutoffs = Cutoffs(high=25, low=-10)
    assert [cutoffs.tier(v) for v in (30, 25, 0, -10, -40)] == [
        "high", "high", "medium", "low", "low"]


def test_percentile_tiers_split_the_account():
    settings = Settings.from_dict({"tiers": {"mode": "percentile", "high": 80, "low": 20}})
    cutoffs = percentile_cutoffs([float(v) for v in range(101)], settings)
    assert (cutoffs.high, cutoffs.low) == (80, 20)
    assert percentile_cutoffs([], settings).high == math.inf


def test_percentile_mode_needs_the_account_cutoffs():
    settings = Settings.from_dict({"tiers": {"mode": "percentile", "high": 80, "low": 20}})
    with pytest.raises(ValueError, match="percentile tiers need"):
        score(history(), settings, NOW)


def test_result_records_the_settings_version_and_clock():
    result = score(history(), Settings.from_dict({"version": 7}), NOW)
    assert result.settings_version == 7 and result.computed_at == NOW


def test_naive_clock_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        score(history(), Settings(), NOW.replace(tzinfo=None))


def test_customer_names_are_kept_verbatim_for_the_views_to_escape():
    result = score(history(name="<script>alert(1)</script>"), Settings(), NOW)
    assert result.name == "<script>alert(1)</script>"
    assert profile(name="  ").first_name == ""


def test_the_organization_spend_field_is_its_own_setting():
    org = Organization(id=5, fields={"annual_revenue": 7000, "lifetime_spend": 1})
    settings = Settings.from_dict({"organization_spend_field": "annual_revenue"})
    result = score(history(organization=org), settings, NOW)
    assert result.lifetime_spend == 7000
    assert "organization field annual_revenue" in points(result, "lifetime_spend").evidence
