"""Pinned tiers in the pure core: which pin applies, what a pin request must say, and the
tagger writing the pinned tier whatever the value and the ticket's tags."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.core.model import score
from plugin.core.overrides import TierOverride, applicable, check
from plugin.core.settings import Settings
from plugin.core.tagging import decide_for
from tests.factories import NOW, history, rating, ticket


def pin(id=1, subject="user", subject_id=1, tier="high", days=7, ended=False, created=0):
    return TierOverride(id=id, subject=subject, subject_id=subject_id, tier=tier, reason="why",
                        expires_at=NOW + timedelta(days=days), created_by=5,
                        created_by_name="Kim", created_at=NOW - timedelta(days=created),
                        ended_at=NOW if ended else None)


def test_the_customers_own_pin_beats_the_organizations():
    mine, theirs = pin(1, tier="low"), pin(2, "organization", 50, tier="high")
    assert applicable([theirs, mine], 1, 50, NOW) == mine
    assert applicable([theirs], 1, 50, NOW) == theirs
    assert applicable([theirs], 1, None, NOW) is None
    assert applicable([pin(subject_id=2)], 1, 50, NOW) is None


def test_ended_and_expired_pins_do_not_apply():
    assert applicable([pin(ended=True)], 1, None, NOW) is None
    assert applicable([pin(days=1)], 1, None, NOW + timedelta(days=1)) is None
    assert applicable([pin(days=1)], 1, None, NOW + timedelta(hours=23)) is not None


@pytest.mark.parametrize(("args", "fields"), [
    (("user", "high", "Renewal", NOW + timedelta(days=1)), set()),
    (("team", "gold", "", None), {"subject", "tier", "reason", "expires_at"}),
    (("user", "low", "x" * 501, NOW - timedelta(seconds=1)), {"reason", "expires_at"}),
    (("user", "low", "ok", NOW + timedelta(days=400)), {"expires_at"}),
])
def test_a_pin_request_names_every_problem(args, fields):
    assert set(check(*args, now=NOW)) == fields


@given(tier=st.sampled_from(["high", "medium", "low"]),
       tags=st.sets(st.sampled_from(["cv_high", "cv_low", "vip"])),
       good=st.integers(0, 8), bad=st.integers(0, 8))
def test_the_tagger_writes_the_pinned_tier_whatever_the_value(tier, tags, good, bad):
    tickets = [ticket(i, satisfaction=rating(i < good)) for i in range(good + bad)]
    value = score(history(*tickets), Settings(), NOW).pinned(pin(tier=tier))
    decision = decide_for(value, tuple(tags), Settings())
    after = (set(tags) | set(decision.add)) - set(decision.remove)
    assert decision.tier == tier
    assert after & {"cv_high", "cv_low"} == {"high": {"cv_high"}, "low": {"cv_low"}}.get(
        tier, set())
    assert "vip" in after or "vip" not in tags
