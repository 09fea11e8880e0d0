"""Zendesk Support API client: the exports that fill the history store, the live refresh of one
customer, and the tag writes — domain values out, project errors on failure.

HTTP goes through `Transport` (requests) rather than zenpy's own calls: zenpy sleeps inside a
request on a 429 (a web worker must not), hides pages inside lazy generators (a resumable sync
must checkpoint each page's cursor), builds URLs only for *.zendesk.com (the sandbox is a plain
base URL) and has no CSAT survey responses. The record shapes are Zendesk's, read by
`integrations.records.zendesk`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from integrations.errors import (
    FORBIDDEN,
    AuthFailed,
    BadResponse,
    IntegrationError,
    NotFound,
    Unavailable,
)
from integrations.http import Transport
from integrations.oauth import BearerAuth
from integrations.records.zendesk import (
    DEFAULT_SPEND_FIELD,
    DELETED,
    Invalid,
    parse_metric,
    parse_organization,
    parse_rating,
    parse_survey,
    parse_ticket,
    parse_user,
    with_metrics,
)
from plugin.core.domain import Organization, Profile, Satisfaction, Ticket

log = logging.getLogger(__name__)

EXPORT_PAGE_SIZE = 1000
"""Zendesk's largest page for the incremental cursor exports."""
LIST_PAGE_SIZE = 100
"""Zendesk's largest page for cursor-paginated list endpoints."""
BULK_LIMIT = 100
"""Tickets per `update_many` call, Zendesk's limit."""
MAX_PAGES = 1_000_000
"""A guard: no real stream is this long; a server that keeps paging is broken."""
JOB_POLL_SECONDS = 0.5
JOB_TIMEOUT_SECONDS = 120.0
ENV_VARIABLES = ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_BASE_URL")


@dataclass(frozen=True)
class ZendeskConfig:
    """Where the account is and how to sign in. `repr` never shows the token."""

    base_url: str
    email: str
    token: str = field(repr=False)
    kind: str = "token"
    """`token`: an API token (Basic "{email}/token"); `oauth`: an OAuth access token."""

    @property
    def auth(self) -> tuple[str, str] | BearerAuth:
        """Zendesk API-token authentication ("{email}/token" with the token as the password),
        or the OAuth access token as a Bearer."""
        if self.kind == "oauth":
            return BearerAuth(self.token)
        return f"{self.email}/token", self.token

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ZendeskConfig:
        """From ZENDESK_BASE_URL (or ZENDESK_SUBDOMAIN), ZENDESK_EMAIL and ZENDESK_API_TOKEN."""
        env = os.environ if env is None else env
        base = env.get("ZENDESK_BASE_URL", "").strip()
        subdomain = env.get("ZENDESK_SUBDOMAIN", "").strip()
        missing = [name for name in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN")
                   if not env.get(name, "").strip()]
        if not base and not subdomain:
            missing.insert(0, "ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)")
        if missing:
            raise ValueError("set " + ", ".join(missing) + " to reach Zendesk")
        if not base:
            base = f"https://{subdomain}.zendesk.com"
        return cls(base_url=base.rstrip("/"), email=env["ZENDESK_EMAIL"].strip(),
                   token=env["ZENDESK_API_TOKEN"].strip())


@dataclass(frozen=True, slots=True)
class UserFact:
    profile: Profile
    organization_id: int | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketFact:
    requester_id: int
    ticket: Ticket
    updated_at: datetime

    @property
    def deleted(self) -> bool:
        """Whether the export reports the ticket deleted: it leaves the customer's history."""
        return self.ticket.status == DELETED


@dataclass(frozen=True, slots=True)
class RatingFact:
    ticket_id: int
    rating: Satisfaction


@dataclass
class Page:
    """One page of a stream: its facts, and where the next page starts."""

    items: list[Any]
    cursor: str | None
    done: bool
    skipped: int = 0


@dataclass
class Job:
    id: str
    status: str
    failed: list[int] = field(default_factory=list)


TEAM_LEAD_ROLE = "team lead"
"""The name of Zendesk's standard custom role for team leads (Enterprise plans)."""


