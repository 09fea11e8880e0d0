"""The JSON contract made at the edge from a cached assessment: the notice of a failed refresh
is added to the value's own notices, and `stale` says whether a refresh is under way."""

from dataclasses import replace

from plugin.core.assessment import assess
from plugin.core.settings import Settings
from plugin.service_layer.values import CachedValue
from plugin.web.contract import cached_json, encode
from tests.factories import NOW, history, ticket


def cached(**changes) -> CachedValue:
    result = assess(history(ticket(1)), Settings(), NOW)
    return replace(CachedValue(result, 0.0), **changes)


def test_a_fresh_value_is_the_score_contract_and_not_stale():
    body = cached_json(cached())
    assert body["stale"] is False and body["notices"] == []
    assert {"user_id", "value", "tier", "benefits", "costs", "suggestions"} <= set(body)


def test_a_failed_refresh_adds_its_notice_to_the_values_own():
    body = cached_json(cached(stale=True, notice="Zendesk is unavailable; showing the last "
                                                 "known value"))
    assert body["stale"] is True
    assert body["notices"][-1].startswith("Zendesk is unavailable")


def test_each_state_is_encoded_once_and_a_new_state_anew():
    fresh, calls = cached(), []

    def counting(value):
        calls.append(value)
        return encode(value)

    assert fresh.encoded(counting) == fresh.encoded(counting) and len(calls) == 1
    stale = replace(fresh, stale=True)
    assert b'"stale":true' in stale.encoded(counting) and len(calls) == 2
