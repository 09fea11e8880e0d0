"""The tagging decision: the right tag, only the changes needed, and no flip-flopping."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.core.model import Cutoffs
from plugin.core.settings import Settings
from plugin.core.tagging import decide, tagging_refusal, tier_with_hysteresis

CUTOFFS = Cutoffs(high=20, low=-15)
S = Settings()


@pytest.mark.parametrize(("value", "tags", "tier", "add", "remove"), [
    (30, (), "high", ("cv_high",), ()),
    (30, ("cv_high", "billing"), "high", (), ()),
    (30, ("cv_low",), "high", ("cv_high",), ("cv_low",)),
    (0, ("cv_low", "vip"), "medium", (), ("cv_low",)),
    (-40, (), "low", ("cv_low",), ()),
    (0, ("billing",), "medium", (), ()),
])
def test_decisions(value, tags, tier, add, remove):
    decision = decide(value, tuple(tags), S, CUTOFFS)
    assert (decision.tier, decision.add, decision.remove) == (tier, add, remove)


@pytest.mark.parametrize(("value", "previous", "tier"), [
    (19.0, "high", "high"), (17.0, "high", "high"), (16.9, "high", "medium"),
    (19.0, None, "medium"), (-14.0, "low", "low"), (-12.0, "low", "low"),
    (-11.9, "low", "medium"), (-14.0, "medium", "medium"),
])
def test_hysteresis_keeps_a_tier_near_its_threshold(value, previous, tier):
    assert tier_with_hysteresis(value, previous, CUTOFFS) == tier


def test_little_data_keeps_no_tier_tag_unless_the_admin_opts_in():
    little = decide(-40, ("cv_low",), S, CUTOFFS, little_data=True)
    assert (little.tier, little.add, little.remove) == ("medium", (), ("cv_low",))
    opted = Settings(tag_little_data=True)
    assert decide(-40, (), opted, CUTOFFS, little_data=True).add == ("cv_low",)


@given(st.lists(st.floats(min_value=18.5, max_value=21.5), min_size=2, max_size=30))
def test_a_customer_wobbling_on_the_threshold_is_tagged_once(values):
    tags: set[str] = set()
    changes = 0
    for value in values:
        decision = decide(value, tuple(tags), S, CUTOFFS)
        changes += decision.changes
        tags = (tags | set(decision.add)) - set(decision.remove)
    assert changes <= 1


@pytest.mark.parametrize(("settings", "forced", "refused"), [
    (Settings(tagging_enabled=True), False, None),
    (Settings(tagging_enabled=False), False, "tagging is switched off"),
    (Settings(tagging_enabled=False), True, None),
])
def test_one_rule_says_whether_an_account_may_be_tagged(settings, forced, refused):
    answer = tagging_refusal(settings, forced=forced)
    assert answer == refused or (refused and answer.startswith(refused))


def test_a_customer_record_gets_only_what_differs():
    from types import SimpleNamespace

    from plugin.core.tagging import decide_customer, organization_roll_up, with_changes

    value = SimpleNamespace(value=30.04, little_data=False, cutoffs=CUTOFFS, override=None)
    held = {"customer_value": 30.0, "customer_value_tier": "high"}
    write = decide_customer(value, ("cv_high",), held, S)
    assert not write.changes, "within a rounding step and the same tier: nothing to write"
    write = decide_customer(value, ("vip",), {}, S)
    assert dict(write.fields) == {"customer_value": 30.0, "customer_value_tier": "high"}
    assert with_changes(("vip",), write) == ["vip", "cv_high"]
    roll = organization_roll_up([30.0, -10.0], {}, S, CUTOFFS)
    assert dict(roll.fields) == {"customer_value": 10.0, "customer_value_tier": "medium"}
    assert not organization_roll_up([], {}, S, CUTOFFS).changes
