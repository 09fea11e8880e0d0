"""An organization's glance: its people's values rolled up (`plugin.core.rollup`), and the
suggestions the same rules make for the organization taken as one customer.

The people's values come through the value cache, as on their own pages; their histories come
from the store (no call to Zendesk: the store is kept current by the webhooks and the sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from integrations.errors import NotFound
from plugin.core.domain import Organization
from plugin.core.rollup import Rollup, organization_history, organization_suggestions, roll_up
from plugin.core.suggestions import Suggestion

if TYPE_CHECKING:
    from integrations.zendesk import ZendeskConfig
    from plugin.service_layer.services import Services


@dataclass(frozen=True, slots=True)
class OrganizationView:
    rollup: Rollup
    suggestions: tuple[Suggestion, ...]


def organization_view(services: Services, config: ZendeskConfig, organization_id: int,
                      limit: int) -> OrganizationView | None:
    """The organization's rolled-up value and its suggestions, from at most `limit` of its
    people; None when none of them is known yet."""
    store = services.store(config.base_url)
    settings = services.settings_for(store)
    now = services.clock()
    values, histories = [], []
    for user_id in store.organization_members(organization_id, limit):
        try:
            values.append(services.value(config, user_id).result.value)
        except NotFound:
            continue
        stored = store.history(user_id, settings)
        if stored is not None:
            histories.append(stored)
    if not values:
        return None
    rollup = roll_up(values, services.cutoffs(store, settings, now))
    if not histories:
        return OrganizationView(rollup, ())
    organization = next((h.profile.organization for h in histories
                         if h.profile.organization is not None
                         and h.profile.organization.id == organization_id),
                        Organization(organization_id))
    history = organization_history(organization, histories, rollup.spend, settings)
    found = organization_suggestions(rollup, history, settings, now,
                                     services.norms(store, settings, now))
    return OrganizationView(rollup, tuple(found))
