"""The record sets each list endpoint pages through, built from its (already parsed) filters.

Only the sandbox's own SQL goes into a `Listing`; every client value is a bound parameter.
"""

from __future__ import annotations

from integrations.sandbox.data import ACTIVE
from integrations.sandbox.errors import bad_request
from integrations.sandbox.paging import Listing
from integrations.sandbox.search import Query

TICKET_SORTS = {"id": "tickets.pk", "created_at": "tickets.created_ts",
                "updated_at": "tickets.updated_ts", "status": "tickets.status"}
SCORES = {
    "received": (("good", "bad"), None), "received_with_comment": (("good", "bad"), 1),
    "received_without_comment": (("good", "bad"), 0), "good": (("good",), None),
    "good_with_comment": (("good",), 1), "good_without_comment": (("good",), 0),
    "bad": (("bad",), None), "bad_with_comment": (("bad",), 1),
    "bad_without_comment": (("bad",), 0), "offered": (("offered",), None),
    "unoffered": (("unoffered",), None),
}
"""Zendesk's `score` filters of satisfaction ratings: the scores and whether a comment."""
WEBHOOK_NAME = "json_extract(body, '$.name')"
WEBHOOK_SORTS = {"name": WEBHOOK_NAME, "status": "json_extract(body, '$.status')"}


def sort_of(text: str | None, choices: dict[str, str], default: str = "id"
            ) -> tuple[str, str, bool]:
    """(order name, column, descending) of a `sort` value like `-updated_at`, or 400."""
    order = text or default
    name = order.removeprefix("-")
    if name not in choices:
        raise bad_request(f"sort must be one of {', '.join(choices)} (with an optional -)")
    return order, choices[name], order.startswith("-")


def tickets(cutoff: int, sort: str | None = None, requester_id: int | None = None) -> Listing:
    """Unarchived tickets (GET /tickets, /users/{id}/tickets/requested), by `sort`."""
    order, column, descending = sort_of(sort, TICKET_SORTS)
    listing = Listing("tickets", f"tickets:{order}", column, "tickets.pk", "tickets.body",
                      descending, (ACTIVE,), (cutoff,))
    if requester_id is not None:
        listing = listing.filtered("tickets.requester_id = ?", requester_id)
    return listing


def ticket_metrics(cutoff: int) -> Listing:
    """Metric records of unarchived tickets, newest ticket first (as Zendesk lists them)."""
    return Listing("ticket_metrics m JOIN tickets ON tickets.pk = m.ticket_id", "metrics",
                   "m.created_ts", "m.pk", "m.body", True, (ACTIVE,), (cutoff,))


def satisfaction_ratings(score: str | None, start: int | None, end: int | None) -> Listing:
    """Ratings by `score` filter, created between `start` and `end` (epoch seconds, inclusive)."""
    listing = Listing("satisfaction_ratings", "ratings", "created_ts")
    if score:
        if score not in SCORES:
            raise bad_request(f"score must be one of {', '.join(SCORES)}")
        scores, comment = SCORES[score]
        listing = listing.filtered(f"score IN ({','.join('?' * len(scores))})", *scores)
        if comment is not None:
            listing = listing.filtered("has_comment = ?", comment)
    if start is not None:
        listing = listing.filtered("created_ts >= ?", start)
    if end is not None:
        listing = listing.filtered("created_ts <= ?", end)
    return listing


def survey_responses(start: int | None, end: int | None) -> Listing:
    """Survey responses given between `start` and `end` (epoch seconds, inclusive)."""
    listing = Listing("survey_responses", "responses", "created_ts")
    if start is not None:
        listing = listing.filtered("created_ts >= ?", start)
    if end is not None:
        listing = listing.filtered("created_ts <= ?", end)
    return listing


def search(query: Query, sort_by: str | None, sort_order: str | None) -> Listing:
    """Tickets matching a search, archived ones included; by `sort_by` (default: id)."""
    choices = {**TICKET_SORTS, "ticket_type": "json_extract(tickets.body, '$.type')",
               "priority": "json_extract(tickets.body, '$.priority')"}
    if sort_by is not None and sort_by not in choices:
        raise bad_request(f"sort_by must be one of {', '.join(choices)}")
    descending = sort_by is not None and sort_order != "asc"
    return Listing("tickets", f"search:{sort_by}", choices[sort_by or "id"], "tickets.pk",
                   "tickets.body", descending, query.conditions, query.params)


def search_export(query: Query) -> Listing:
    """Tickets matching a search export, newest created first (Zendesk's only order)."""
    return Listing("tickets", "export", "tickets.created_ts", "tickets.pk", "tickets.body",
                   True, query.conditions, query.params)


def webhooks(name_contains: str | None, status: str | None, sort: str | None) -> Listing:
    """Webhooks whose name contains a text and with a status, in creation order or by `sort`."""
    order, column, descending = sort_of(sort, {"id": "pk", **WEBHOOK_SORTS})
    listing = Listing("webhooks", f"webhooks:{order}", column, descending=descending)
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        listing = listing.filtered(f"{WEBHOOK_NAME} LIKE ? ESCAPE '\\'", f"%{escaped}%")
    if status:
        listing = listing.filtered("json_extract(body, '$.status') = ?", status)
    return listing


def triggers(active: bool | None) -> Listing:
    """Triggers by id, optionally only the active or inactive ones."""
    listing = Listing("triggers", "triggers")
    if active is not None:
        listing = listing.filtered("json_extract(body, '$.active') = ?", int(active))
    return listing
