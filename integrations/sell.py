"""Zendesk Sell client: the contacts with a customer's email and the decided deals of each —
domain values out, project errors on failure.

Sell's API v2 (developer.zendesk.com/api-reference/sales-crm/): a personal access token as a
Bearer token; collections in the envelope `{"items": [{"data": ..., "meta": ...}], "meta":
{"links": {"next_page": ...}}}` with `page`/`per_page` pagination (at most 100 a page); deals
filtered by their primary contact with `contact_id`; won or lost read from the category of the
deal's stage (`GET /v2/stages`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from plugin.crm_records import (
    parse_sell_deal,
    sell_contact_id,
    sell_items,
    sell_outcomes,
)
from plugin.domain import CrmContact, Purchase
from plugin.records import Invalid

from .errors import BadResponse
from .http import Transport

SERVICE = "Zendesk Sell"
DEFAULT_BASE_URL = "https://api.getbase.com"
PER_PAGE = 100
"""Sell's largest page."""
MAX_PAGES = 1_000
"""A guard: one contact with 100,000 deals is a broken server, not a customer."""
STAGES_SECONDS = 600.0
"""How long the account's stages are reused: they change when an admin edits a pipeline."""


@dataclass(frozen=True)
class SellConfig:
    """Where Sell is and the access token. `repr` never shows the token."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL


class SellClient:
    name = SERVICE

    def __init__(self, transport: Transport, clock: Callable[[], float] = time.monotonic):
        self.transport = transport
        self.clock = clock
        self._stages: tuple[dict[int, bool | None], float] | None = None

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
        outcomes = self.stage_outcomes()
        return [CrmContact(contact_id, tuple(self.deals(contact_id, outcomes)))
                for contact_id in self.contact_ids(email)]

    def contact_ids(self, email: str) -> list[str]:
        return [self._read(sell_contact_id, record) for record in
                self._collection("/v2/contacts", {"email": email}, "contact")]

    def deals(self, contact_id: str, outcomes: dict[int, bool | None]) -> list[Purchase]:
        """The contact's won and lost deals (open ones are left out)."""
        found = []
        for record in self._collection("/v2/deals", {"contact_id": contact_id}, "deal"):
            purchase = self._read(lambda r: parse_sell_deal(r, outcomes), record)
            if purchase is not None:
                found.append(purchase)
        return found

    def stage_outcomes(self) -> dict[int, bool | None]:
        """Each stage's outcome (won, lost or open), kept for STAGES_SECONDS."""
        if self._stages is not None and self.clock() - self._stages[1] < STAGES_SECONDS:
            return self._stages[0]
        stages = list(self._collection("/v2/stages", {}, "stage"))
        outcomes = self._read(sell_outcomes, stages)
        self._stages = (outcomes, self.clock())
        return outcomes

    def _collection(self, path: str, params: dict[str, Any], kind: str
                    ) -> Iterator[dict[str, Any]]:
        """Every record of a collection, page after page until no `next_page` link."""
        for page in range(1, MAX_PAGES + 1):
            body = self.transport.get(path, {**params, "page": page, "per_page": PER_PAGE})
            yield from self._read(lambda b: sell_items(b, kind), body)
            links = (body.get("meta") or {}).get("links") or {}
            if not links.get("next_page") or not body.get("items"):
                return
        raise BadResponse(f"{SERVICE} kept paging {path} past {MAX_PAGES} pages",
                          service=SERVICE)

    def _read(self, parse: Callable[[Any], Any], value: Any) -> Any:
        try:
            return parse(value)
        except (Invalid, AttributeError, TypeError) as error:
            raise BadResponse(f"{SERVICE} sent something unreadable: {error}",
                              service=SERVICE) from error
