"""Keeps the history store's copy of a CRM (Zendesk Sell or Bitrix24) up to date.

Run by `sync` when the account's spend comes from a CRM. Two streams per CRM, contacts then
deals, each listed in bulk (every page, never one request per customer) and saved page by page
with its position in one transaction, so an interrupted run resumes at the page it stopped on.
A later run asks only for what changed since the newest change it saw, less OVERLAP (Sell: its
listing newest first, read until it reaches back that far; Bitrix24: the `>DATE_MODIFY`
filter). Once both streams are done, the CRM's marker stream records when: until a first
complete sync the store's deals are not used.

Limits: a contact or deal deleted in the CRM stays in the store (neither CRM lists deletions
in these listings), and a Sell deal keeps the outcome of the stage it was in when last synced
even if an admin later moves that stage to another category.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Protocol

from integrations.records.crm import CrmPage, DealFact
from plugin.core.times import zulu
from plugin.storage.history import HistoryStore, crm_stream

OVERLAP = timedelta(minutes=5)
"""How far before the newest change seen a later run looks again: a record changed while the
last run listed its pages, or with a clock a little behind, is not missed (re-reading one is
harmless: writes are upserts)."""
FIRST_POSITION = {"sell": 1, "bitrix24": 0}
"""Where a listing starts: Sell counts pages from 1, Bitrix24 records from 0."""

Pages = Callable[[str, Iterator[CrmPage]], Iterator[CrmPage]]
"""Wraps a stream's pages to count them and report progress (see `sync._Runner.pages`)."""


class CrmExport(Protocol):
    """A CRM client's bulk listings (`integrations.sell`, `integrations.bitrix24`)."""

    kind: str

    def contact_pages(self, position: int = ..., since: datetime | None = None
                      ) -> Iterator[CrmPage]: ...

    def deal_pages(self, position: int = ..., since: datetime | None = None
                   ) -> Iterator[CrmPage]: ...


def sync_crm(crm: CrmExport, store: HistoryStore, *, clock: Callable[[], datetime],
             pages: Pages) -> None:
    """Bring the store's copy of the CRM up to date; safe to interrupt and run again."""
    for what, listing in (("contacts", crm.contact_pages), ("deals", crm.deal_pages)):
        stream = f"{crm.kind}_{what}"
        state = store.state(stream)
        if state.cursor:
            saved = json.loads(state.cursor)
            position, since, newest = saved["next"], _time(saved["since"]), _time(
                saved["newest"])
        else:
            position, newest = FIRST_POSITION[crm.kind], None
            since = state.synced_through - OVERLAP if state.synced_through else None
        for page in pages(stream, listing(position, since)):
            seen = [f.modified for f in page.items if f.modified is not None]
            if seen and (newest is None or max(seen) > newest):
                newest = max(seen)
            done = page.next is None
            cursor = None if done else json.dumps({
                "next": page.next, "since": _iso(since), "newest": _iso(newest)})
            store.save_crm_page(
                stream, crm.kind, cursor=cursor, now=clock(),
                contacts=() if what == "deals" else page.items,
                deals=[f for f in page.items if isinstance(f, DealFact)],
                synced_through=(newest or state.synced_through) if done
                else state.synced_through)
    store.save_page(crm_stream(crm.kind), cursor=None, synced_through=clock(), now=clock())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else zulu(moment)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
