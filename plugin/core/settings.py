"""The admin's settings for the model and the suggestions, validated as a whole.

`Settings.from_dict` reads what an admin saved (a partial mapping over the defaults) and either
returns a complete, immutable `Settings` or raises one `SettingsError` naming every bad field,
so a settings page can show each message beside its field and save nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

BENEFIT_SIGNALS: Mapping[str, str] = MappingProxyType({
    "lifetime_spend": "Lifetime spend",
    "purchase_frequency": "Purchase frequency",
    "purchase_recency": "Recent purchase",
    "deal_count": "Deals won",
    "average_deal": "Average deal size",
    "tenure": "Customer for",
    "satisfaction": "Satisfaction",
    "advocacy": "Positive feedback",
})
COST_SIGNALS: Mapping[str, str] = MappingProxyType({
    "ticket_volume": "Ticket volume",
    "first_reply_wait": "Wait for first reply",
    "resolution_wait": "Wait for resolution",
    "back_and_forth": "Back-and-forth",
    "reopens": "Reopened tickets",
    "bad_ratings": "Bad ratings",
    "escalations": "Urgent and high priority",
    "gone_quiet": "Gone quiet",
})
SIGNALS: Mapping[str, str] = MappingProxyType({**BENEFIT_SIGNALS, **COST_SIGNALS})

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    # Benefits add up to 100 and costs to 100, so a value reads on −100..+100.
    "lifetime_spend": 20, "purchase_frequency": 10, "purchase_recency": 8, "deal_count": 7,
    "average_deal": 5, "tenure": 15, "satisfaction": 25, "advocacy": 10,
    "ticket_volume": 10, "first_reply_wait": 15, "resolution_wait": 15, "back_and_forth": 5,
    "reopens": 15, "bad_ratings": 20, "escalations": 5, "gone_quiet": 15,
})
MAX_WEIGHT = 100.0
MAX_SYSTEM_TAGS = 200
MAX_SEGMENTS = 50
MAX_RATES = 200
"""ISO 4217 lists fewer than 200 active currencies."""
MAX_LINK = 2000
MAX_SETTINGS_BYTES = 128 * 1024
"""The whole settings object as JSON (the defaults take about 3 KB; every list at its cap
about 70 KB)."""

PLACEHOLDERS = frozenset({
    "first_name", "name", "tenure", "last_topic", "channel", "topic", "community_link",
    "onboarding_link", "gestures_left", "company",
})
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TAG = re.compile(r"^[A-Za-z0-9_\-:./]{1,80}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
FIELD_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


@dataclass(frozen=True)
class SuggestionRule:
    """One suggestion as the admin configured it: on/off, wording and its one-click action."""

    enabled: bool = True
    title: str = ""
    text: str = ""
    action: str = "reply"
    """What the one click does: `reply` (append `text`), `macro`, `tag` or `link`."""
    macro_id: int | None = None
    tag: str = ""
    link: str = ""


ACTIONS = ("reply", "macro", "tag", "link")

DEFAULT_SUGGESTIONS: Mapping[str, SuggestionRule] = MappingProxyType({
    "personalise": SuggestionRule(
        title="Make it personal",
        text="Hi {first_name}, thank you for being with us for {tenure}. ",
    ),
    "preferred_channel": SuggestionRule(
        title="Offer their usual channel",
        text="If it is easier for you, we are also happy to continue this over {channel}.",
    ),
    "onboarding": SuggestionRule(
        title="Offer onboarding",
        text="Welcome aboard, {first_name}! If it helps, I can walk you through the first steps, "
        "or you can start with our getting-started guide.",
        action="reply",
    ),
    "success_checkin": SuggestionRule(
        title="Customer-success check-in",
        text="",
        action="tag",
        tag="cv_success_checkin",
    ),
    "recurring_issue": SuggestionRule(
        title="Recurring issue",
        text="I can see {topic} has come up for you before. I have flagged it to our product "
        "team so we can fix it for good.",
    ),
    "we_heard_you": SuggestionRule(
        title="Close the feedback loop",
        text="Thank you for your feedback, {first_name}. We read every comment, and yours "
        "has been passed on to the team.",
    ),
    "surprise_delight": SuggestionRule(
        title="Surprise and delight",
        text="As a thank-you for your patience, we would like to offer you a little something "
        "on us.",
    ),
    "loyalty_reward": SuggestionRule(
        title="Reward their loyalty",
        text="As one of our most loyal customers, {first_name}, we would like to thank you with "
        "a loyalty reward.",
    ),
    "community_invite": SuggestionRule(
        title="Invite to the community",
        text="You might enjoy our customer community, where people share tips and ideas: "
        "{community_link}",
    ),
    "proactive_outreach": SuggestionRule(
        title="Proactive outreach",
        text="",
        action="tag",
        tag="cv_at_risk",
    ),
})


@dataclass(frozen=True)
class TierThresholds:
    """Where the tiers split: values (absolute) or percentiles of the account's customers."""

    mode: str = "absolute"
    high: float = 15.0
    low: float = -15.0


