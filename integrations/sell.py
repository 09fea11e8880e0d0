"""Zendesk Sell client: the contacts with a customer's email and the decided deals of each —
domain values out, project errors on failure.

Sell's API v2 (developer.zendesk.com/api-reference/sales-crm/): a personal access token as a
Bearer token; collections in the envelope `{"items": [{"data": ..., "meta": ...}], "meta":
{"links": {"next_page": ...}}}` with `page`/`per_page` pagination (at most 100 a page); deals
filtered by their primary contact with `contact_id`; won or lost read from the category of the
deal's stage (`GET /v2/stages`).

For the history store, `contact_pages` and `deal_pages` list every contact and deal, newest
change first (`sort_by=updated_at:desc`: Sell lists have no "changed since" filter, but
`updated_at` is one of their sort keys), and stop after the page that reaches back past
`since`: a later sync reads only the pages with what changed.

A deal in a stage the cached stages do not list (an admin added it since they were read) has
the stages read again, once per such stage; a deal whose stage is still unknown is left out and
counted (`unknown_stage_deals`, a listing page's `skipped`), in live lookups and bulk listings
alike, rather than failing the customer's lookup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from integrations.errors import BadResponse
from integrations.http import Transport
from integrations.records.crm import (
    CrmPage,
    UnknownStage,
    parse_sell_deal,
    sell_contact_fact,
    sell_contact_id,
    sell_deal_fact,
    sell_items,
    sell_outcomes,
)
from integrations.records.values import Invalid
from plugin.core.domain import CrmContact, Purchase

log = logging.getLogger(__name__)

SERVICE = "Zendesk Sell"
DEFAULT_BASE_URL = "https://api.getbase.com"
PER_PAGE = 100
"""Sell's largest page."""
MAX_PAGES = 1_000
"""A guard on one customer's listings: one contact with 100,000 deals is a broken server, not a
customer. Whole-account listings (`contact_pages`, `deal_pages`) have no page cap: they stop at
the last page, or with BadResponse when a page repeats the one before (a server that ignores
`page`)."""
STAGES_SECONDS = 600.0
"""How long the account's stages are reused: they change when an admin edits a pipeline."""
NEWEST_FIRST = "updated_at:desc"


