"""One customer's history for scoring now: the store's copy topped up with what changed since
the last sync.

After a sync this costs one request (the customer's most recently updated tickets, one page of
up to 100 with their metric sets) whatever the size of their history. A customer the store has
not reached yet costs two or more (their user record, then their requested tickets) and comes
with a notice, because Zendesk's lists leave out archived tickets.
"""

from __future__ import annotations

from dataclasses import replace

from integrations.errors import RateLimited, Unavailable
from integrations.zendesk import TicketFact, ZendeskClient
from plugin.core.domain import CustomerHistory, Ticket
from plugin.core.times import zulu
from plugin.storage.history import HistoryStore

HISTORY_LOADING = ("History still loading: tickets closed more than 120 days ago are not "
                   "included yet")


def current_history(store: HistoryStore, client: ZendeskClient, user_id: int, *,
                    fallback: bool = False) -> CustomerHistory:
    """The customer's history as of now; `integrations.errors.NotFound` for an unknown user.

    With `fallback`, a customer the store knows is still scored when Zendesk is rate limited
    or down: from the store alone, with a notice saying how current it is.
    """
    stored = store.history(user_id)
    if stored is None:
        fact, organization = client.user(user_id)
        recent = client.requested_tickets(user_id)
        return CustomerHistory(
            profile=replace(fact.profile, organization=organization),
            tickets=tuple(f.ticket for f in recent if f.requester_id == user_id),
            notices=(HISTORY_LOADING,))
    since = store.state("tickets").synced_through
    try:
        recent = client.requested_tickets(user_id, updated_since=since)
    except (RateLimited, Unavailable) as error:
        if not fallback:
            raise
        when = zulu(since) if since else "the last sync"
        return replace(stored, notices=stored.notices + (
            f"{error.service} is unreachable right now; scored from the history store as of "
            f"{when}",))
    return merge(stored, recent)


def _refreshed(stored: Ticket, fresh: Ticket) -> Ticket:
    """The fresh copy, keeping what it may lack: a survey rating is never embedded in a ticket,
    and a list answered without metric sets carries no metrics."""
    kept = {"satisfaction": fresh.satisfaction or stored.satisfaction}
    if fresh.replies is None and fresh.first_reply_minutes is None \
            and fresh.resolution_minutes is None:
        kept |= {"replies": stored.replies, "reopens": max(stored.reopens, fresh.reopens),
                 "first_reply_minutes": stored.first_reply_minutes,
                 "resolution_minutes": stored.resolution_minutes,
                 "solved_at": fresh.solved_at or stored.solved_at}
    return replace(fresh, **kept)


def merge(stored: CustomerHistory, recent: list[TicketFact]) -> CustomerHistory:
    """The stored history with newer copies of its tickets, and tickets it has not seen."""
    newer = {f.ticket.id: f.ticket for f in recent if f.requester_id == stored.profile.id}
    if not newer:
        return stored
    kept = []
    for ticket in stored.tickets:
        fresh = newer.pop(ticket.id, None)
        if fresh is None:
            kept.append(ticket)
        else:
            kept.append(_refreshed(ticket, fresh))
    return replace(stored, tickets=tuple(kept) + tuple(newer.values()))
