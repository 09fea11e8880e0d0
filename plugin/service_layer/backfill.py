"""Tag the existing history: every requester scored, their open tickets tagged in bulk.

A backfill first syncs the history store (so it sees every ticket's current tags, and, when
spend comes from a CRM, that CRM's deals: tiers count the same spend as the sidebar), then walks
requesters in id order, decides each open ticket's tier tag (with the same hysteresis as the
webhook worker), and sends the changes as bulk updates of up to 100 tickets sharing the same
tags to add and remove, sending only full updates until the end. After each flush it saves a
checkpoint (just before the first requester with changes not yet written), so an interrupted
run resumes there; decisions only ever add or
remove what differs from the ticket's tags, so a resumed run never doubles a change.

It obeys the one tagging rule (`core.tagging.tagging_refusal`): when the account may not be
tagged, it still syncs and scores, writes nothing and says why (`BackfillReport.refused`).
With `only`, it re-tags just those customers (the periodic sync's changed customers) without
a checkpoint.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from integrations.errors import IntegrationError
from integrations.zendesk import BULK_LIMIT, ZendeskClient
from plugin.core.model import account_cutoffs, score
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.core.tagging import (
    CUSTOMERS,
    TICKETS,
    decide_customer,
    decide_for,
    organization_roll_up,
    tag_targets,
    tagging_refusal,
    with_changes,
)
from plugin.service_layer.crm_sync import CrmExport
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore

CHECKPOINT = "backfill"
CLOSED = "closed"

Progress = Callable[[int, int], None]
"""Called with (requesters done, requesters in all)."""


@dataclass
class BackfillReport:
    tiers: Counter[str] = field(default_factory=Counter)
    tickets_tagged: int = 0
    updates: int = 0
    failed_tickets: list[int] = field(default_factory=list)
    api_calls: int = 0
    seconds: float = 0.0
    resumed_after: int | None = None
    crm_error: IntegrationError | None = None
    """Why the CRM could not be synced first, if so: tiers then count the deals synced before
    (or none)."""
    refused: str | None = None
    """Why nothing was written (the tagging rule's answer), when the account may not be
    tagged; the counts then say what a permitted run would write."""
    customers: int = 0
    """Customers scored."""
    users_written: int = 0
    """Users whose tier tag or value fields were (or, refused or dry, would be) written."""
    organizations_written: int = 0
    """Organizations whose roll-up fields were (or would be) written."""


def bulk_updates(batches) -> int:
    """How many bulk updates the pending changes take: each group of tickets sharing the same
    tags to add and remove goes in updates of up to BULK_LIMIT."""
    return sum(-(-len(pending) // BULK_LIMIT) for pending in batches.values())


def backfill(client: ZendeskClient, store: HistoryStore, settings: Settings, *,
             clock: Callable[[], datetime], dry_run: bool = False,
             progress: Progress | None = None, crm: CrmExport | None = None,
             only: set[int] | None = None, synced: bool = False, forced: bool = False
             ) -> BackfillReport:
    """Tag every requester's open tickets (or `only` those customers'); `crm`: the client of
    the CRM the settings take spend from, synced along with Zendesk (unless `synced`: the
    caller just did). A run the tagging rule refuses writes nothing (`refused` says why);
    `forced`: the app's TAG_ALWAYS."""
    started, calls = time.monotonic(), client.transport.total_calls
    report = BackfillReport(refused=tagging_refusal(settings, forced=forced))
    dry_run = dry_run or report.refused is not None
    if not synced:
        report.crm_error = sync(client, store, clock=clock, crm=crm).crm_error
    now = clock()
    norms = account_norms(store.sample(settings), settings, now)
    cutoffs = account_cutoffs(store.histories(settings), settings, now, norms)
    checkpoint = store.state(CHECKPOINT).cursor if only is None else None
    report.resumed_after = int(checkpoint) if checkpoint and not dry_run else None
    requesters = [u for u in store.user_ids()
                  if (report.resumed_after is None or u > report.resumed_after)
                  and (only is None or u in only)]
    batches: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[int, int]]] = (
        defaultdict(list))
    targets = tag_targets(settings)
    members: dict[int, list[float]] = defaultdict(list)
    organizations = {}
    for done, user_id in enumerate(requesters, start=1):
        history = store.history(user_id, settings)
        if history is not None and history.tickets:
            value = score(history, settings, now, cutoffs, norms)
            report.tiers[value.tier] += 1
            report.customers += 1
            for ticket in history.tickets if TICKETS in targets else ():
                if ticket.status == CLOSED:
                    continue
                decision = decide_for(value, ticket.tags, settings)
                if decision.changes:
                    batches[(decision.add, decision.remove)].append((ticket.id, user_id))
            if CUSTOMERS in targets:
                _write_customer(client, history.profile, value, settings, report, dry_run)
                organization = history.profile.organization
                if organization is not None and not value.little_data:
                    members[organization.id].append(value.value)
                    organizations[organization.id] = organization
        if not dry_run and any(len(pending) >= BULK_LIMIT for pending in batches.values()):
            _flush(client, batches, report, full_only=True)
            if only is None:
                # Resume just before the first requester with changes still unwritten.
                waiting = [r for pending in batches.values() for _, r in pending]
                store.save_page(CHECKPOINT, now=clock(),
                                cursor=str(min(waiting) - 1 if waiting else user_id))
        if progress:
            progress(done, len(requesters))
    if only is None:  # a roll-up needs every member: full runs only
        for organization_id, values in members.items():
            write = organization_roll_up(values, organizations[organization_id].fields,
                                         settings, cutoffs)
            if write.changes:
                report.organizations_written += 1
                if not dry_run:
                    client.update_organization(organization_id, fields=dict(write.fields))
    if dry_run:
        report.tickets_tagged = sum(len(pending) for pending in batches.values())
        report.updates = bulk_updates(batches)
    else:
        _flush(client, batches, report)
        if only is None:
            store.save_page(CHECKPOINT, cursor=None, synced_through=clock(), now=clock())
    report.api_calls = client.transport.total_calls - calls
    report.seconds = time.monotonic() - started
    return report


def _write_customer(client: ZendeskClient, profile, value, settings: Settings,
                    report: BackfillReport, dry_run: bool) -> None:
    """The customer's user tag and value fields, from the synced profile, where they differ."""
    write = decide_customer(value, profile.tags, profile.fields, settings)
    if write.changes:
        report.users_written += 1
        if not dry_run:
            client.update_user(profile.id, fields=dict(write.fields),
                               tags=with_changes(profile.tags, write))


def _flush(client: ZendeskClient, batches, report: BackfillReport, *,
           full_only: bool = False) -> None:
    """Send the pending changes in bulk updates of BULK_LIMIT tickets sharing the same tags to
    add and remove; with `full_only`, only full updates, keeping the rest for later."""
    for key, pending in list(batches.items()):
        add, remove = key
        sendable = len(pending) - len(pending) % BULK_LIMIT if full_only else len(pending)
        for start in range(0, sendable, BULK_LIMIT):
            chunk = [ticket_id for ticket_id, _ in pending[start:start + BULK_LIMIT]]
            job = client.wait_for(client.update_tags(chunk, add=list(add), remove=list(remove)))
            report.updates += 1
            report.failed_tickets += job.failed
            report.tickets_tagged += len(chunk) - len(job.failed)
        rest = pending[sendable:]
        if rest:
            batches[key] = rest
        else:
            del batches[key]

