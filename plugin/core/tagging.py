"""Which tier tag a customer's tickets should carry: a pure decision, applied elsewhere.

Hysteresis keeps a customer who sits on a threshold from flipping back and forth: once high,
a customer stays high until the value falls `margin` points below the high threshold; once
low, until it rises `margin` above the low one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plugin.core.model import CustomerValue, Cutoffs
from plugin.core.settings import Settings

DEFAULT_MARGIN = 3.0
"""Points beyond a threshold before a tier tag changes. One ordinary ticket moves an active
customer's value by less than this (docs/model.md measures it), so a tag does not flip back and
forth on ordinary contact."""


@dataclass(frozen=True, slots=True)
class TagDecision:
    tier: str
    add: tuple[str, ...]
    remove: tuple[str, ...]

    @property
    def changes(self) -> bool:
        return bool(self.add or self.remove)


def tagging_refusal(settings: Settings, *, forced: bool = False) -> str | None:
    """Why the app may not write tier tags to this account's tickets now, or None when it may.

    The one rule every writer of tier tags obeys (the webhook's tagging jobs, `backfill`, the
    periodic sync) and every dry run reports. `forced`: the app's TAG_ALWAYS setting, for test
    set-ups that tag without saved settings."""
    if forced:
        return None
    if not settings.tagging_enabled:
        return "tagging is switched off in the account's settings (tagging_enabled: false)"
    return None


def tier_with_hysteresis(value: float, previous: str | None, cutoffs: Cutoffs,
                         margin: float = DEFAULT_MARGIN) -> str:
    if previous == "high" and value >= cutoffs.high - margin:
        return "high"
    if previous == "low" and value <= cutoffs.low + margin:
        return "low"
    return cutoffs.tier(value)


def decide(value: float, current_tags: tuple[str, ...] | frozenset[str], settings: Settings,
           cutoffs: Cutoffs, margin: float = DEFAULT_MARGIN, *,
           little_data: bool = False) -> TagDecision:
    """The tags to add and remove on a ticket that carries `current_tags` now. The previous
    tier is read from those tags, so the decision needs no state of its own. A customer with
    little data carries no tier tag unless the settings' `tag_little_data` says so."""
    tags = set(current_tags)
    previous = ("high" if settings.tag_high in tags else
                "low" if settings.tag_low in tags else None)
    tier = tier_with_hysteresis(value, previous, cutoffs, margin)
    if little_data and not settings.tag_little_data:
        tier = "medium"
    return _tags_for(tier, tags, settings)


def decide_for(value: CustomerValue, current_tags: tuple[str, ...] | frozenset[str],
               settings: Settings) -> TagDecision:
    """`decide` on an assessed value: its own cutoffs and little-data flag. A tier a person
    pinned (`value.override`) is written as it is: no hysteresis, little data or not."""
    if value.override is not None:
        return _tags_for(value.override.tier, set(current_tags), settings)
    return decide(value.value, current_tags, settings,
                  value.cutoffs or Cutoffs(settings.tiers.high, settings.tiers.low),
                  little_data=value.little_data)


TICKETS, CUSTOMERS = "tickets", "customers"


def tag_targets(settings: Settings) -> tuple[str, ...]:
    """Where the tier goes when tagging is allowed: the requester's tickets (`tag_tickets`)
    and the customer's own records (`tag_user`: user tag, user and organization fields)."""
    return tuple(target for target, on in ((TICKETS, settings.tag_tickets),
                                           (CUSTOMERS, settings.tag_user)) if on)


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """What to write on a user or organization: fields to set, tags to add and remove."""

    fields: tuple[tuple[str, object], ...]
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.fields or self.add or self.remove)


def record_fields(settings: Settings) -> dict[str, tuple[str, str]]:
    """The user and organization fields the app writes: key → (Zendesk field type, title)."""
    wanted = {}
    if settings.value_user_field:
        wanted[settings.value_user_field] = ("decimal", "Customer value")
    if settings.tier_user_field:
        wanted[settings.tier_user_field] = ("text", "Customer value tier")
    return wanted


def with_changes(tags: tuple[str, ...], write: RecordWrite) -> list[str] | None:
    """The record's whole tag list after `write` (Zendesk replaces a user's tags on update),
    or None when the write leaves the tags alone."""
    if not (write.add or write.remove):
        return None
    return [tag for tag in tags if tag not in write.remove] + [
        tag for tag in write.add if tag not in tags]


def customer_fields(value: float, tier: str, settings: Settings) -> dict[str, object]:
    """The value (one decimal) and tier as the user and organization fields hold them."""
    wanted: dict[str, object] = {}
    if settings.value_user_field:
        wanted[settings.value_user_field] = round(value, 1)
    if settings.tier_user_field:
        wanted[settings.tier_user_field] = tier
    return wanted


def decide_customer(value: CustomerValue, user_tags: tuple[str, ...] | frozenset[str],
                    user_fields: Mapping[str, object], settings: Settings) -> RecordWrite:
    """The writes on the customer's user record: the tier tag (with the same hysteresis and
    little-data rule as tickets, read from the user's own tags) and the value and tier fields,
    each only where it differs from what the user holds."""
    tags = decide_for(value, user_tags, settings)
    wanted = customer_fields(value.value, tags.tier, settings)
    return RecordWrite(fields=_differing(wanted, user_fields), add=tags.add, remove=tags.remove)


def organization_roll_up(values: list[float], current: Mapping[str, object], settings: Settings,
                         cutoffs: Cutoffs) -> RecordWrite:
    """The organization's fields from its members' values: their mean, and the tier of that
    mean (organization tags are left alone: Zendesk adds them to every member's tickets, and
    one member's tier is not the organization's)."""
    if not values:
        return RecordWrite(fields=())
    mean = sum(values) / len(values)
    return RecordWrite(fields=_differing(customer_fields(mean, cutoffs.tier(mean), settings),
                                         current))


def _differing(wanted: Mapping[str, object], current: Mapping[str, object]
               ) -> tuple[tuple[str, object], ...]:
    changed = []
    for key, value in wanted.items():
        held = current.get(key)
        if isinstance(value, float) and isinstance(held, int | float | str):
            try:
                if abs(float(held) - value) < 0.05:
                    continue
            except ValueError:
                pass
        elif held == value:
            continue
        changed.append((key, value))
    return tuple(changed)


def _tags_for(tier: str, tags: set[str], settings: Settings) -> TagDecision:
    wanted = {"high": {settings.tag_high}, "low": {settings.tag_low}}.get(tier, set())
    ours = {settings.tag_high, settings.tag_low}
    return TagDecision(tier=tier, add=tuple(sorted(wanted - tags)),
                       remove=tuple(sorted((ours - wanted) & tags)))