@dataclass(frozen=True)
class Segment:
    """A group of customers (by user or organization tag) with weights of its own."""

    tag: str
    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Settings:
    version: int = 1
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    tiers: TierThresholds = TierThresholds()
    half_life_days: float = 180.0
    segments: tuple[Segment, ...] = ()
    cost_per_ticket: float = 15.0
    currency: str = "USD"
    exchange_rates: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Units of the account's currency per unit of each other currency."""
    spend_source: str = "fields"
    """Where lifetime spend comes from: `fields` (a user, else an organization field), or the
    won deals of a CRM: `sell` (Zendesk Sell) or `bitrix24`."""
    crm_match_field: str = ""
    """How a customer is found in the CRM: by the email in this user field, or (empty) by the
    user's own email address."""
    spend_field: str = "lifetime_spend"
    """The user field holding lifetime spend."""
    organization_spend_field: str = "lifetime_spend"
    """The organization field holding lifetime spend, read when the user has none."""
    spend_reference: float = 50_000.0
    """Lifetime spend that earns the spend signal's full points."""
    money_outlook: str = "past"
    """The money view's direction: `past` (lifetime spend − cost to serve so far) or
    `forward` (expected spend of the next 12 months − expected cost to serve them, from the
    account's lifetime model, `plugin.core.lifetime`; customers it cannot forecast keep the
    past view)."""
    little_data_tickets: int = 3
    tag_little_data: bool = False
    """Tag customers with little data high or low too (off: they keep no tier tag)."""
    system_tags: tuple[str, ...] = ("vip",)
    """Ticket tags that are not topics (the app's own `cv_*` tags never are either)."""
    tag_high: str = "cv_high"
    tag_low: str = "cv_low"
    tagging_enabled: bool = False
    """Whether the app tags tickets automatically (through its Zendesk webhook and trigger)."""
    tag_tickets: bool = True
    """Write the tier tag on the requester's tickets."""
    tag_user: bool = False
    """Write once per customer where Zendesk routes: the tier tag on the requester's user
    record (Zendesk adds a user's tags to their new tickets), the value and tier into user
    fields, and the organization's roll-up into organization fields."""
    value_user_field: str = "customer_value"
    """The user and organization field key the value is written into (empty: none)."""
    tier_user_field: str = "customer_value_tier"
    """The user and organization field key the tier is written into (empty: none)."""
    suggestions: Mapping[str, SuggestionRule] = field(
        default_factory=lambda: DEFAULT_SUGGESTIONS)
    max_suggestions: int = 4
    gesture_budget: int = 10
    """Surprise-and-delight gestures the team may offer each month."""
    loyalty_tenure_days: int = 1095
    loyalty_spend: float = 20_000.0
    loyalty_purchases: int = 5
    new_customer_days: int = 60
    community_link: str = ""
    onboarding_link: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        """Settings from an admin's (partial) mapping over the defaults; `SettingsError` lists
        every bad field."""
        return _Reader(data).read()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping that `from_dict` reads back to equal settings."""
        return {
            "version": self.version,
            "weights": dict(self.weights),
            "tiers": {"mode": self.tiers.mode, "high": self.tiers.high, "low": self.tiers.low},
            "half_life_days": self.half_life_days,
            "segments": [{"tag": s.tag, "weights": dict(s.weights)} for s in self.segments],
            "cost_per_ticket": self.cost_per_ticket,
            "currency": self.currency,
            "exchange_rates": dict(self.exchange_rates),
            "system_tags": list(self.system_tags),
            "suggestions": {
                key: {f.name: getattr(rule, f.name) for f in fields(rule)}
                for key, rule in self.suggestions.items()
            },
            **{name: getattr(self, name) for name in _SCALARS},
        }

    def weights_for(self, tags: tuple[str, ...]) -> tuple[Mapping[str, float], str | None]:
        """The weights that apply to a customer with these tags, and the segment that gave
        them (the first segment whose tag the customer carries)."""
        for segment in self.segments:
            if segment.tag in tags:
                return {**self.weights, **segment.weights}, segment.tag
        return self.weights, None


class SettingsError(ValueError):
    """Settings that cannot be used; `errors` maps each bad field's path to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        listing = "; ".join(f"{path}: {message}" for path, message in self.errors.items())
        super().__init__(f"invalid settings ({len(self.errors)}): {listing}")


