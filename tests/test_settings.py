"""Settings validation: each bad value gets its own message, and nothing half-applies."""

import json

import pytest

from plugin.core.settings import (
    DEFAULT_SUGGESTIONS,
    DEFAULT_WEIGHTS,
    SIGNALS,
    Settings,
    SettingsError,
)


def test_defaults_are_valid_and_balanced():
    settings = Settings.from_dict({})
    assert settings == Settings()
    benefits = sum(DEFAULT_WEIGHTS[s] for s in SIGNALS if s in (
        "lifetime_spend", "purchase_frequency", "purchase_recency", "deal_count",
        "average_deal", "tenure", "satisfaction", "advocacy"))
    assert benefits == 100
    assert sum(DEFAULT_WEIGHTS.values()) == 200
    assert set(DEFAULT_WEIGHTS) == set(SIGNALS)


def test_round_trip_through_json():
    settings = Settings.from_dict({
        "weights": {"tenure": 30}, "tiers": {"mode": "percentile", "high": 80, "low": 20},
        "segments": [{"tag": "vip", "weights": {"lifetime_spend": 40}}],
        "exchange_rates": {"EUR": 1.1}, "community_link": "https://community.example.com",
        "suggestions": {"loyalty_reward": {"action": "macro", "macro_id": 42}},
    })
    again = Settings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings
    assert again.weights["tenure"] == 30
    assert again.weights["satisfaction"] == DEFAULT_WEIGHTS["satisfaction"]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"weights": {"tenure": -1}}, "weights.tenure", "must be between 0 and 100"),
    ({"weights": {"tenure": 101}}, "weights.tenure", "must be between 0 and 100"),
    ({"weights": {"tenure": "high"}}, "weights.tenure", "must be a number"),
    ({"weights": {"tenure": True}}, "weights.tenure", "must be a number"),
    ({"weights": {"tenure": float("nan")}}, "weights.tenure", "must be between"),
    ({"weights": {"karma": 5}}, "weights.karma", "unknown signal"),
    ({"weights": [1, 2]}, "weights", "must be an object"),
    ({"tiers": {"mode": "median"}}, "tiers.mode", "must be absolute or percentile"),
    ({"tiers": {"high": 10, "low": 20}}, "tiers.low", "must be below the high threshold"),
    ({"tiers": {"mode": "percentile", "high": 120, "low": 10}}, "tiers.high",
     "must be between 0 and 100"),
    ({"tiers": {"high": 150}}, "tiers.high", "must be between -100 and 100"),
    ({"tiers": {"middle": 3}}, "tiers.middle", "unknown setting"),
    ({"half_life_days": 0}, "half_life_days", "must be between 1 and 3650"),
    ({"half_life_days": "180"}, "half_life_days", "must be a number"),
    ({"little_data_tickets": 2.5}, "little_data_tickets", "must be a whole number"),
    ({"cost_per_ticket": -5}, "cost_per_ticket", "must be between 0"),
    ({"currency": "usd"}, "currency", "three-letter ISO 4217"),
    ({"currency": "EURO"}, "currency", "three-letter ISO 4217"),
    ({"exchange_rates": {"EUR": 0}}, "exchange_rates.EUR", "must be between"),
    ({"exchange_rates": {"euro": 1.1}}, "exchange_rates.euro", "three-letter ISO 4217"),
    ({"segments": [{"tag": "big spender", "weights": {}}]}, "segments.0.tag", "no spaces"),
    ({"segments": [{"tag": "vip"}, {"tag": "vip"}]}, "segments.1.tag", "listed twice"),
    ({"segments": [{"tag": "vip", "weights": {"tenure": 500}}]}, "segments.0.weights.tenure",
     "must be between 0 and 100"),
    ({"segments": {"vip": {}}}, "segments", "must be a list"),
    ({"tag_high": "cv high"}, "tag_high", "no spaces"),
    ({"tag_low": "cv_high"}, "tag_low", "must differ from the high-value tag"),
    ({"spend_field": "life time"}, "spend_field", "field key"),
    ({"community_link": "http://insecure.example.com"}, "community_link", "https://"),
    ({"community_link": "javascript:alert(1)"}, "community_link", "https://"),
    ({"suggestions": {"free_pizza": {}}}, "suggestions.free_pizza", "unknown suggestion"),
    ({"suggestions": {"personalise": {"enabled": "yes"}}}, "suggestions.personalise.enabled",
     "must be true or false"),
    ({"suggestions": {"personalise": {"title": ""}}}, "suggestions.personalise.title",
     "1 to 80 characters"),
    ({"suggestions": {"personalise": {"text": "Hi {first_name.__class__}"}}},
     "suggestions.personalise.text", "unknown placeholder {first_name.__class__}"),
    ({"suggestions": {"personalise": {"text": "Hi {nickname}"}}},
     "suggestions.personalise.text", "unknown placeholder {nickname}"),
    ({"suggestions": {"personalise": {"action": "email"}}}, "suggestions.personalise.action",
     "must be one of reply, macro, tag, link"),
    ({"suggestions": {"loyalty_reward": {"action": "macro"}}},
     "suggestions.loyalty_reward.macro_id", "is needed for the macro action"),
    ({"suggestions": {"loyalty_reward": {"action": "macro", "macro_id": -3}}},
     "suggestions.loyalty_reward.macro_id", "positive whole number"),
    ({"suggestions": {"proactive_outreach": {"tag": "at risk"}}},
     "suggestions.proactive_outreach.tag", "no spaces"),
    ({"suggestions": {"community_invite": {"action": "link"}}},
     "suggestions.community_invite.link", "is needed for the link action"),
    ({"suggestions": {"personalise": {"colour": "red"}}}, "suggestions.personalise.colour",
     "unknown setting"),
    ({"favourite_colour": "red"}, "favourite_colour", "unknown setting"),
])
def test_each_bad_value_is_named_with_its_message(data, field, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict(data)
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]


