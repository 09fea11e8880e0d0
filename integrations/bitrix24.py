"""Bitrix24 client: contacts by email and their decided deals, through an inbound webhook —
domain values out, project errors on failure.

Bitrix24's REST API (apidocs.bitrix24.com): an inbound webhook's URL carries the user and the
secret (`https://portal.bitrix24.com/rest/1/secret/`) and a method is called by appending its
name (`crm.deal.list.json`). List methods answer `{"result": [...], "total": N, "next": 50}`
in pages of 50, the next page asked with `start`. A customer's deals are those whose primary
contact (CONTACT_ID, the `filter` of crm.deal.list) is the customer's contact.
Requests are limited by a leaky bucket per portal (a counter that drains two requests a second);
over it, Bitrix24 answers 503 with the error QUERY_LIMIT_EXCEEDED, which this client waits out
within a small budget (apidocs.bitrix24.com/limits.html).

For the history store, `contact_pages` and `deal_pages` list every contact and deal changed
after `since` (the filter `>DATE_MODIFY`, a field of both), in ID order so that a record
changing while the listing runs never shifts the pages (apidocs.bitrix24.com, "crm.deal.list":
`filter` keys take a comparison prefix, `order` sorts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from integrations.errors import (
    AuthFailed,
    BadResponse,
    IntegrationError,
    NotFound,
    RateLimited,
    Unavailable,
)
from integrations.http import Transport
from integrations.records.crm import (
    CrmPage,
    bitrix_contact_fact,
    bitrix_contact_id,
    bitrix_deal_fact,
    parse_bitrix_deal,
)
from integrations.records.values import Invalid
from plugin.core.domain import CrmContact, Purchase

SERVICE = "Bitrix24"
PAGE_SIZE = 50
"""Records per page of every list method, fixed by Bitrix24."""
THROTTLE_WAIT = 0.5
"""After QUERY_LIMIT_EXCEEDED: the bucket drains two requests a second, so one slot is free
again within half a second."""
OPERATION_WAIT = 600.0
"""After OPERATION_TIME_LIMIT: Bitrix24 blocks a method whose requests ran more than 480 s in
10 minutes, for up to 10 minutes (helpdesk.bitrix24.com, "Changes in REST 22.0.0")."""
THROTTLE_BUDGET = 5.0
"""Seconds of QUERY_LIMIT_EXCEEDED waits one call may spend before giving up (RateLimited)."""
MAX_PAGES = 1_000
"""A guard on one customer's listings (contacts by email, a contact's deals): 50,000 records
there is a broken server. Whole-account listings (`contact_pages`, `deal_pages`) have no page
cap: they stop when `next` no longer moves forward."""
CONTACT_FIELDS = ("ID", "NAME", "LAST_NAME", "EMAIL")
DEAL_FIELDS = ("ID", "CONTACT_ID", "OPPORTUNITY", "CURRENCY_ID", "STAGE_SEMANTIC_ID",
               "CLOSEDATE", "DATE_MODIFY")
"""DATE_MODIFY dates a decided deal with CLOSEDATE (`crm_records.parse_bitrix_deal`)."""
AUTH_ERRORS = frozenset({"INVALID_CREDENTIALS", "NO_AUTH_FOUND", "expired_token",
                         "invalid_token", "insufficient_scope", "ACCESS_DENIED",
                         "WRONG_AUTH_TYPE", "PAYMENT_REQUIRED"})
UNAVAILABLE_ERRORS = frozenset({"OVERLOAD_LIMIT", "INTERNAL_SERVER_ERROR",
                                "ERROR_UNEXPECTED_ANSWER"})
"""OVERLOAD_LIMIT: REST blocked for this portal until Bitrix24's support lifts it."""
KNOWN_ERRORS = AUTH_ERRORS | UNAVAILABLE_ERRORS | {
    "QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "ERROR_METHOD_NOT_FOUND", "NOT_FOUND"}
WEBHOOK = re.compile(r"^(https?://[^\s/]+/rest/\d+/)([A-Za-z0-9]+)/?$")


@dataclass(frozen=True)
class Bitrix24Config:
    """An inbound webhook URL. `repr` never shows it: the secret is part of it."""

    webhook_url: str = field(repr=False)

    @property
    def secret(self) -> str:
        match = WEBHOOK.match(self.webhook_url.strip())
        if match is None:
            raise ValueError("a Bitrix24 inbound webhook URL looks like "
                             "https://your.bitrix24.com/rest/1/secret/")
        return match.group(2)


class Bitrix24Client:
    name = SERVICE
    kind = "bitrix24"

    def __init__(self, transport: Transport):
        self.transport = transport

    @classmethod
    def connect(cls, config: Bitrix24Config, *, session: requests.Session | None = None,
                **options: Any) -> Bitrix24Client:
        """A client waiting out the leaky bucket (background mode, THROTTLE_BUDGET)."""
        options.setdefault("service", SERVICE)
        options.setdefault("mode", "background")
        options.setdefault("wait_budget", THROTTLE_BUDGET)
        return cls(Transport(base_url=config.webhook_url.strip().rstrip("/") + "/",
                             session=session or requests.Session(), throttled=throttled,
                             error_of=error_of, redact=config.secret, **options))

    def close(self) -> None:
        self.transport.session.close()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One REST method; its whole answer (`result`, `total`, `next`, `time`)."""
        body = self.transport.request("POST", f"{method}.json", json=params)
        if "error" in body:
            raise _error(body.get("error"), body.get("error_description"))
        return body

    def listing(self, method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record of a list method, page after page (`start` = the last `next`)."""
        start = 0
        for _ in range(MAX_PAGES):
            body = self.call(method, {**params, "start": start})
            records = body.get("result")
            if not isinstance(records, list):
                raise BadResponse(f"{SERVICE} answered {method} without a result list",
                                  service=SERVICE)
            yield from records
            following = body.get("next")
            if not isinstance(following, int) or following <= start or not records:
                return
            start = following
        raise BadResponse(f"{SERVICE} kept paging {method} past {MAX_PAGES} pages",
                          service=SERVICE)

    def contact_pages(self, position: int = 0, since: datetime | None = None
                      ) -> Iterator[CrmPage]:
        """Every contact changed after `since` (all without it) as `ContactFact`s, in ID
        order, from the offset `position`."""
        return self._changes("crm.contact.list", CONTACT_FIELDS, bitrix_contact_fact,
                             position, since)

    def deal_pages(self, position: int = 0, since: datetime | None = None
                   ) -> Iterator[CrmPage]:
        """Every deal (open ones too) changed after `since`, as `DealFact`s, like
        `contact_pages`."""
        return self._changes("crm.deal.list", DEAL_FIELDS, bitrix_deal_fact, position, since)

    def _changes(self, method: str, fields: tuple[str, ...], parse: Callable[[Any], Any],
                 start: int, since: datetime | None) -> Iterator[CrmPage]:
        query: dict[str, Any] = {"filter": {} if since is None else {
            ">DATE_MODIFY": since.astimezone(UTC).isoformat()},
            "select": list(dict.fromkeys([*fields, "DATE_MODIFY"])), "order": {"ID": "ASC"}}
        while True:
            body = self.call(method, {**query, "start": start})
            records = body.get("result")
            if not isinstance(records, list):
                raise BadResponse(f"{SERVICE} answered {method} without a result list",
                                  service=SERVICE)
            facts, skipped = [], 0
            for record in records:
                try:
                    facts.append(_read(parse, record))
                except BadResponse:
                    skipped += 1
            following = body.get("next")
            more = isinstance(following, int) and following > start and bool(records)
            yield CrmPage(facts, following if more else None, skipped)
            if not more:
                return
            start = following

    def contacts(self, email: str) -> list[CrmContact]:
        """Every contact with `email` among its addresses, each with its decided deals."""
        return [CrmContact(contact_id, tuple(self.deals(contact_id)))
                for contact_id in self.contact_ids(email)]

    def contact_ids(self, email: str) -> list[str]:
        """The ids of the contacts with `email`, each once."""
        return list(dict.fromkeys(_read(bitrix_contact_id, r) for r in
                                  self.listing("crm.contact.list", _contact_query(email))))

    def deals(self, contact_id: str) -> list[Purchase]:
        """The contact's won and lost deals (those in progress are left out)."""
        return _purchases(self.listing("crm.deal.list", _deal_query(contact_id)))


def throttled(response: requests.Response) -> float | None:
    """THROTTLE_WAIT when Bitrix24 says its leaky bucket is full (503 QUERY_LIMIT_EXCEEDED)."""
    if response.status_code != 503:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return THROTTLE_WAIT if isinstance(body, dict) and \
        body.get("error") == "QUERY_LIMIT_EXCEEDED" else None


def error_of(response: requests.Response) -> IntegrationError | None:
    """A failed answer's own error (`{"error": CODE, "error_description": ...}`, sent with a
    4xx or 5xx status: apidocs.bitrix24.com/error-codes.html) as the project's error; None
    when the body names no code this client knows (the status decides)."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    if code not in KNOWN_ERRORS:
        return None
    return _error(code, body.get("error_description"))


def _error(code: Any, description: Any) -> IntegrationError:
    """Bitrix24's error codes as the project's errors (apidocs.bitrix24.com/error-codes.html).
    """
    text = f"{SERVICE} refused the call: {code}" + (f" ({description})" if description else "")
    if code in AUTH_ERRORS:
        return AuthFailed(text, service=SERVICE)
    if code == "QUERY_LIMIT_EXCEEDED":
        return RateLimited(THROTTLE_WAIT, service=SERVICE)
    if code == "OPERATION_TIME_LIMIT":
        return RateLimited(OPERATION_WAIT, service=SERVICE)
    if code in UNAVAILABLE_ERRORS:
        return Unavailable(text, service=SERVICE)
    if code in ("ERROR_METHOD_NOT_FOUND", "NOT_FOUND"):
        return NotFound(text, service=SERVICE)
    return BadResponse(text, service=SERVICE)


def _contact_query(email: str) -> dict[str, Any]:
    return {"filter": {"EMAIL": email}, "select": list(CONTACT_FIELDS)}


def _deal_query(contact_id: str) -> dict[str, Any]:
    return {"filter": {"CONTACT_ID": contact_id}, "select": list(DEAL_FIELDS),
            "order": {"ID": "ASC"}}


def _purchases(records: Iterable[Any]) -> list[Purchase]:
    found = []
    for record in records:
        purchase = _read(parse_bitrix_deal, record)
        if purchase is not None:
            found.append(purchase)
    return found


def _read(parse, record: Any) -> Any:
    try:
        if not isinstance(record, dict):
            raise Invalid("not an object")
        return parse(record)
    except Invalid as error:
        raise BadResponse(f"{SERVICE} sent an unreadable record: {error}",
                          service=SERVICE) from error
