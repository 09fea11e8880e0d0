"""Each suggestion: when it shows, its reason, its action, and the admin's control over it."""

from datetime import timedelta

import pytest

from plugin.core.assessment import assess
from plugin.core.domain import Organization
from plugin.core.model import score
from plugin.core.overrides import TierOverride
from plugin.core.settings import DEFAULT_SUGGESTIONS, Settings
from plugin.core.suggestions import RULES, render, suggest
from tests.factories import NOW, history, purchase, rating, ticket


def suggestions(hist, settings=None, **kwargs):
    settings = settings or Settings.from_dict({"max_suggestions": 10})
    return {s.id: s for s in suggest(hist, score(hist, settings, NOW), settings, NOW, **kwargs)}


def rich_tickets(count=12, **changes):
    return [ticket(i, days=5 + 20 * i, satisfaction=rating(True, days=4 + 20 * i), **changes)
            for i in range(1, count + 1)]


def test_every_rule_has_default_settings():
    assert set(RULES) == set(DEFAULT_SUGGESTIONS)


def test_personalise_names_tenure_and_last_topic():
    found = suggestions(history(ticket(1, days=30, subject="Invoice missing"), ticket(2, days=1)),
                        ticket_id=2)
    s = found["personalise"]
    assert s.reason == "Ana, customer for 2 years 2 months; last topic: “Invoice missing”"
    assert s.action.type == "reply"
    assert s.action.value == "Hi Ana, thank you for being with us for 2 years 2 months."


def test_preferred_channel_when_this_ticket_came_another_way():
    items = [ticket(i, channel="chat") for i in range(1, 5)] + [ticket(9, channel="email", days=1)]
    found = suggestions(history(*items), ticket_id=9)
    assert found["preferred_channel"].reason == (
        "Uses chat for 4 of 5 tickets; this one came by email")
    assert "over chat" in found["preferred_channel"].action.value
    assert "preferred_channel" not in suggestions(history(*items), ticket_id=1)


def test_onboarding_for_new_customers_only():
    assert "onboarding" in suggestions(history(ticket(1, days=2), joined_days_ago=10))
    assert "onboarding" not in suggestions(history(ticket(1, days=2), joined_days_ago=400))


def test_success_checkin_for_high_value_customers_with_rising_volume():
    steady = rich_tickets(12)
    rising = steady + [ticket(100 + i, days=i + 1) for i in range(5)]
    settings = Settings.from_dict({"max_suggestions": 10, "tiers": {"high": -99, "low": -100}})
    found = suggestions(history(*rising, fields={"lifetime_spend": 90000}), settings)
    assert found["success_checkin"].action.type == "tag"
    assert found["success_checkin"].action.value == "cv_success_checkin"
    # Five new tickets plus the steady one 25 days ago, against 9 tickets in the 180 days before.
    assert found["success_checkin"].reason == (
        "High-value customer with 6 tickets in the last 30 days, against about 1.5 a month before")
    assert "success_checkin" not in suggestions(history(*steady), settings)


def test_recurring_issue_names_the_topic():
    items = [ticket(i, days=i * 10, tags=("billing",)) for i in range(1, 4)]
    found = suggestions(history(*items))
    assert found["recurring_issue"].reason == "“billing” came up in 3 tickets in 90 days"
    assert "billing has come up" in found["recurring_issue"].action.value


def test_recurring_issue_ignores_the_apps_own_tags():
    items = [ticket(i, days=i, tags=("cv_high", "cv_low")) for i in range(1, 5)]
    assert "recurring_issue" not in suggestions(history(*items))


def test_we_heard_you_after_a_recent_comment():
    items = [ticket(1, days=5, satisfaction=rating(False, days=3, comment="Took a week " * 20))]
    s = suggestions(history(*items))["we_heard_you"]
    assert s.reason.startswith("Left critical feedback 3 days ago on #1: “Took a week")
    assert s.reason.endswith("…”")
    old = [ticket(1, days=100, satisfaction=rating(False, days=90, comment="Slow"))]
    assert "we_heard_you" not in suggestions(history(*old))


