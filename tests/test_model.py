"""The model on hand-made histories: worked values, evidence, segments, tiers and currencies."""

import math
from datetime import timedelta

import pytest

from plugin.core.domain import Organization
from plugin.core.model import Cutoffs, percentile_cutoffs, score
from plugin.core.settings import COST_SIGNALS, Settings
from tests.factories import NOW, history, profile, purchase, rating, ticket


def points(result, signal):
    return next(s for s in result.benefits + result.costs if s.signal == signal)


def three(**changes):
    """Three ordinary tickets 10, 20 and 30 days old (past the little-data threshold)."""
    return [ticket(i, days=10 * i, **changes) for i in (1, 2, 3)]


def test_worked_example_of_three_ordinary_tickets():
    result = score(history(*three()), Settings(), NOW)
    # Default norms: a typical first reply of 240 min, resolution 2880 min, 3 replies; no
    # customer's ticket volume, tenure or feedback is typical yet (0).
    # Volume: three tickets 10 days apart age on the contact clock by at most 7 days a gap:
    # burden = 1 + 2^(-7/180) + 2^(-14/180) = 2.921 → 10 · 2.921 / (2.921 + 12) = 2.0.
    burden = 1 + 2 ** (-7 / 180) + 2 ** (-14 / 180)
    assert points(result, "ticket_volume").points == round(10 * burden / (burden + 12), 1) == 2.0
    # Each ticket's first reply (60 min) is 0.25× typical: the mean with 6 pseudo-tickets at
    # 1× is below 1, so waiting costs nothing; likewise resolution and replies.
    for signal in ("first_reply_wait", "resolution_wait", "back_and_forth"):
        assert points(result, signal).points == 0 and points(result, signal).measured
    # No reopens, escalations or bad ratings against the default 10%, 20% and 5%: 0.
    # Tenure: first evidence the user record 800 days ago, last the latest ticket 10 days ago:
    # 790 days = 2.164 years → 2.164 / (2.164 + 2) = 0.520, and the measured benefits (tenure
    # 15, satisfaction 25, advocacy 10: spend and purchases are not measured) share all 100:
    # 100 · 15/50 · 0.520 = 15.6.
    years = 790 / 365
    assert points(result, "tenure").points == round(100 * 15 / 50 * years / (years + 2), 1)
    assert points(result, "tenure").max_points == 30.0
    assert not points(result, "lifetime_spend").measured
    assert result.value == round(result.total_benefits - result.total_costs, 1) == 13.6
    assert result.coverage == round((15 + 25 + 10 + 100) / 200, 3)


def test_satisfaction_is_the_decayed_share_of_good_ratings_beyond_the_accounts():
    rated = [ticket(i, days=1, satisfaction=rating(True, days=0)) for i in range(1, 11)]
    result = score(history(*rated), Settings(), NOW)
    # Ten good ratings today, 2 pseudo-ratings at the default 85%: (10 + 1.7) / 12 = 0.975,
    # (0.975 − 0.85) / 0.15 = 0.833 of the 50 points satisfaction takes of the 100 → 41.7.
    assert points(result, "satisfaction").measure == 0.975
    assert points(result, "satisfaction").points == 41.7
    assert points(result, "satisfaction").evidence.startswith("10 of 10 ratings good")


def test_unrated_customers_sit_at_the_accounts_typical_and_earn_nothing():
    result = score(history(*three()), Settings(), NOW)
    assert points(result, "satisfaction").measure == 0.85
    assert points(result, "satisfaction").points == 0
    assert "counted as the account's typical" in points(result, "satisfaction").evidence


def test_one_good_rating_moves_satisfaction_less_than_many():
    one = score(history(*three(), ticket(4, satisfaction=rating(True))), Settings(), NOW)
    many = score(history(*[ticket(i, satisfaction=rating(True)) for i in range(1, 21)]),
                 Settings(), NOW)
    assert points(one, "satisfaction").points < points(many, "satisfaction").points / 2


def test_survey_scale_evidence_reports_the_average():
    rated = [ticket(1, satisfaction=rating(5, scale=5)), ticket(2, satisfaction=rating(4, scale=5)),
             ticket(3, satisfaction=rating(2, scale=5))]
    evidence = points(score(history(*rated), Settings(), NOW), "satisfaction").evidence
    assert "2 of 3 ratings good" in evidence and "average 3.7/5 over 3 surveys" in evidence


@pytest.mark.parametrize("signal", sorted(set(COST_SIGNALS) - {"ticket_volume", "gone_quiet"}))
def test_a_costly_ticket_costs_more_as_the_latest_than_followed_by_later_contact(signal):
    costly = ticket(1, days=60, priority="urgent", reopens=2, first_reply_minutes=900.0,
                    resolution_minutes=40_000.0, replies=9, satisfaction=rating(False, days=30))

    def cost(later_tickets):
        later = [ticket(10 + i, days=50 - i * 7) for i in range(later_tickets)]
        return points(score(history(costly, *three(), *later), Settings(), NOW), signal).points

    assert cost(0) > cost(6) >= 0


def test_a_wait_still_running_counts_as_long_as_it_has_lasted():
    waiting = ticket(9, days=3, first_reply_minutes=10_000.0, resolution_minutes=20_000.0)
    result = score(history(*three(), waiting), Settings(), NOW)
    # 3 days = 4320 min so far against a typical 240: 18×, not yet the 41.7× to come.
    assert points(result, "first_reply_wait").points > 0
    later = score(history(*three(), waiting), Settings(), NOW + timedelta(days=4))
    assert points(later, "first_reply_wait").measure > points(result, "first_reply_wait").measure


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
    assert "account spend (organization field lifetime_spend)" in points(
        from_org, "lifetime_spend").evidence
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
    assert points(result, "lifetime_spend").evidence == "EUR 700 over 2 won deals − EUR 0 to serve"


def test_purchase_signals_reward_frequent_recent_buyers():
    frequent = score(history(purchases=tuple(purchase(500, days=d) for d in range(5, 400, 30))),
                     Settings(), NOW)
    lapsed = score(history(purchases=(purchase(500, days=900),)), Settings(), NOW)
    for signal in ("purchase_frequency", "purchase_recency", "deal_count"):
        assert points(frequent, signal).points > points(lapsed, signal).points
    assert points(frequent, "purchase_recency").evidence == \
        "last purchase 5 days ago; buys about every 30 days"


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