# Scalar settings: (type, low, high). Numbers must be finite and within [low, high].
_SCALARS: Mapping[str, tuple[type, float, float]] = MappingProxyType({
    "version": (int, 1, 10**9),
    "half_life_days": (float, 1, 3650),
    "cost_per_ticket": (float, 0, 1_000_000),
    "spend_reference": (float, 1, 10**12),
    "money_outlook": (str, 0, 0),
    "little_data_tickets": (int, 0, 1000),
    "max_suggestions": (int, 0, 10),
    "gesture_budget": (int, 0, 10_000),
    "loyalty_tenure_days": (int, 0, 36500),
    "loyalty_spend": (float, 0, 10**12),
    "loyalty_purchases": (int, 0, 100_000),
    "new_customer_days": (int, 0, 3650),
    "currency": (str, 0, 0),
    "spend_source": (str, 0, 0),
    "crm_match_field": (str, 0, 0),
    "spend_field": (str, 0, 0),
    "organization_spend_field": (str, 0, 0),
    "value_user_field": (str, 0, 0),
    "tier_user_field": (str, 0, 0),
    "tagging_enabled": (bool, 0, 0),
    "tag_tickets": (bool, 0, 0),
    "tag_user": (bool, 0, 0),
    "tag_little_data": (bool, 0, 0),
    "tag_high": (str, 0, 0),
    "tag_low": (str, 0, 0),
    "community_link": (str, 0, 0),
    "onboarding_link": (str, 0, 0),
})
_STRING_RULES: Mapping[str, tuple[re.Pattern[str] | None, str]] = MappingProxyType({
    "currency": (CURRENCY, "must be a three-letter ISO 4217 code such as USD"),
    "spend_source": (re.compile(r"^(fields|sell|bitrix24)$"),
                     "must be fields, sell or bitrix24"),
    "money_outlook": (re.compile(r"^(past|forward)$"), "must be past or forward"),
    "crm_match_field": (re.compile(r"^[A-Za-z0-9_\-]{0,64}$"),
                        "must be a user field key (letters, digits, _ or -), or empty"),
    "spend_field": (FIELD_KEY, "must be a field key: letters, digits, _ or -"),
    "organization_spend_field": (FIELD_KEY, "must be a field key: letters, digits, _ or -"),
    "value_user_field": (re.compile(r"^[A-Za-z0-9_]{0,64}$"),
                         "must be a field key (letters, digits or _), or empty"),
    "tier_user_field": (re.compile(r"^[A-Za-z0-9_]{0,64}$"),
                        "must be a field key (letters, digits or _), or empty"),
    "tag_high": (TAG, "must be a Zendesk tag: no spaces, at most 80 characters"),
    "tag_low": (TAG, "must be a Zendesk tag: no spaces, at most 80 characters"),
})
_LINKS = ("community_link", "onboarding_link")


