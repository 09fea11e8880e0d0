"""The bulk readers: incremental exports, satisfaction ratings, survey responses and search.

Incremental exports page by change position: `start_time` (epoch seconds) opens a stream at the
first record changed at or after it; each page's `after_cursor` resumes right after its last
record, even once `end_of_stream` is true, which is how a client picks up later changes.
Exports, search and show keep archived tickets; satisfaction ratings are never archived.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from integrations.sandbox import listings, search
from integrations.sandbox.context import link, paged, raw_reply, reply, services
from integrations.sandbox.errors import bad_request, classic, invalid_endpoint, listed
from integrations.sandbox.paging import (
    cursor_request,
    decode_position,
    encode_cursor,
    encode_position,
    integer,
    offset_request,
    render,
    start_position,
)

EXPORT_MAX = 1_000
"""Records per incremental export page (the default and the maximum)."""
START_TIME_MIN_AGE = 60
"""Zendesk refuses a `start_time` less than a minute old."""
SEARCH_LIMIT = 1_000
SEARCH_PAGE_MAX = 100
SEARCH_EXPORT_DEFAULT = 100
TICKET_SIDELOADS = ("metric_sets", "users", "organizations")
EXPORT_ENDPOINTS = frozenset({"exports.incremental_tickets", "exports.incremental_users",
                              "exports.incremental_organizations"})
"""The endpoints under Zendesk's separate incremental export rate limit."""

blueprint = Blueprint("exports", __name__, url_prefix="/api/v2")


@blueprint.get("/incremental/tickets/cursor")
def incremental_tickets() -> Response:
    return _cursor_export("tickets", _includes())


@blueprint.get("/incremental/users/cursor")
def incremental_users() -> Response:
    return _cursor_export("users", ())


@blueprint.get("/incremental/organizations")
def incremental_organizations() -> Response:
    store = services().store
    start = _start_time()
    size = min(integer(request.args, "per_page", EXPORT_MAX, minimum=1) or EXPORT_MAX,
               EXPORT_MAX)
    rows = store.organizations_since(start, size)
    end_time = rows[-1][0] if rows else start
    return raw_reply(render({"organizations": [text for _, text in rows]}, {
        "next_page": link({"start_time": str(end_time)}), "end_time": end_time,
        "end_of_stream": not store.has_organizations_after(end_time), "count": len(rows)}))


@blueprint.get("/satisfaction_ratings")
def satisfaction_ratings() -> Response:
    args = request.args
    return paged("satisfaction_ratings", listings.satisfaction_ratings(
        args.get("score"), integer(args, "start_time"), integer(args, "end_time")))