class ZendeskClient:
    def __init__(self, transport: Transport, spend_field: str = DEFAULT_SPEND_FIELD):
        self.transport = transport
        self.spend_field = spend_field
        self.surveys_refused = False
        """Set when Zendesk answered 403 to the survey responses (no survey data)."""

    @classmethod
    def connect(cls, config: ZendeskConfig, *, mode: str = "web",
                session: requests.Session | None = None, **options) -> ZendeskClient:
        transport = Transport(base_url=config.base_url, session=session or requests.Session(),
                              auth=config.auth, mode=mode, **options)
        return cls(transport)

    def close(self) -> None:
        self.transport.session.close()

    # --- exports -------------------------------------------------------------------------

    def ticket_pages(self, *, start_time: int = 0, cursor: str | None = None
                     ) -> Iterator[Page]:
        """The incremental ticket export (cursor based) with metric sets sideloaded."""
        params = {"per_page": EXPORT_PAGE_SIZE, "include": "metric_sets"}
        for body in self._cursor_export("/api/v2/incremental/tickets/cursor", params,
                                        start_time, cursor):
            metrics = _metric_sets(body)
            items, skipped = [], 0
            for record in body.get("tickets") or []:
                fact = self._ticket_fact(record, metrics)
                if fact is None:
                    skipped += 1
                else:
                    items.append(fact)
            yield Page(items, body.get("after_cursor"), bool(body.get("end_of_stream")), skipped)

    def user_pages(self, *, start_time: int = 0, cursor: str | None = None) -> Iterator[Page]:
        """The incremental user export (cursor based); end users and agents alike."""
        params = {"per_page": EXPORT_PAGE_SIZE}
        for body in self._cursor_export("/api/v2/incremental/users/cursor", params,
                                        start_time, cursor):
            items, skipped = _parse_each(body.get("users"), self._user_fact)
            yield Page(items, body.get("after_cursor"), bool(body.get("end_of_stream")), skipped)

    def organization_pages(self, *, start_time: int = 0) -> Iterator[Page]:
        """The incremental organization export (time based); `cursor` is the next start time."""
        url: str | None = "/api/v2/incremental/organizations"
        params: dict[str, Any] | None = {"start_time": start_time}
        seen: set[str] = set()
        while url:
            body = self.transport.get(url, params)
            items, skipped = _parse_each(
                body.get("organizations"), lambda r: parse_organization(r, self.spend_field))
            end = body.get("end_time")
            done = bool(body.get("end_of_stream")) or not body.get("next_page")
            yield Page(items, str(end) if end is not None else None, done, skipped)
            if done:
                return
            url, params = _next(body.get("next_page"), seen), None

    def rating_pages(self, *, start_time: int, end_time: int, after: str | None = None
                     ) -> Iterator[Page]:
        """Satisfaction ratings received in [start_time, end_time), cursor paginated."""
        params = {"score": "received", "start_time": start_time, "end_time": end_time}
        for body in self._cursor_list("/api/v2/satisfaction_ratings", params, after):
            items, skipped = _parse_each(body.get("satisfaction_ratings"), _rating_fact)
            meta = body.get("meta") or {}
            yield Page(items, meta.get("after_cursor"), not meta.get("has_more"), skipped)

    def survey_pages(self, *, start: datetime, end: datetime, after: str | None = None
                     ) -> Iterator[Page]:
        """CSAT survey responses created in [start, end); nothing where the account has no
        such surveys (404) or these credentials may not read them (403, plans and roles
        without the newer CSAT), which `surveys_refused` then says.

        Zendesk's "List Survey Responses" takes both filters as Unix epoch time in
        milliseconds (developer.zendesk.com, api-reference/ticketing/ticket-management/
        csat_survey_responses, `filter[created_at_start]`)."""
        params = {"filter[created_at_start]": _epoch_ms(start),
                  "filter[created_at_end]": _epoch_ms(end)}
        try:
            for body in self._cursor_list("/api/v2/guide/survey_responses", params, after):
                items, skipped = _parse_each(body.get("survey_responses"), _survey_fact)
                meta = body.get("meta") or {}
                yield Page(items, meta.get("after_cursor"), not meta.get("has_more"), skipped)
        except NotFound:
            log.info("this account has no CSAT survey responses")
        except AuthFailed as error:
            if error.status != FORBIDDEN:
                raise
            self.surveys_refused = True
            log.warning("no survey data: Zendesk refused the CSAT survey responses (403)")

    # --- one customer, live --------------------------------------------------------------

    def user(self, user_id: int) -> tuple[UserFact, Organization | None]:
        """One user with their organization (sideloaded: one request)."""
        body = self.transport.get(f"/api/v2/users/{user_id}", {"include": "organizations"})
        try:
            fact = self._user_fact(body.get("user") or {})
        except Invalid as error:
            raise BadResponse(f"Zendesk sent an unreadable user {user_id}: {error}") from error
        orgs = [self._organization(r) for r in body.get("organizations") or []]
        org = next((o for o in orgs if o is not None and o.id == fact.organization_id), None)
        return fact, org

    def me(self) -> tuple[int, str, str]:
        """Who these credentials act as: (id, email, role), as `GET /api/v2/users/me` says."""
        user = self.transport.get("/api/v2/users/me").get("user") or {}
        if not isinstance(user.get("id"), int) or not isinstance(user.get("role"), str):
            raise BadResponse("Zendesk sent the current user without an id or a role")
        return user["id"], str(user.get("email") or ""), user["role"]

    def user_role(self, user_id: int) -> str:
        """The user's role in Zendesk ("admin", "agent" or "end-user"), as Zendesk says it."""
        body = self.transport.get(f"/api/v2/users/{user_id}")
        role = (body.get("user") or {}).get("role")
        if not isinstance(role, str):
            raise BadResponse(f"Zendesk sent user {user_id} without a role")
        return role

    def staff(self, user_id: int) -> tuple[str, str]:
        """The user's role for the app and their name: `admin`, `team_lead` (an agent whose
        custom role is Zendesk's "Team lead"), `agent`, or `end-user`."""
        user = self.transport.get(f"/api/v2/users/{user_id}").get("user") or {}
        role, name = user.get("role"), user.get("name")
        if not isinstance(role, str):
            raise BadResponse(f"Zendesk sent user {user_id} without a role")
        name = name if isinstance(name, str) else ""
        custom = user.get("custom_role_id")
        if role == "agent" and isinstance(custom, int) and not isinstance(custom, bool):
            found = self.transport.get(f"/api/v2/custom_roles/{custom}").get("custom_role")
            if isinstance(found, dict) and str(found.get("name", "")).strip().lower() \
                    == TEAM_LEAD_ROLE:
                return "team_lead", name
        return role, name

    def ticket_priority(self, ticket_id: int) -> str | None:
        """The ticket's priority as it is now (None when it has none)."""
        priority = (self.transport.get(f"/api/v2/tickets/{ticket_id}").get("ticket")
                    or {}).get("priority")
        return priority if isinstance(priority, str) else None

    def update_ticket(self, ticket_id: int, changes: dict[str, Any]) -> None:
        """One update of one ticket (Zendesk's `PUT /tickets/{id}`): for example an internal
        note (`comment` with `public: false`), `additional_tags` and `priority` at once."""
        self.transport.request("PUT", f"/api/v2/tickets/{ticket_id}", json={"ticket": changes})

    def ticket_tags(self, ticket_id: int) -> tuple[str, ...]:
        """The ticket's tags as they are now (archived tickets included)."""
        body = self.transport.get(f"/api/v2/tickets/{ticket_id}")
        tags = (body.get("ticket") or {}).get("tags")
        if not isinstance(tags, list):
            raise BadResponse(f"Zendesk sent ticket {ticket_id} without tags")
        return tuple(str(tag) for tag in tags)

    def requested_tickets(self, user_id: int, *, updated_since: datetime | None = None
                          ) -> list[TicketFact]:
        """The customer's tickets, newest update first, back to `updated_since`.

        Zendesk leaves archived tickets out of this list, which is why the full history comes
        from the exports and this only tops it up with what changed since the last sync.
        """
        params = {"sort": "-updated_at", "include": "metric_sets"}
        facts: list[TicketFact] = []
        for body in self._cursor_list(f"/api/v2/users/{user_id}/tickets/requested", params,
                                      None):
            metrics = _metric_sets(body)
            for record in body.get("tickets") or []:
                fact = self._ticket_fact(record, metrics)
                if fact is None or fact.deleted:
                    continue
                if updated_since is not None and fact.updated_at < updated_since:
                    return facts
                facts.append(fact)
        return facts

    # --- writes --------------------------------------------------------------------------

    def update_tags(self, ticket_ids: list[int], *, add: list[str], remove: list[str]) -> Job:
        """Add and remove tags on up to 100 tickets in one bulk update, without replacing the
        tickets' other tags (so concurrent edits by agents are kept)."""
        if not 0 < len(ticket_ids) <= BULK_LIMIT:
            raise ValueError(f"update 1 to {BULK_LIMIT} tickets at a time, not {len(ticket_ids)}")
        body = self.transport.request(
            "PUT", "/api/v2/tickets/update_many",
            params={"ids": ",".join(str(i) for i in ticket_ids)},
            json={"ticket": {"additional_tags": add, "remove_tags": remove}})
        return _job(body)

    def update_user(self, user_id: int, *, fields: Mapping[str, object],
                    tags: list[str] | None = None) -> None:
        """Set user fields by key (and, when given, replace the user's tags) in one update."""
        user: dict[str, Any] = {"user_fields": dict(fields)}
        if tags is not None:
            user["tags"] = tags
        self.transport.request("PUT", f"/api/v2/users/{user_id}", json={"user": user})

    def update_organization(self, organization_id: int, *, fields: Mapping[str, object]
                            ) -> None:
        """Set organization fields by key."""
        self.transport.request("PUT", f"/api/v2/organizations/{organization_id}",
                               json={"organization": {"organization_fields": dict(fields)}})

    def validate_app(self, package: bytes) -> None:
        """Ask Zendesk's own app validator about an app package (a zip): `POST
        /api/v2/apps/validate` with the zip as the multipart field `file`, as Zendesk's ZCLI
        does. Returns when Zendesk accepts it; BadResponse carrying Zendesk's description
        when it refuses it."""
        self.transport.request("POST", "/api/v2/apps/validate",
                               files={"file": ("app.zip", package, "application/zip")})

    def job(self, job_id: str) -> Job:
        return _job(self.transport.get(f"/api/v2/job_statuses/{job_id}"))

    def wait_for(self, job: Job, *, timeout: float = JOB_TIMEOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> Job:
        """Poll a job status until it completes or fails."""
        deadline = clock() + timeout
        while job.status in ("queued", "working"):
            if clock() > deadline:
                raise Unavailable(f"Zendesk job {job.id} did not finish in {timeout:.0f} s")
            self.transport.sleep(JOB_POLL_SECONDS)
            job = self.job(job.id)
        return job

    def set_tags_safely(self, ticket_id: int, tags: list[str], updated_stamp: str) -> None:
        """Replace one ticket's tags only if it has not changed since `updated_stamp`
        (Zendesk's safe update); `Conflict` otherwise."""
        self.transport.request("PUT", f"/api/v2/tickets/{ticket_id}", json={"ticket": {
            "tags": tags, "safe_update": True, "updated_stamp": updated_stamp}})

    # --- helpers -------------------------------------------------------------------------

    def _cursor_export(self, path: str, params: dict[str, Any], start_time: int,
                       cursor: str | None) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        query = dict(params, cursor=cursor) if cursor else dict(params, start_time=start_time)
        url: str | None = path
        for _ in range(MAX_PAGES):
            body = self.transport.get(url, query)
            yield body
            if body.get("end_of_stream") or not body.get("after_cursor"):
                return
            query = dict(params, cursor=_unseen(body["after_cursor"], seen))
        raise BadResponse(f"{path} kept paging past {MAX_PAGES} pages")

    def list_all(self, path: str, key: str, params: Mapping[str, Any] | None = None
                 ) -> Iterator[dict[str, Any]]:
        """Every record of a cursor-paginated list endpoint (`page[size]`, `page[after]`),
        page after page: for lists an app must search whole (triggers, webhooks)."""
        for body in self._cursor_list(path, dict(params or {}), None):
            yield from body.get(key) or []

    def _cursor_list(self, path: str, params: dict[str, Any], after: str | None
                     ) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        query = dict(params, **{"page[size]": LIST_PAGE_SIZE})
        if after:
            query["page[after]"] = after
        for _ in range(MAX_PAGES):
            body = self.transport.get(path, query)
            yield body
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            query = dict(query, **{"page[after]": _unseen(meta["after_cursor"], seen)})
        raise BadResponse(f"{path} kept paging past {MAX_PAGES} pages")

    def _ticket_fact(self, record: Any, metrics: Mapping[int, dict[str, Any]]
                     ) -> TicketFact | None:
        try:
            if not isinstance(record, dict):
                raise Invalid("not an object")
            requester, ticket = parse_ticket(record)
            embedded = record.get("metric_set")
            metric = parse_metric(embedded)[1] if isinstance(embedded, dict) else metrics.get(
                ticket.id)
            updated = _updated_at(record) or ticket.created_at
        except Invalid as error:
            log.warning("left out an unreadable ticket %s: %s", _id_of(record), error)
            return None
        return TicketFact(requester, with_metrics(ticket, metric), updated)

    def _user_fact(self, record: dict[str, Any]) -> UserFact:
        profile = parse_user(record, {}, self.spend_field)
        org_id = record.get("organization_id")
        return UserFact(profile, org_id if isinstance(org_id, int) else None,
                        _updated_at(record))

    def _organization(self, record: Any) -> Organization | None:
        try:
            return parse_organization(record, self.spend_field)
        except (Invalid, AttributeError):
            return None


def _metric_sets(body: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    """Metric sets sideloaded as a top-level `metric_sets` array, by ticket id."""
    sets = {}
    for record in body.get("metric_sets") or []:
        try:
            ticket_id, values = parse_metric(record)
        except (Invalid, AttributeError) as error:
            log.warning("left out an unreadable metric set: %s", error)
            continue
        sets[ticket_id] = values
    return sets


def _rating_fact(record: dict[str, Any]) -> RatingFact | None:
    ticket_id, rating = parse_rating(record)
    return RatingFact(ticket_id, rating) if rating is not None else None


def _survey_fact(record: dict[str, Any]) -> RatingFact | None:
    ticket_id, rating = parse_survey(record)
    return RatingFact(ticket_id, rating) if rating is not None and ticket_id else None


def _parse_each(records: Any, parse: Callable[[dict[str, Any]], Any]) -> tuple[list[Any], int]:
    items, skipped = [], 0
    for record in records or []:
        try:
            if not isinstance(record, dict):
                raise Invalid("not an object")
            item = parse(record)
        except Invalid as error:
            log.warning("left out an unreadable record %s: %s", _id_of(record), error)
            skipped += 1
            continue
        if item is not None:
            items.append(item)
    return items, skipped


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _updated_at(record: Mapping[str, Any]) -> datetime | None:
    value = record.get("updated_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _job(body: Mapping[str, Any]) -> Job:
    status = body.get("job_status")
    if not isinstance(status, dict) or "id" not in status:
        raise BadResponse("Zendesk answered a bulk update without a job status")
    failed = [r.get("id") for r in status.get("results") or []
              if isinstance(r, dict) and r.get("success") is False]
    return Job(str(status["id"]), str(status.get("status") or "queued"), failed)


def _unseen(cursor: str, seen: set[str]) -> str:
    if cursor in seen:
        raise BadResponse("Zendesk returned the same cursor twice; stopping a paging loop")
    seen.add(cursor)
    return cursor


def _next(url: Any, seen: set[str]) -> str:
    if not isinstance(url, str):
        raise BadResponse("Zendesk sent a next page that is not a URL")
    return _unseen(url, seen)


def _id_of(record: Any) -> Any:
    return record.get("id") if isinstance(record, dict) else None


__all__ = ["ZendeskClient", "ZendeskConfig", "IntegrationError", "Page", "TicketFact",
           "UserFact", "RatingFact", "Job", "ENV_VARIABLES"]