class _Reader:
    """Reads a settings mapping field by field, collecting every problem before failing."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.errors: dict[str, str] = {}

    def read(self) -> Settings:
        if not isinstance(self.data, Mapping):
            raise SettingsError({"": "settings must be an object"})
        try:
            size = len(json.dumps(self.data, default=str).encode())
        except (TypeError, ValueError, RecursionError):
            raise SettingsError({"": "settings must be plain JSON values"}) from None
        if size > MAX_SETTINGS_BYTES:
            raise SettingsError({"": f"settings may take at most {MAX_SETTINGS_BYTES // 1024} KB "
                                     f"as JSON, not {size // 1024} KB"})
        known = {f.name for f in fields(Settings)}
        for key in self.data:
            if key not in known:
                self.errors[str(key)] = "unknown setting"
        values: dict[str, Any] = {}
        defaults = Settings()
        for name in _SCALARS:
            if name in self.data:
                values[name] = self.scalar(name, self.data[name])
        if "weights" in self.data:
            values["weights"] = MappingProxyType(
                {**DEFAULT_WEIGHTS, **self.weights("weights", self.data["weights"])})
        if "tiers" in self.data:
            values["tiers"] = self.tiers(self.data["tiers"])
        if "segments" in self.data:
            values["segments"] = self.segments(self.data["segments"])
        if "exchange_rates" in self.data:
            values["exchange_rates"] = self.rates(self.data["exchange_rates"])
        if "suggestions" in self.data:
            values["suggestions"] = self.suggestions(self.data["suggestions"])
        if "system_tags" in self.data:
            values["system_tags"] = self.tags("system_tags", self.data["system_tags"])
        if values.get("tag_high", defaults.tag_high) == values.get("tag_low", defaults.tag_low):
            self.fail("tag_low", "must differ from the high-value tag")
        if self.errors:
            raise SettingsError(self.errors)
        return replace(defaults, **values)

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def number(self, path: str, value: Any, low: float, high: float, kind: type = float) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "must be a number")
            return None
        if kind is int and value != int(value):
            self.fail(path, "must be a whole number")
            return None
        if not math.isfinite(value) or not low <= value <= high:
            self.fail(path, f"must be between {_show(low)} and {_show(high)}")
            return None
        return kind(value)

    def scalar(self, name: str, value: Any) -> Any:
        kind, low, high = _SCALARS[name]
        if kind is bool:
            if not isinstance(value, bool):
                self.fail(name, "must be true or false")
            return value
        if kind is not str:
            return self.number(name, value, low, high, kind)
        if not isinstance(value, str):
            self.fail(name, "must be text")
            return None
        if name in _LINKS:
            if len(value) > MAX_LINK:
                self.fail(name, f"must be a link of at most {MAX_LINK} characters")
            elif value and not _is_link(value):
                self.fail(name, "must be an https:// link, or empty")
            return value
        pattern, message = _STRING_RULES[name]
        if pattern is not None and not pattern.match(value):
            self.fail(name, message)
        return value

    def weights(self, path: str, value: Any) -> dict[str, float]:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object of signal: weight")
            return {}
        read = {}
        for signal, weight in value.items():
            if signal not in SIGNALS:
                self.fail(f"{path}.{signal}", "unknown signal")
                continue
            number = self.number(f"{path}.{signal}", weight, 0, MAX_WEIGHT)
            if number is not None:
                read[signal] = number
        return read

    def tiers(self, value: Any) -> TierThresholds | None:
        if not isinstance(value, Mapping):
            self.fail("tiers", "must be an object with mode, high and low")
            return None
        default = TierThresholds()
        merged = {"mode": default.mode, "high": default.high, "low": default.low, **value}
        for key in merged:
            if key not in ("mode", "high", "low"):
                self.fail(f"tiers.{key}", "unknown setting")
        mode = merged["mode"]
        if mode not in ("absolute", "percentile"):
            self.fail("tiers.mode", "must be absolute or percentile")
            return None
        low_end, high_end = (-100, 100) if mode == "absolute" else (0, 100)
        high = self.number("tiers.high", merged["high"], low_end, high_end)
        low = self.number("tiers.low", merged["low"], low_end, high_end)
        if high is None or low is None:
            return None
        if low >= high:
            self.fail("tiers.low", "must be below the high threshold")
            return None
        return TierThresholds(mode=mode, high=high, low=low)

    def segments(self, value: Any) -> tuple[Segment, ...]:
        if not isinstance(value, list):
            self.fail("segments", "must be a list")
            return ()
        if len(value) > MAX_SEGMENTS:
            self.fail("segments", f"may list at most {MAX_SEGMENTS} segments, not {len(value)}")
            return ()
        read, seen = [], set()
        for index, item in enumerate(value):
            path = f"segments.{index}"
            if not isinstance(item, Mapping) or not isinstance(item.get("tag"), str):
                self.fail(path, "must be an object with a tag and weights")
                continue
            if not TAG.match(item["tag"]):
                self.fail(f"{path}.tag", "must be a Zendesk tag: no spaces, at most 80 characters")
            elif item["tag"] in seen:
                self.fail(f"{path}.tag", f"segment {item['tag']!r} is listed twice")
            seen.add(item["tag"])
            weights = self.weights(f"{path}.weights", item.get("weights", {}))
            read.append(Segment(tag=item["tag"], weights=MappingProxyType(weights)))
        return tuple(read)

    def tags(self, path: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) > MAX_SYSTEM_TAGS:
            self.fail(path, f"must be a list of at most {MAX_SYSTEM_TAGS} tags")
            return ()
        for index, tag in enumerate(value):
            if not isinstance(tag, str) or not TAG.match(tag):
                self.fail(f"{path}.{index}", "must be a Zendesk tag: no spaces, at most 80 "
                                             "characters")
        return tuple(dict.fromkeys(t for t in value if isinstance(t, str)))

    def rates(self, value: Any) -> Mapping[str, float]:
        if not isinstance(value, Mapping):
            self.fail("exchange_rates", "must be an object of currency: rate")
            return MappingProxyType({})
        if len(value) > MAX_RATES:
            self.fail("exchange_rates", f"may list at most {MAX_RATES} currencies, not "
                                        f"{len(value)}")
            return MappingProxyType({})
        read = {}
        for code, rate in value.items():
            if not isinstance(code, str) or not CURRENCY.match(code):
                self.fail(f"exchange_rates.{code}", "must be a three-letter ISO 4217 code")
                continue
            number = self.number(f"exchange_rates.{code}", rate, 1e-9, 1e9)
            if number is not None:
                read[code] = number
        return MappingProxyType(read)

    def suggestions(self, value: Any) -> Mapping[str, SuggestionRule]:
        if not isinstance(value, Mapping):
            self.fail("suggestions", "must be an object of suggestion id: rule")
            return DEFAULT_SUGGESTIONS
        read = dict(DEFAULT_SUGGESTIONS)
        for key, rule in value.items():
            if key not in DEFAULT_SUGGESTIONS:
                self.fail(f"suggestions.{key}", "unknown suggestion")
            elif not isinstance(rule, Mapping):
                self.fail(f"suggestions.{key}", "must be an object")
            else:
                read[key] = self.rule(f"suggestions.{key}", DEFAULT_SUGGESTIONS[key], rule)
        return MappingProxyType(read)

    def rule(self, path: str, default: SuggestionRule, data: Mapping[str, Any]) -> SuggestionRule:
        known = {f.name for f in fields(SuggestionRule)}
        for key in data:
            if key not in known:
                self.fail(f"{path}.{key}", "unknown setting")
        rule = replace(default, **{k: v for k, v in data.items() if k in known})
        if not isinstance(rule.enabled, bool):
            self.fail(f"{path}.enabled", "must be true or false")
        if not isinstance(rule.title, str) or not 0 < len(rule.title.strip()) <= 80:
            self.fail(f"{path}.title", "must be text of 1 to 80 characters")
        if not isinstance(rule.text, str) or len(rule.text) > 2000:
            self.fail(f"{path}.text", "must be text of at most 2000 characters")
        else:
            unknown = sorted(set(PLACEHOLDER.findall(rule.text)) - PLACEHOLDERS)
            if unknown:
                allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                self.fail(f"{path}.text", f"unknown placeholder {{{unknown[0]}}}; use {allowed}")
        if rule.action not in ACTIONS:
            self.fail(f"{path}.action", "must be one of reply, macro, tag, link")
        if rule.macro_id is not None and (
                isinstance(rule.macro_id, bool) or not isinstance(rule.macro_id, int)
                or rule.macro_id <= 0):
            self.fail(f"{path}.macro_id", "must be a macro id (a positive whole number) or empty")
        if not isinstance(rule.tag, str) or (rule.tag and not TAG.match(rule.tag)):
            self.fail(f"{path}.tag", "must be a Zendesk tag: no spaces, at most 80 characters")
        if not isinstance(rule.link, str) or len(rule.link) > MAX_LINK or (
                rule.link and not _is_link(rule.link)):
            self.fail(f"{path}.link", "must be an https:// link, or empty")
        needs = {"macro": ("macro_id", rule.macro_id), "tag": ("tag", rule.tag),
                 "link": ("link", rule.link), "reply": ("text", rule.text)}.get(rule.action)
        if needs and not needs[1]:
            self.fail(f"{path}.{needs[0]}", f"is needed for the {rule.action} action")
        return rule


def _is_link(value: str) -> bool:
    return bool(re.match(r"^https://[^\s/$.?#][^\s<>\"']*$", value))


def _show(number: float) -> str:
    return f"{number:g}" if abs(number) < 1e6 else f"{number:.0e}"


_LABELS: Mapping[str, str] = MappingProxyType({
    "tiers.mode": "Tier thresholds: mode", "tiers.high": "Tier thresholds: high from",
    "tiers.low": "Tier thresholds: low below", "half_life_days": "Half life (days)",
    "cost_per_ticket": "Cost per ticket", "currency": "Currency",
    "spend_source": "Spend comes from", "crm_match_field": "CRM match field",
    "spend_field": "Spend user field", "organization_spend_field": "Spend organization field",
    "spend_reference": "Spend for full points", "little_data_tickets": "Little data below",
    "tag_little_data": "Tag customers with little data", "system_tags": "System tags",
    "tag_high": "High-value tag", "tag_low": "Low-value tag",
    "tagging_enabled": "Automatic tagging", "tag_tickets": "Tag tickets",
    "tag_user": "Tag the user", "value_user_field": "Value user field",
    "max_suggestions": "Suggestions shown", "gesture_budget": "Gestures a month",
    "loyalty_tenure_days": "Loyalty: tenure (days)", "loyalty_spend": "Loyalty: spend",
    "loyalty_purchases": "Loyalty: purchases", "new_customer_days": "New customer for (days)",
    "community_link": "Community link", "onboarding_link": "Onboarding link",
    "segments": "Segments", "exchange_rates": "Exchange rates", "weights": "Weights",
})


def label(path: str) -> str:
    """A dotted setting path (as `SettingsError` and a version diff name it) in words an admin
    reads: `weights.ticket_volume` is "Weight: Ticket volume"."""
    if path in _LABELS:
        return _LABELS[path]
    parts = path.split(".")
    if parts[0] == "weights" and len(parts) == 2:
        return f"Weight: {SIGNALS.get(parts[1], parts[1])}"
    if parts[0] == "exchange_rates" and len(parts) == 2:
        return f"Exchange rate: {parts[1]}"
    if parts[0] == "segments" and len(parts) >= 2:
        rest = label(".".join(parts[2:])) if len(parts) > 2 else ""
        return f"Segment {parts[1]}" + (f": {rest}" if rest else "")
    if parts[0] == "suggestions" and len(parts) >= 2:
        rule = DEFAULT_SUGGESTIONS.get(parts[1])
        name = rule.title if rule is not None else parts[1]
        return f"Suggestion “{name}”" + (f": {parts[2]}" if len(parts) > 2 else "")
    if parts[0] == "system_tags":
        return "System tags"
    return path
