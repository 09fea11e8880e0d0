"""An organization's value, rolled up from the values of its people.

Each person's value is already benefits − costs on −100..+100; the organization's is their
mean weighted by how much evidence each carries (tickets and decided deals, at least 1), so a
person with a long history counts more than a contact who wrote once. Spend is counted once:
a person whose spend is the organization's own field brings that field's amount, not their
share of it, so the organization's spend is that amount once plus what its people spent on
their own (their user fields or deals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugin.core.model import CustomerValue, Cutoffs

ORGANIZATION_BASIS = "organization field"


@dataclass(frozen=True, slots=True)
class Rollup:
    value: float
    tier: str
    people: tuple[CustomerValue, ...]
    """Ranked, highest value first."""
    spend: float | None
    """None when no spend is known for anyone."""
    tickets: int
    cutoffs: tuple[float, float]
    """The tier cutoffs (high, low) the tier came from."""


def roll_up(people: Sequence[CustomerValue], cutoffs: Cutoffs) -> Rollup:
    """The organization's value, tier, spend (counted once) and its people ranked."""
    ranked = tuple(sorted(people, key=lambda v: (-v.value, v.user_id)))
    weights = [max(v.evidence, 1.0) for v in ranked]
    value = (sum(w * v.value for w, v in zip(weights, ranked, strict=True)) / sum(weights)
             if ranked else 0.0)
    own = [v.money.spend for v in ranked if v.money is not None and v.money.spend is not None
           and v.money.basis != ORGANIZATION_BASIS]
    shared = [v.money.spend for v in ranked if v.money is not None
              and v.money.spend is not None and v.money.basis == ORGANIZATION_BASIS]
    spend = None if not own and not shared else sum(own) + (max(shared) if shared else 0.0)
    return Rollup(value=round(value, 1), tier=cutoffs.tier(value), people=ranked, spend=spend,
                  tickets=sum(v.measures.tickets for v in ranked),
                  cutoffs=(cutoffs.high, cutoffs.low))
