"""An organization's value, rolled up from the values of its people.

Each person's value is already benefits − costs on −100..+100; the organization's is their
mean weighted by how much evidence each carries (tickets and decided deals, at least 1), so a
person with a long history counts more than a contact who wrote once. Spend is counted once:
a person whose spend is the organization's own field brings that field's amount, not their
share of it, so the organization's spend is that amount once plus what its people spent on
their own (their user fields or deals).

Suggestions for the organization come from the same rules as a person's (`suggest`), read
from the organization taken as one customer: its people's tickets and deals together (each
once), known since its first person, its spend (counted once) as its own field, and the
rolled-up value and tier; so a suggestion shows only when that evidence stands for the
account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from plugin.core.domain import CustomerHistory, Organization, Profile
from plugin.core.model import CustomerValue, Cutoffs, score
from plugin.core.settings import Settings
from plugin.core.signals import Norms
from plugin.core.suggestions import Suggestion, suggest

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


def organization_history(organization: Organization, people: Sequence[CustomerHistory],
                         spend: float | None, settings: Settings) -> CustomerHistory:
    """The organization as one customer: its people's tickets and deals (each once, by id),
    known since its earliest person, its rolled-up `spend` as its own spend field."""
    tickets = {t.id: t for h in people for t in h.tickets}
    purchases = {p.id or (n, i): p for n, h in enumerate(people)
                 for i, p in enumerate(h.purchases)}  # a deal without an id is its own
    fields = dict(organization.fields)
    fields.pop(settings.organization_spend_field, None)
    if spend is not None:
        fields[settings.organization_spend_field] = spend
    account = replace(organization, fields=fields)
    created = min((h.profile.created_at for h in people), default=None)
    if created is None:
        raise ValueError("an organization's history needs at least one person")
    contacts = [h.crm_contact for h in people if h.crm_contact is not None]
    return CustomerHistory(
        profile=Profile(id=organization.id, name=organization.name, email=None,
                        created_at=created, tags=organization.tags, organization=account),
        tickets=tuple(sorted(tickets.values(), key=lambda t: (t.created_at, t.id))),
        purchases=tuple(purchases.values()),
        crm_degraded=any(h.crm_degraded for h in people),
        crm_contact=contacts[0] if contacts else None)


def organization_suggestions(rollup: Rollup, history: CustomerHistory, settings: Settings,
                             now: datetime, norms: Norms) -> list[Suggestion]:
    """The suggestions the rules make for the organization (`organization_history`), read
    with its rolled-up value and tier."""
    cutoffs = Cutoffs(high=rollup.cutoffs[0], low=rollup.cutoffs[1])
    value = replace(score(history, settings, now, cutoffs, norms), value=rollup.value,
                    tier=rollup.tier)
    return suggest(history, value, settings, now)