def test_every_bad_field_is_listed_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict({"weights": {"tenure": -1, "advocacy": "lots"}, "currency": "x",
                            "half_life_days": 0})
    assert set(caught.value.errors) == {"weights.tenure", "weights.advocacy", "currency",
                                        "half_life_days"}
    assert "invalid settings (4)" in str(caught.value)


def test_settings_must_be_an_object():
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict([1, 2, 3])  # type: ignore[arg-type]
    assert caught.value.errors == {"": "settings must be an object"}


def test_segment_weights_apply_to_tagged_customers_only():
    settings = Settings.from_dict({"segments": [{"tag": "vip", "weights": {"tenure": 0}}]})
    vip_weights, segment = settings.weights_for(("newsletter", "vip"))
    assert segment == "vip" and vip_weights["tenure"] == 0
    assert vip_weights["satisfaction"] == DEFAULT_WEIGHTS["satisfaction"]
    other, none = settings.weights_for(("newsletter",))
    assert none is None and other["tenure"] == DEFAULT_WEIGHTS["tenure"]


def test_editing_one_suggestion_keeps_the_others():
    settings = Settings.from_dict({"suggestions": {"onboarding": {"enabled": False}}})
    assert settings.suggestions["onboarding"].enabled is False
    assert settings.suggestions["loyalty_reward"] == DEFAULT_SUGGESTIONS["loyalty_reward"]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"tagging_enabled": "yes"}, "tagging_enabled", "must be true or false"),
    ({"tag_user": 1}, "tag_user", "must be true or false"),
    ({"spend_source": "salesforce"}, "spend_source", "must be fields, sell or bitrix24"),
    ({"organization_spend_field": "annual spend"}, "organization_spend_field", "field key"),
    ({"value_user_field": "customer value"}, "value_user_field", "field key"),
])
def test_tagging_and_spend_source_settings_are_validated(data, field, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict(data)
    assert message in caught.value.errors[field]


def test_tagging_and_spend_source_round_trip():
    settings = Settings.from_dict({"tagging_enabled": True, "tag_user": True,
                                   "value_user_field": "customer_value", "spend_source": "sell",
                                   "organization_spend_field": "annual_revenue"})
    assert Settings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"segments": [{"tag": f"s{i}", "weights": {}} for i in range(51)]}, "segments",
     "at most 50 segments"),
    ({"exchange_rates": {f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}": 1.0
                         for i in range(201)}}, "exchange_rates", "at most 200 currencies"),
    ({"community_link": "https://x.example/" + "a" * 2000}, "community_link",
     "at most 2000 characters"),
    ({"system_tags": ["t"] * 201}, "system_tags", "at most 200 tags"),
    ({"suggestions": {"personalise": {"text": "x" * 2001}}}, "suggestions.personalise.text",
     "at most 2000 characters"),
])
def test_lists_and_texts_are_capped(data, field, message):
    with pytest.raises(SettingsError) as error:
        Settings.from_dict(data)
    assert message in error.value.errors[field]


def test_the_whole_settings_object_is_capped():
    huge = {"segments": [{"tag": "s", "weights": {}, "pad": "x" * 200_000}]}
    with pytest.raises(SettingsError) as error:
        Settings.from_dict(huge)
    assert "at most 128 KB" in error.value.errors[""]


def test_settings_at_every_cap_are_accepted():
    from plugin.core.settings import MAX_RATES, MAX_SEGMENTS
    codes = [f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}"
             for i in range(MAX_RATES)]
    settings = Settings.from_dict({
        "segments": [{"tag": f"segment_{i}", "weights": dict.fromkeys(DEFAULT_WEIGHTS, 50)}
                     for i in range(MAX_SEGMENTS)],
        "exchange_rates": dict.fromkeys(codes, 1.25), "system_tags": [f"t{i}" for i in range(200)]})
    assert len(settings.segments) == MAX_SEGMENTS and len(settings.exchange_rates) == MAX_RATES