def test_surprise_and_delight_within_the_monthly_budget():
    settings = Settings.from_dict({"max_suggestions": 10, "gesture_budget": 3,
                                   "tiers": {"high": -99, "low": -100}})
    items = rich_tickets(6) + [ticket(50, days=2, satisfaction=rating(False, days=1))]
    found = suggestions(history(*items), settings, gestures_used=1)
    assert found["surprise_delight"].reason == (
        "High-value customer after 1 bad rating(s) in the last 30 days; 2 of 3 gestures left "
        "this month")
    assert "surprise_delight" not in suggestions(history(*items), settings, gestures_used=3)
    calm = rich_tickets(6)
    assert "surprise_delight" not in suggestions(history(*calm), settings)


def test_loyalty_reward_by_tenure_spend_or_purchases():
    regular = [ticket(i, days=10 * i) for i in range(1, 4)]
    assert "loyalty_reward" in suggestions(history(*regular, joined_days_ago=1200))
    assert "loyalty_reward" not in suggestions(history(joined_days_ago=1200)), \
        "a user record alone is little data: no loyalty reward"
    by_spend = suggestions(history(joined_days_ago=10, fields={"lifetime_spend": 25000}))
    assert by_spend["loyalty_reward"].reason == "Loyal customer: USD 25,000 spent"
    buyer = history(joined_days_ago=10, purchases=tuple(purchase(10, days=d) for d in range(1, 6)))
    assert "5 purchases" in suggestions(buyer)["loyalty_reward"].reason
    assert "loyalty_reward" not in suggestions(history(joined_days_ago=10))


def test_community_invite_needs_engagement_and_a_link():
    items = [ticket(i, satisfaction=rating(True, comment="Love it")) for i in range(1, 6)]
    assert "community_invite" not in suggestions(history(*items))
    settings = Settings.from_dict({"max_suggestions": 10,
                                   "community_link": "https://community.example.com"})
    found = suggestions(history(*items), settings)
    assert found["community_invite"].action.value.endswith("https://community.example.com")


def test_proactive_outreach_for_customers_at_risk():
    items = [ticket(i, days=i, priority="urgent", reopens=2, first_reply_minutes=3000.0,
                    satisfaction=rating(False, days=i)) for i in range(1, 8)]
    s = suggestions(history(*items, joined_days_ago=5))["proactive_outreach"]
    assert s.reason.startswith("At risk: low value (")
    assert "7 bad ratings in the last 30 days" in s.reason
    assert s.action.value == "cv_at_risk"


def test_admins_switch_rules_off_and_edit_their_text():
    settings = Settings.from_dict({"max_suggestions": 10, "suggestions": {
        "loyalty_reward": {"enabled": False},
        "personalise": {"text": "Hello {first_name} from {company}!", "title": "Say hello"},
    }})
    acme = Organization(id=3, name="Acme")
    found = suggestions(history(ticket(1), joined_days_ago=1200, organization=acme), settings)
    assert "loyalty_reward" not in found
    assert found["personalise"].title == "Say hello"
    assert found["personalise"].action.value == "Hello Ana from Acme!"
    # No organization: the {company} placeholder is empty, so the snippet is not offered.
    assert "personalise" not in suggestions(history(ticket(1)), Settings.from_dict(
        {"suggestions": {"personalise": {"text": "Hi from {company}"}}}))


def test_actions_can_be_macros_or_links():
    settings = Settings.from_dict({"max_suggestions": 10, "suggestions": {
        "loyalty_reward": {"action": "macro", "macro_id": 360001},
        "onboarding": {"action": "link", "link": "https://help.example.com/start"}}})
    found = suggestions(history(joined_days_ago=20, fields={"lifetime_spend": 30000}), settings)
    assert (found["loyalty_reward"].action.type, found["loyalty_reward"].action.value) == (
        "macro", 360001)
    assert found["onboarding"].action.value == "https://help.example.com/start"


