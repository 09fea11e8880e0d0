"""Which tier tag a customer's tickets should carry: a pure decision, applied elsewhere.

Hysteresis keeps a customer who sits on a threshold from flipping back and forth: once high,
a customer stays high until the value falls `margin` points below the high threshold; once
low, until it rises `margin` above the low one.
"""

from __future__ import annotations

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


def _tags_for(tier: str, tags: set[str], settings: Settings) -> TagDecision:
    wanted = {"high": {settings.tag_high}, "low": {settings.tag_low}}.get(tier, set())
    ours = {settings.tag_high, settings.tag_low}
    return TagDecision(tier=tier, add=tuple(sorted(wanted - tags)),
                       remove=tuple(sorted((ours - wanted) & tags)))