@dataclass(frozen=True)
class SellConfig:
    """Where Sell is and the access token. `repr` never shows the token."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL


class SellClient:
    name = SERVICE
    kind = "sell"

    def __init__(self, transport: Transport, clock: Callable[[], float] = time.monotonic):
        self.transport = transport
        self.clock = clock
        self._stages: tuple[dict[int, bool | None], float] | None = None
        self._unknown: set[int] = set()
        """Stages still unknown after reading the stages again (until they are next read)."""
        self.unknown_stage_deals = 0
        """Deals left out of live lookups because their stage is unknown."""

    @classmethod
    def connect(cls, config: SellConfig, *, session: requests.Session | None = None,
                **options: Any) -> SellClient:
        session = session or requests.Session()
        session.headers.update({"Authorization": f"Bearer {config.token}",
                                "Accept": "application/json"})
        options.setdefault("service", SERVICE)
        return cls(Transport(base_url=config.base_url, session=session, **options))

    def close(self) -> None:
        self.transport.session.close()

    def contacts(self, email: str) -> list[CrmContact]:
        """Every contact whose email is `email`, each with its decided deals."""
        self.stage_outcomes()
        return [CrmContact(contact_id, tuple(self.deals(contact_id)))
                for contact_id in self.contact_ids(email)]

    def contact_ids(self, email: str) -> list[str]:
        """The ids of the contacts with `email`, each once."""
        return list(dict.fromkeys(self._read(sell_contact_id, record) for record in
                                  self._collection("/v2/contacts", {"email": email}, "contact")))

    def deals(self, contact_id: str) -> list[Purchase]:
        """The contact's won and lost deals (open ones, and those in an unknown stage, are
        left out)."""
        found = []
        for record in self._collection("/v2/deals", {"contact_id": contact_id}, "deal"):
            try:
                purchase = self._read(lambda r: self._staged(r, parse_sell_deal), record)
            except UnknownStage as error:
                self.unknown_stage_deals += 1
                log.warning("%s deal left out: %s", SERVICE, error)
                continue
            if purchase is not None:
                found.append(purchase)
        return found

    def stage_outcomes(self, *, refresh: bool = False) -> dict[int, bool | None]:
        """Each stage's outcome (won, lost or open), kept for STAGES_SECONDS (`refresh`:
        read them again now)."""
        if not refresh and self._stages is not None and \
                self.clock() - self._stages[1] < STAGES_SECONDS:
            return self._stages[0]
        stages = list(self._collection("/v2/stages", {}, "stage"))
        outcomes = self._read(sell_outcomes, stages)
        self._stages, self._unknown = (outcomes, self.clock()), set()
        return outcomes

    def _staged(self, record: Any, parse: Callable[[Any, dict[int, bool | None]], Any]) -> Any:
        """`parse(record, outcomes)`; a deal in a stage not listed has the stages read again
        once (per such stage), then raises UnknownStage if it is still not listed."""
        try:
            return parse(record, self.stage_outcomes())
        except UnknownStage as error:
            if error.stage in self._unknown:
                raise
            outcomes = self.stage_outcomes(refresh=True)
            try:
                return parse(record, outcomes)
            except UnknownStage:
                self._unknown.add(error.stage)
                raise

    def contact_pages(self, position: int = 1, since: datetime | None = None
                      ) -> Iterator[CrmPage]:
        """Every contact (as `ContactFact`s), newest change first, from page `position`; with
        `since`, up to the page that reaches back before it."""
        return self._changes("/v2/contacts", "contact", sell_contact_fact, position, since)

    def deal_pages(self, position: int = 1, since: datetime | None = None
                   ) -> Iterator[CrmPage]:
        """Every deal (as `DealFact`s, open ones too), like `contact_pages`."""
        self.stage_outcomes()
        return self._changes("/v2/deals", "deal", lambda r: self._staged(r, sell_deal_fact),
                             position, since)

    def _changes(self, path: str, kind: str, parse: Callable[[Any], Any], position: int,
                 since: datetime | None) -> Iterator[CrmPage]:
        for number, records, more in self._pages(path, {"sort_by": NEWEST_FIRST}, kind,
                                                 position, limit=None):
            facts, skipped = [], 0
            for record in records:
                try:
                    facts.append(parse(record))
                except (Invalid, AttributeError, TypeError):
                    skipped += 1
            reached = since is not None and any(
                f.modified is not None and f.modified < since for f in facts)
            yield CrmPage(facts, number + 1 if more and not reached else None, skipped)
            if reached:
                return

    def _collection(self, path: str, params: dict[str, Any], kind: str
                    ) -> Iterator[dict[str, Any]]:
        """Every record of a collection, page after page until no `next_page` link."""
        for _, records, _ in self._pages(path, params, kind):
            yield from records

    def _pages(self, path: str, params: dict[str, Any], kind: str, first: int = 1, *,
               limit: int | None = MAX_PAGES
               ) -> Iterator[tuple[int, list[dict[str, Any]], bool]]:
        """Each page's number, records and whether another follows (a `next_page` link); at
        most `limit` pages (None: no cap)."""
        page, previous = first, None
        while limit is None or page < first + limit:
            body = self.transport.get(path, {**params, "page": page, "per_page": PER_PAGE})
            records = self._read(lambda b: sell_items(b, kind), body)
            ids = [r.get("id") for r in records]
            if ids and ids == previous:
                raise BadResponse(f"{SERVICE} answered page {page} of {path} as the page "
                                  "before", service=SERVICE)
            links = (body.get("meta") or {}).get("links") or {}
            more = bool(links.get("next_page")) and bool(body.get("items"))
            yield page, records, more
            if not more:
                return
            page, previous = page + 1, ids
        raise BadResponse(f"{SERVICE} kept paging {path} past {MAX_PAGES} pages",
                          service=SERVICE)

    def _read(self, parse: Callable[[Any], Any], value: Any) -> Any:
        try:
            return parse(value)
        except UnknownStage:
            raise
        except (Invalid, AttributeError, TypeError) as error:
            raise BadResponse(f"{SERVICE} sent something unreadable: {error}",
                              service=SERVICE) from error
