"""Keeps the history store up to date from Zendesk's exports.

The first run loads the whole account; later runs fetch only what changed since each stream's
stored position; a run that stops half way resumes from the last page it saved. Each page is
saved with its stream's new position in one transaction, and memory holds one page at a time.

Streams, in order: organizations and users (so tickets find their requesters), tickets with
their metric sets, satisfaction ratings and CSAT survey responses by time window; then, when a
CRM client is given (the account's spend comes from Sell or Bitrix24), the CRM's contacts and
deals (`crm_sync`). A CRM that fails (down, refusing the credentials, rate limiting past the
wait budget) does not fail the run: the Zendesk streams are saved already, the error is kept in
the report (`SyncReport.crm_error`) and logged, and the store's CRM copy stays as it was (the
next run resumes it), so scoring falls back to the deals synced before, or to Zendesk alone.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from integrations.errors import IntegrationError
from integrations.zendesk import Page, RatingFact, TicketFact, UserFact, ZendeskClient
from plugin.core.times import zulu
from plugin.service_layer.crm_sync import CrmExport, sync_crm
from plugin.storage.history import HistoryStore

log = logging.getLogger(__name__)
RATING_OVERLAP = timedelta(minutes=5)
"""Each ratings window starts a little before the last one ended, so a rating written while
the previous window was read is not missed (re-reading one is harmless: writes are upserts)."""
EXPORT_LAG = timedelta(minutes=1)
"""Zendesk's exports refuse a start time within the last minute; windows end that far back."""
NO_SURVEYS = ("no survey data: Zendesk refused the CSAT survey responses (403: the plan or the "
              "connected user's role has no access to the newer CSAT); the other streams are "
              "saved")
STREAMS = ("organizations", "users", "tickets", "satisfaction_ratings", "survey_responses")

Progress = Callable[[str, int, int], None]
"""Called after every saved page with the stream, records so far and pages so far."""


@dataclass
class StreamReport:
    pages: int = 0
    records: int = 0
    skipped: int = 0


@dataclass
class SyncReport:
    streams: dict[str, StreamReport] = field(default_factory=dict)
    api_calls: int = 0
    crm_calls: int = 0
    warnings: list[str] = field(default_factory=list)
    """What the run could not read but did not fail for (said to whoever ran it)."""
    crm_error: IntegrationError | None = None
    """Why the CRM streams stopped short, when they did (the Zendesk streams are saved)."""
    seconds: float = 0.0
    changed_requesters: set[int] = field(default_factory=set)
    """The customers whose user record, tickets or ratings this run brought in: the ones
    whose value may have changed."""

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams.values())


def sync(client: ZendeskClient, store: HistoryStore, *, clock: Callable[[], datetime],
         progress: Progress | None = None, crm: CrmExport | None = None) -> SyncReport:
    """Bring the store up to date (and its copy of `crm`, if given); safe to interrupt and
    run again."""
    started, calls_before = time.monotonic(), client.transport.total_calls
    report = SyncReport()
    runner = _Runner(client, store, clock, progress or (lambda *_: None), report)
    runner.organizations()
    runner.users()
    runner.tickets()
    runner.satisfaction_ratings()
    runner.survey_responses()
    report.changed_requesters |= store.requesters_of(runner.rated_tickets)
    report.api_calls = client.transport.total_calls - calls_before
    if crm is not None:
        crm_before = _calls(crm)
        try:
            sync_crm(crm, store, clock=clock, pages=runner.pages)
        except IntegrationError as error:
            report.crm_error = error
            log.warning("CRM sync stopped: %s", error)
        report.crm_calls = _calls(crm) - crm_before
    report.seconds = time.monotonic() - started
    return report