@blueprint.get("/guide/survey_responses")
def survey_responses() -> Response:
    """Zendesk's "List Survey Responses": `filter[created_at_start]`/`_end` are Unix epoch
    time in milliseconds (developer.zendesk.com, api-reference/ticketing/ticket-management/
    csat_survey_responses); any other form is refused."""
    if not services().store.has_surveys:
        raise invalid_endpoint()
    if services().traffic.config.surveys_forbidden:
        raise listed(403, "Forbidden", "Access to the resource is forbidden")
    start, end = (_epoch_ms_arg(f"filter[created_at_{edge}]") for edge in ("start", "end"))
    return paged("survey_responses", listings.survey_responses(
        None if start is None else -(-start // 1000), None if end is None else end // 1000),
        offset=False)


@blueprint.get("/search")
def search_tickets() -> Response:
    query = _query()
    wanted = offset_request(request.args, SEARCH_PAGE_MAX, SEARCH_PAGE_MAX)
    if wanted.offset + wanted.per_page > SEARCH_LIMIT:
        raise classic(422, "invalid",
                      "Requested response size was greater than Search Response Limits")
    listing = listings.search(query, request.args.get("sort_by"), request.args.get("sort_order"))
    page = services().store.offset_page(listing, wanted) if query.kind in (None, "ticket") \
        else None
    total = page.total if page else 0
    more = wanted.offset + wanted.per_page < min(total, SEARCH_LIMIT)
    return reply({
        "results": _results(page.items if page else []), "facets": None,
        "next_page": link({"page": str(wanted.page + 1)}) if more else None,
        "previous_page": link({"page": str(wanted.page - 1)}) if wanted.page > 1 else None,
        "count": total})


@blueprint.get("/search/count")
def search_count() -> Response:
    query = _query()
    if query.kind not in (None, "ticket"):
        return reply({"count": 0})
    return reply({"count": services().store.count(listings.search(query, None, None))})


@blueprint.get("/search/export")
def search_export() -> Response:
    query = _query()
    kind = request.args.get("filter[type]")
    if not kind:
        raise bad_request("filter[type] is required (ticket, user, organization or group)")
    if query.kind is not None:
        raise bad_request("the query cannot name a type: use filter[type]")
    listing = listings.search_export(query)
    wanted = cursor_request(request.args, listing.order, SEARCH_EXPORT_DEFAULT, EXPORT_MAX)
    if wanted.before is not None:
        raise bad_request("search export pages forwards only")
    page = services().store.page(listing, wanted) if kind == "ticket" else None
    after = page.last if page else None
    token = encode_cursor(listing.order, after) if after is not None else None
    has_more = bool(page and page.has_more)
    return reply({
        "results": _results(page.items if page else []), "facets": None,
        "meta": {"has_more": has_more, "after_cursor": token, "before_cursor": None},
        "links": {"next": link({"page[after]": token}) if has_more else None, "prev": None}})


def _cursor_export(table: str, sideloads: tuple[str, ...]) -> Response:
    """One page of a cursor-based incremental export of `table` (see the module docstring)."""
    store = services().store
    size = min(integer(request.args, "per_page", EXPORT_MAX, minimum=1) or EXPORT_MAX,
               EXPORT_MAX)
    cursor = request.args.get("cursor")
    after = decode_position(cursor) if cursor else start_position(_start_time())
    rows = store.changes(table, after, size + 1)
    end_of_stream = len(rows) <= size
    rows = rows[:size]
    # Zendesk's user export has been recorded ending an empty last page with
    # `after_cursor: null`: the client must keep the cursor it already has.
    after_cursor = encode_position(rows[-1][0]) if rows else (
        None if table == "users" else encode_position(after))
    lists = {table: [text for _, _, text in rows]}
    lists |= _sideloads(sideloads, [pk for _, pk, _ in rows], lists[table])
    return raw_reply(render(lists, {
        "after_url": link({"cursor": after_cursor}) if after_cursor else None,
        "after_cursor": after_cursor,
        "before_url": None, "before_cursor": None, "end_of_stream": end_of_stream}))


def _sideloads(names: tuple[str, ...], ids: list[int], texts: list[str]) -> dict[str, list[str]]:
    """The `include=` lists of a ticket export page: metric_sets, users, organizations."""
    store = services().store
    loaded: dict[str, list[str]] = {}
    if "metric_sets" in names:
        loaded["metric_sets"] = store.metrics_of(ids)
    if "users" in names or "organizations" in names:
        tickets = [json.loads(text) for text in texts]
        if "users" in names:
            people = [t.get(k) for t in tickets for k in ("requester_id", "submitter_id",
                                                           "assignee_id")]
            loaded["users"] = store.bodies("users", [p for p in people if p is not None])
        if "organizations" in names:
            orgs = [t.get("organization_id") for t in tickets]
            loaded["organizations"] = store.bodies("organizations",
                                                   [o for o in orgs if o is not None])
    return loaded


def _includes() -> tuple[str, ...]:
    asked = tuple(part.strip() for part in request.args.get("include", "").split(",")
                  if part.strip())
    unknown = set(asked) - set(TICKET_SIDELOADS)
    if unknown:
        raise bad_request(f"cannot sideload {', '.join(sorted(unknown))} here "
                          f"(supported: {', '.join(TICKET_SIDELOADS)})")
    return asked


def _start_time() -> int:
    """The export's `start_time`: required, and at least a minute in the past, as Zendesk has it."""
    start = integer(request.args, "start_time")
    if start is None:
        raise bad_request("start_time or cursor is required")
    if start > services().store.clock.now() - START_TIME_MIN_AGE:
        raise bad_request("Too recent start_time. Use a start_time at least one minute in "
                          "the past")
    return start


def _epoch_ms_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise listed(400, "InvalidParameter", f"{name} is invalid",
                     "expected a Unix epoch time in milliseconds")
    return int(raw)


def _query() -> search.Query:
    text = request.args.get("query")
    if not text:
        raise bad_request("query is required")
    return search.parse(text, services().store.clock.now())


def _results(texts: list[str]) -> list[dict[str, Any]]:
    return [{**json.loads(text), "result_type": "ticket"} for text in texts]
