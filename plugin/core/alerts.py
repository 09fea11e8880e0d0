"""Alert rules an admin sets, and when one holds for a customer: pure, on the customer's value
now and 30 days ago. An alert fires once per episode: when its rule starts to hold, not again
while it keeps holding, and again only after it stopped holding and started anew.

The payload a webhook action sends is signed here too (`sign`): HMAC-SHA256 over
"{timestamp}.{body}" with the account's alert signing secret, as Stripe and Zendesk sign theirs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plugin.core.settings import TAG

KINDS: Mapping[str, str] = {
    "tier_drop": "A high-value customer drops a tier",
    "value_drop": "Value falls by more than N points in 30 days",
    "bad_rating": "A high-value customer rates bad",
}
ACTIONS = ("note", "tag", "priority", "webhook")
PRIORITY_ORDER = ("low", "normal", "high", "urgent")
MAX_ACTIONS = 4
SIGNATURE_HEADER = "X-Customer-Value-Signature"
TIMESTAMP_HEADER = "X-Customer-Value-Timestamp"


@dataclass(frozen=True, slots=True)
class AlertRule:
    id: int
    kind: str
    threshold: float
    actions: tuple[Mapping[str, Any], ...]
    enabled: bool = True

    @property
    def label(self) -> str:
        return KINDS[self.kind].replace("N", f"{self.threshold:g}")


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What a rule reads about one customer (tiers with any pin applied)."""

    user_id: int
    name: str
    value: float
    tier: str
    value_30d: float | None
    tier_30d: str | None
    bad_ratings_30d: int = 0


def holds(rule: AlertRule, facts: AlertFacts) -> str | None:
    """Why the rule holds for this customer now, or None."""
    if rule.kind == "tier_drop" and facts.tier_30d == "high" and facts.tier != "high":
        return f"dropped from high to {facts.tier} in 30 days"
    if rule.kind == "value_drop" and facts.value_30d is not None \
            and facts.value_30d - facts.value > rule.threshold:
        return (f"value fell {facts.value_30d - facts.value:.1f} points in 30 days "
                f"({facts.value_30d:.1f} → {facts.value:.1f})")
    if rule.kind == "bad_rating" and facts.tier == "high" and facts.bad_ratings_30d > 0:
        return f"a high-value customer rated bad ({facts.bad_ratings_30d} in 30 days)"
    return None


def raised(current: str | None, wanted: str) -> str | None:
    """The priority to set when raising `current` to `wanted`, or None (never lowered)."""
    have = PRIORITY_ORDER.index(current) if current in PRIORITY_ORDER else -1
    return wanted if PRIORITY_ORDER.index(wanted) > have else None


def check_rule(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A rule as stored, from an admin's request, and what is wrong with it by field."""
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    threshold = data.get("threshold", 0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
            or not 0 <= threshold <= 200:
        errors["threshold"] = "must be a number of points from 0 to 200"
        threshold = 0
    actions = data.get("actions")
    read: list[dict[str, Any]] = []
    if not isinstance(actions, list) or not 0 < len(actions) <= MAX_ACTIONS:
        errors["actions"] = f"choose 1 to {MAX_ACTIONS} actions"
        actions = []
    for index, action in enumerate(actions):
        path = f"actions.{index}"
        kind_of = action.get("type") if isinstance(action, Mapping) else None
        if kind_of not in ACTIONS:
            errors[path] = f"must be one of {', '.join(ACTIONS)}"
        elif kind_of == "tag" and not TAG.match(str(action.get("tag") or "")):
            errors[f"{path}.tag"] = "must be a Zendesk tag: no spaces, at most 80 characters"
        elif kind_of == "priority" and action.get("priority") not in PRIORITY_ORDER[1:]:
            errors[f"{path}.priority"] = "must be normal, high or urgent"
        elif kind_of == "webhook" and (not isinstance(action.get("url"), str)
                                       or len(action["url"]) > 500):
            errors[f"{path}.url"] = "must be the https:// address that receives the alert"
        else:
            read.append({key: action[key] for key in ("type", "tag", "priority", "url")
                         if key in action})
    return {"kind": kind, "threshold": float(threshold), "actions": read,
            "enabled": bool(data.get("enabled", True))}, errors


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The webhook's signature header value: `sha256=` and the hex HMAC-SHA256 of
    "{timestamp}.{body}" under the account's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()