@dataclass
class _Runner:
    client: ZendeskClient
    store: HistoryStore
    clock: Callable[[], datetime]
    progress: Progress
    report: SyncReport
    rated_tickets: set[int] = field(default_factory=set)

    def pages(self, stream: str, pages: Iterator) -> Iterator:
        """The stream's pages (Zendesk's `Page`s or a CRM's `CrmPage`s), counted, with the
        customers they touch noted."""
        done = self.report.streams.setdefault(stream, StreamReport())
        for page in pages:
            yield page
            self._note_changes(page.items)
            done.pages += 1
            done.records += len(page.items)
            done.skipped += page.skipped
            self.progress(stream, done.records, done.pages)

    def _note_changes(self, items) -> None:
        for item in items:
            if isinstance(item, TicketFact):
                self.report.changed_requesters.add(item.requester_id)
            elif isinstance(item, UserFact):
                self.report.changed_requesters.add(item.profile.id)
            elif isinstance(item, RatingFact):
                self.rated_tickets.add(item.ticket_id)

    def organizations(self) -> None:
        state = self.store.state("organizations")
        start = int(state.cursor or 0)
        for page in self.pages("organizations", self.client.organization_pages(start_time=start)):
            self.store.save_page("organizations", organizations_=page.items,
                                 cursor=page.cursor or str(start), now=self.clock())

    def users(self) -> None:
        self._cursor_stream("users", self.client.user_pages, "users_")

    def tickets(self) -> None:
        self._cursor_stream("tickets", self.client.ticket_pages, "tickets_")

    def _cursor_stream(self, stream: str, export, key: str) -> None:
        state = self.store.state(stream)
        pages = export(cursor=state.cursor) if state.cursor else export(start_time=0)
        through, cursor = state.synced_through, state.cursor
        for page in self.pages(stream, pages):
            latest = max((f.updated_at for f in page.items if f.updated_at), default=None)
            if latest is not None and (through is None or latest > through):
                through = latest
            # A page may end with `after_cursor: null`; the last cursor Zendesk gave stays the
            # place to resume, or the next run would export everything again.
            cursor = page.cursor or cursor
            items = [f for f in page.items if not getattr(f, "deleted", False)]
            gone = [f.ticket.id for f in page.items if getattr(f, "deleted", False)]
            self.store.save_page(stream, **{key: items}, deleted_tickets=gone, cursor=cursor,
                                 synced_through=through, now=self.clock())

    def satisfaction_ratings(self) -> None:
        def fetch(start: datetime, end: datetime, after: str | None) -> Iterator[Page]:
            return self.client.rating_pages(start_time=int(start.timestamp()),
                                            end_time=int(end.timestamp()), after=after)
        self._windowed("satisfaction_ratings", "rating", fetch)

    def survey_responses(self) -> None:
        def fetch(start: datetime, end: datetime, after: str | None) -> Iterator[Page]:
            return self.client.survey_pages(start=start, end=end, after=after)
        self._windowed("survey_responses", "survey", fetch)
        if self.client.surveys_refused:
            self.report.warnings.append(NO_SURVEYS)

    def _windowed(self, stream: str, source: str, fetch) -> None:
        """Ratings by time window: [last end − overlap, now − lag), resumable by page."""
        state = self.store.state(stream)
        if state.cursor:
            window = json.loads(state.cursor)
            start, end = _parse(window["start"]), _parse(window["end"])
            after = window.get("after")
        else:
            start = (state.synced_through - RATING_OVERLAP if state.synced_through
                     else datetime.fromtimestamp(0, UTC))
            end, after = self.clock() - EXPORT_LAG, None
        if end <= start:
            return
        for page in self.pages(stream, fetch(start, end, after)):
            cursor = None if page.done else json.dumps(
                {"start": zulu(start), "end": zulu(end), "after": page.cursor})
            self.store.save_page(stream, ratings_=page.items, rating_source=source,
                                 cursor=cursor, synced_through=end if page.done else
                                 state.synced_through, now=self.clock())
        self.report.streams.setdefault(stream, StreamReport())


def _calls(crm: CrmExport) -> int:
    transport = getattr(crm, "transport", None)
    return transport.total_calls if transport is not None else 0


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)