def test_most_pressing_first_and_capped():
    items = [ticket(i, days=i, priority="urgent", satisfaction=rating(False, days=i),
                    tags=("billing",)) for i in range(1, 8)]
    found = suggest(history(*items), score(history(*items), Settings(), NOW), Settings(), NOW)
    assert len(found) <= Settings().max_suggestions
    assert [s.priority for s in found] == sorted((s.priority for s in found), reverse=True)
    assert found[0].id == "proactive_outreach"


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("Hi {first_name}", {"first_name": "Zoë"}, "Hi Zoë"),
    ("Hi {first_name}", {"first_name": ""}, None),
    ("Keep {unknown} as is", {}, "Keep {unknown} as is"),
    ("{first_name.__class__}", {"first_name": "x"}, "{first_name.__class__}"),
    ("Hi {first_name}", {"first_name": "{name}"}, "Hi {name}"),
])
def test_render_fills_only_bare_placeholders(text, values, expected):
    assert render(text, values) == expected


@pytest.mark.parametrize("labels", [
    {"tags": ("premium",)},
    {"organization": Organization(7, "Acme", tags=("premium",))},
])
def test_a_tag_the_customer_carries_is_not_a_topic(labels):
    """Zendesk copies the requester's and organization's tags onto each ticket: they label the
    customer, so the reply never says "premium has come up for you before"."""
    items = [ticket(i, days=i * 10, tags=("premium", "PREMIUM")) for i in range(1, 4)]
    found = suggestions(history(*items, **labels))
    assert "recurring_issue" not in found
    untitled = [ticket(i, days=i * 10, subject="", tags=("premium",)) for i in range(1, 4)]
    assert "premium" not in suggestions(history(*untitled, **labels))["personalise"].reason


def pin(tier: str) -> TierOverride:
    return TierOverride(id=1, subject="user", subject_id=1, tier=tier, reason="They know",
                        expires_at=NOW + timedelta(days=7), created_by=125,
                        created_by_name="Ada Lead", created_at=NOW)


def test_suggestions_are_chosen_for_the_pinned_tier():
    """A customer pinned Low value is not offered a loyalty reward but outreach; one pinned
    High value is offered what high-value customers are (a success check-in as their volume
    rises), whatever the model's own tier."""
    settings = Settings.from_dict({"max_suggestions": 10})
    loyal = history(*rich_tickets(8), joined_days_ago=1500,
                    fields={"lifetime_spend": 25000})
    model = {s.id for s in assess(loyal, settings, NOW).suggestions}
    assert "loyalty_reward" in model and score(loyal, settings, NOW).tier != "low"
    low = assess(loyal, settings, NOW, pin=pin("low"))
    assert low.value.tier == "low" and low.value.model_tier != "low"
    offered = {s.id for s in low.suggestions}
    assert "loyalty_reward" not in offered and "proactive_outreach" in offered
    rising = [ticket(i, days=1 + i) for i in range(1, 6)] + [ticket(9, days=200)]
    busy = history(*rising, joined_days_ago=900)
    assert score(busy, settings, NOW).tier != "high"
    assert "success_checkin" not in {s.id for s in assess(busy, settings, NOW).suggestions}
    high = assess(busy, settings, NOW, pin=pin("high"))
    assert "success_checkin" in {s.id for s in high.suggestions}
    assert "proactive_outreach" not in {s.id for s in high.suggestions} or \
        all("low value" not in s.reason for s in high.suggestions)


def test_a_low_value_customer_is_offered_no_loyalty_reward():
    settings = Settings.from_dict({"max_suggestions": 10})
    unhappy = [ticket(i, days=5 * i, satisfaction=rating(False, days=5 * i), reopens=2,
                      priority="urgent") for i in range(1, 9)]
    hist = history(*unhappy, joined_days_ago=1500)
    assert score(hist, settings, NOW).tier == "low"
    assert "loyalty_reward" not in suggestions(hist, settings)
