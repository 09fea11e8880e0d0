"""The history store: what the model needs of each Zendesk account, kept in the app's database.

Zendesk archives tickets closed more than 120 days ago: they leave the list endpoints and
ticket metrics but stay in the incremental exports. The store keeps every customer's whole
history from those exports, so scoring a customer reads the database, not Zendesk.

When the account's spend comes from a CRM, the store also keeps that CRM's contacts (their
emails) and deals, loaded by `sync`; `history(user_id, settings)` attaches the customer's
decided deals by the rules of `plugin.core.spend`, so bulk scoring (percentile tiers, backfill)
counts the same spend as the sidebar.

Every row carries its account's id and every query filters on it: one account's data is never
visible to another. SQLite by default, PostgreSQL by URL; the schema is created and upgraded by
the Alembic migrations in `plugin/storage/migrations` (tables in `schema`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, and_, delete, func, select

from integrations.records.crm import ContactFact, DealFact
from plugin.core.domain import (
    CRM_NAMES,
    CrmContact,
    CustomerHistory,
    Organization,
    Profile,
    Purchase,
    Satisfaction,
    Ticket,
)
from plugin.core.norms import NORMS_SAMPLE, sample_key
from plugin.core.settings import Settings
from plugin.core.spend import lookup_email, with_contacts
from plugin.core.times import as_utc, zulu
from plugin.storage import changes
from plugin.storage.schema import (
    crm_contact_emails,
    crm_deals,
    organizations,
    ratings,
    snapshots,
    suggestion_feedback,
    sync_state,
    tickets,
    upsert_rows,
    users,
)

RATING_SOURCES = ("ticket", "rating", "survey")
"""Where a rating came from, weakest first: a survey response beats a rating record, which
beats the rating embedded in the ticket (it carries no time of its own)."""
ID_CHUNK = 500
"""Ids per IN list when reading several customers, their tickets' ratings or their deals."""
HISTORY_BATCH = 500
"""Customers read together by `histories`: a few queries for each batch, and memory for one
batch of histories, whatever the account's size."""


@dataclass(frozen=True)
class StreamState:
    cursor: str | None = None
    synced_through: datetime | None = None


class HistoryStore:
    """One account's slice of the database."""

    def __init__(self, engine: Engine, account: int):
        self.engine = engine
        self.account = account

    # --- writes: each page in one transaction with its stream's new position -------------

    def save_page(self, stream: str, *, organizations_: Iterable[Organization] = (),
                  users_: Iterable[Any] = (), tickets_: Iterable[Any] = (),
                  ratings_: Iterable[Any] = (), rating_source: str = "rating",
                  deleted_tickets: Iterable[int] = (),
                  cursor: str | None = None, synced_through: datetime | None = None,
                  now: datetime) -> None:
        """Upsert a page of facts, remove the tickets Zendesk reports deleted (with their
        ratings), and move the stream's cursor, atomically: a crash leaves either the page
        and its cursor or neither, so a resumed sync repeats nothing."""
        gone = list(deleted_tickets)
        organizations_, users_ = list(organizations_), list(users_)
        ratings_ = list(ratings_)
        with self.engine.begin() as conn:
            changed = changes.requesters(conn, self.account, gone) if gone else set()
            for table in (ratings, tickets) if gone else ():
                key = table.c.ticket_id if table is ratings else table.c.id
                for start in range(0, len(gone), ID_CHUNK):
                    conn.execute(delete(table).where(table.c.account_id == self.account,
                                                     key.in_(gone[start:start + ID_CHUNK])))
            self._upsert(conn, organizations, [self._org_row(o) for o in organizations_])
            self._upsert(conn, users, [self._user_row(u) for u in users_])
            facts = list(tickets_)
            self._upsert(conn, tickets, [self._ticket_row(f) for f in facts])
            self._save_embedded_ratings(conn, facts)
            self._upsert(conn, ratings, [self._rating_row(r.ticket_id, r.rating, rating_source)
                                         for r in ratings_])
            changed |= {u.profile.id for u in users_}
            changed |= {f.requester_id for f in facts}
            if ratings_:
                changed |= changes.requesters(conn, self.account, [r.ticket_id for r in ratings_])
            if organizations_:
                changed |= changes.members(conn, self.account, [o.id for o in organizations_])
            changes.mark(conn, self.account, changed, now)
            self._upsert(conn, sync_state, [{
                "account_id": self.account, "stream": stream, "cursor": cursor,
                "synced_through": as_utc(synced_through), "updated_at": as_utc(now)}])

    def save_crm_page(self, stream: str, source: str, *,
                      contacts: Iterable[ContactFact] = (), deals: Iterable[DealFact] = (),
                      cursor: str | None, synced_through: datetime | None,
                      now: datetime) -> None:
        """Upsert a page of one CRM's contacts or deals (`source`: `sell` or `bitrix24`) and
        move the stream's position, atomically, like `save_page`. A contact's addresses are
        replaced by the page's."""
        contacts, deals = list(contacts), list(deals)
        with self.engine.begin() as conn:
            # The customers of the contacts' old addresses and the deals' old contacts, then
            # (below) of the new ones: a customer matched by another field than the e-mail
            # is caught by the overview's daily full refresh.
            changed = changes.contacts_people(conn, self.account, source,
                                              [c.id for c in contacts])
            changed |= changes.deals_people(conn, self.account, source, [d.id for d in deals])
            if contacts:
                conn.execute(delete(crm_contact_emails).where(
                    crm_contact_emails.c.account_id == self.account,
                    crm_contact_emails.c.source == source,
                    crm_contact_emails.c.contact_id.in_([c.id for c in contacts])))
                rows = {(c.id, email): {"account_id": self.account, "source": source,
                                        "contact_id": c.id, "email": email}
                        for c in contacts for email in c.emails}
                if rows:
                    conn.execute(crm_contact_emails.insert(), list(rows.values()))
            self._upsert(conn, crm_deals, [self._deal_row(source, d) for d in deals])
            changed |= changes.people_with(conn, self.account, {
                email for c in contacts for email in c.emails})
            changed |= changes.deals_people(conn, self.account, source, [d.id for d in deals])
            changes.mark(conn, self.account, changed, now)
            self._upsert(conn, sync_state, [{
                "account_id": self.account, "stream": stream, "cursor": cursor,
                "synced_through": as_utc(synced_through), "updated_at": as_utc(now)}])

    def streams_done(self) -> int:
        """How many of the Zendesk streams have been read to their end at least once."""
        with self.engine.connect() as conn:
            return len(conn.execute(select(sync_state.c.stream).where(
                sync_state.c.account_id == self.account, sync_state.c.stream.in_(
                    ("organizations", "users", "tickets", "satisfaction_ratings",
                     "survey_responses")), sync_state.c.synced_through.is_not(None)
                | sync_state.c.stream.in_(("organizations",)))).all())

    def state(self, stream: str) -> StreamState:
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_state.c.cursor, sync_state.c.synced_through).where(
                sync_state.c.account_id == self.account, sync_state.c.stream == stream)).first()
        if row is None:
            return StreamState()
        return StreamState(row.cursor, as_utc(row.synced_through))

    # --- reads --------------------------------------------------------------------------

    def history(self, user_id: int, settings: Settings | None = None
                ) -> CustomerHistory | None:
        """The customer's whole stored history, or None if the store has not reached them.

        With `settings` whose spend comes from a CRM the store has synced, the history carries
        the customer's stored deals (or the notice of several matching contacts)."""
        return next(iter(self.histories_of([user_id], settings)), None)

    def histories_of(self, user_ids: list[int], settings: Settings | None = None
                     ) -> list[CustomerHistory]:
        """The stored histories of these customers (those the store has), in this order, read
        together: a few queries for all of them, not a few for each."""
        found = self._zendesk_histories(user_ids)
        if not found or settings is None or settings.spend_source not in CRM_NAMES:
            return found
        stored = self.crm_deals(settings.spend_source)
        if stored is None:
            return found
        emails = {lookup_email(h.profile, settings) for h in found}
        known = _KnownContacts(stored, self.crm_contacts_of(settings.spend_source,
                                                            sorted(emails - {""})))
        return [with_contacts(h, known, settings) for h in found]

    def crm_deals(self, source: str) -> StoredCrm | None:
        """The CRM's contacts and deals as last synced, or None before a first complete sync."""
        synced = self.state(crm_stream(source)).synced_through
        return None if synced is None else StoredCrm(self, source, synced)

    def crm_contacts(self, source: str, email: str) -> list[CrmContact]:
        """The stored contacts of `source` with this (normalised) email, with decided deals."""
        return self.crm_contacts_of(source, [email]).get(email, [])

    def crm_contacts_of(self, source: str, emails: list[str]
                        ) -> dict[str, list[CrmContact]]:
        """`crm_contacts` for each of these emails that has contacts, read together."""
        ids: dict[str, list[str]] = {}
        rows = []
        with self.engine.connect() as conn:
            for start in range(0, len(emails), ID_CHUNK):
                for email, contact in conn.execute(select(
                        crm_contact_emails.c.email, crm_contact_emails.c.contact_id).where(
                        crm_contact_emails.c.account_id == self.account,
                        crm_contact_emails.c.source == source,
                        crm_contact_emails.c.email.in_(emails[start:start + ID_CHUNK])
                        ).order_by(crm_contact_emails.c.email, crm_contact_emails.c.contact_id)):
                    ids.setdefault(email, []).append(contact)
            wanted = sorted({contact for found in ids.values() for contact in found})
            for start in range(0, len(wanted), ID_CHUNK):
                rows += conn.execute(select(crm_deals).where(
                    crm_deals.c.account_id == self.account, crm_deals.c.source == source,
                    crm_deals.c.contact_id.in_(wanted[start:start + ID_CHUNK]),
                    crm_deals.c.won.is_not(None)).order_by(crm_deals.c.id)).all()
        deals: dict[str, list[Purchase]] = {contact: [] for contact in wanted}
        for row in rows:  # each contact's deals come from one query, in its order
            deals[row.contact_id].append(Purchase(
                amount=row.amount, currency=row.currency, won=row.won,
                closed_at=as_utc(row.closed_at), id=row.id))
        return {email: [CrmContact(contact, tuple(deals[contact])) for contact in found]
                for email, found in ids.items()}

    def _zendesk_histories(self, user_ids: list[int]) -> list[CustomerHistory]:
        with self.engine.connect() as conn:
            people = {row.id: row for start in range(0, len(user_ids), ID_CHUNK)
                      for row in conn.execute(select(users).where(
                          users.c.account_id == self.account,
                          users.c.id.in_(user_ids[start:start + ID_CHUNK])))}
            org_ids = sorted({row.organization_id for row in people.values()
                              if row.organization_id is not None})
            orgs = {row.id: _organization(row) for start in range(0, len(org_ids), ID_CHUNK)
                    for row in conn.execute(select(organizations).where(
                        organizations.c.account_id == self.account,
                        organizations.c.id.in_(org_ids[start:start + ID_CHUNK])))}
            present = [user_id for user_id in dict.fromkeys(user_ids) if user_id in people]
            owned: dict[int, list[Any]] = {user_id: [] for user_id in present}
            for start in range(0, len(present), ID_CHUNK):
                for row in conn.execute(select(tickets).where(
                        tickets.c.account_id == self.account,
                        tickets.c.requester_id.in_(present[start:start + ID_CHUNK]))):
                    owned[row.requester_id].append(row)
            ids = [row.id for rows in owned.values() for row in rows]
            rated = []
            # By the ratings' primary key, a chunk of ticket ids at a time: a join would let
            # SQLite scan every rating of the account for the customers read.
            for start in range(0, len(ids), ID_CHUNK):
                rated += conn.execute(select(ratings).where(
                    ratings.c.account_id == self.account,
                    ratings.c.ticket_id.in_(ids[start:start + ID_CHUNK]))).all()
        best = _best_ratings(rated)
        found = []
        for user_id in present:
            user = people[user_id]
            org = orgs.get(user.organization_id) if user.organization_id is not None else None
            found.append(CustomerHistory(profile=_profile(user, org), tickets=tuple(
                _ticket(row, best.get(row.id)) for row in owned[user_id])))
        return found

    def record_snapshot(self, user_id: int, *, value: float, tier: str, settings_version: int,
                        at: datetime, min_interval: timedelta) -> bool:
        """Keep a point of the customer's trend, unless one was kept less than `min_interval`
        ago with the same value; True when a point was written."""
        with self.engine.begin() as conn:
            last = conn.execute(select(snapshots.c.computed_at, snapshots.c.value).where(
                snapshots.c.account_id == self.account, snapshots.c.user_id == user_id
            ).order_by(snapshots.c.computed_at.desc()).limit(1)).first()
            if last is not None and last.value == value and (
                    as_utc(at) - as_utc(last.computed_at) < min_interval):
                return False
            self._upsert(conn, snapshots, [{
                "account_id": self.account, "user_id": user_id, "computed_at": as_utc(at),
                "value": value, "tier": tier, "settings_version": settings_version}])
            return True

    def trend(self, user_id: int, limit: int = 60) -> list[tuple[datetime, float]]:
        """The customer's latest snapshots, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(snapshots.c.computed_at, snapshots.c.value).where(
                snapshots.c.account_id == self.account, snapshots.c.user_id == user_id
            ).order_by(snapshots.c.computed_at.desc()).limit(limit)).all()
        return [(as_utc(row.computed_at), row.value) for row in reversed(rows)]

    def record_feedback(self, *, user_id: int, ticket_id: int | None, suggestion: str,
                        outcome: str, agent_id: int, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(suggestion_feedback.insert().values(
                account_id=self.account, user_id=user_id, ticket_id=ticket_id,
                suggestion=suggestion, outcome=outcome, agent_id=agent_id, created_at=as_utc(at)))

    def recent_tickets(self, limit: int) -> list[dict[str, Any]]:
        """The latest tickets with their requesters' names, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(
                tickets.c.id, tickets.c.subject, tickets.c.status, tickets.c.requester_id,
                tickets.c.created_at, users.c.name).join(users, and_(
                    users.c.account_id == tickets.c.account_id,
                    users.c.id == tickets.c.requester_id)).where(
                tickets.c.account_id == self.account).order_by(
                tickets.c.created_at.desc()).limit(limit)).all()
        return [dict(row._mapping, created_at=as_utc(row.created_at)) for row in rows]

    def recent_requesters(self, limit: int) -> list[int]:
        """Requesters by their latest ticket, newest first."""
        with self.engine.connect() as conn:
            latest = func.max(tickets.c.created_at)
            return list(conn.execute(select(tickets.c.requester_id).where(
                tickets.c.account_id == self.account).group_by(tickets.c.requester_id)
                .order_by(latest.desc()).limit(limit)).scalars())

    def synced_at(self, streams: Iterable[str]) -> datetime | None:
        """When any of `streams` last saved a page (by any sync: periodic or a command)."""
        with self.engine.connect() as conn:
            return as_utc(conn.execute(select(func.max(sync_state.c.updated_at)).where(
                sync_state.c.account_id == self.account,
                sync_state.c.stream.in_(list(streams)))).scalar())

    def requesters_of(self, ticket_ids: Iterable[int]) -> set[int]:
        """The requesters of the given tickets (those the store knows)."""
        wanted, found = sorted(set(ticket_ids)), set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(select(tickets.c.requester_id).where(
                    tickets.c.account_id == self.account,
                    tickets.c.id.in_(wanted[start:start + 500]))).scalars())
        return found

    def crm_health(self, source: str) -> tuple[dict[str, int], int]:
        """The CRM's won deals by currency, and how many emails several contacts share."""
        with self.engine.connect() as conn:
            currencies = dict(conn.execute(select(crm_deals.c.currency, func.count()).where(
                crm_deals.c.account_id == self.account, crm_deals.c.source == source,
                crm_deals.c.won.is_(True)).group_by(crm_deals.c.currency)).all())
            shared = select(crm_contact_emails.c.email).where(
                crm_contact_emails.c.account_id == self.account,
                crm_contact_emails.c.source == source).group_by(
                crm_contact_emails.c.email).having(
                func.count(crm_contact_emails.c.contact_id) > 1).subquery()
            duplicates = conn.execute(select(func.count()).select_from(shared)).scalar_one()
        return currencies, duplicates

    def open_ticket(self, user_id: int) -> int | None:
        """The customer's most recently created ticket that is not solved or closed."""
        with self.engine.connect() as conn:
            return conn.execute(select(tickets.c.id).where(
                tickets.c.account_id == self.account, tickets.c.requester_id == user_id,
                tickets.c.status.in_(("new", "open", "pending", "hold"))).order_by(
                tickets.c.created_at.desc()).limit(1)).scalar()

    def organization_members(self, organization_id: int, limit: int) -> list[int]:
        """Up to `limit` of the organization's people, by id."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(users.c.id).where(
                users.c.account_id == self.account, users.c.organization_id == organization_id)
                .order_by(users.c.id).limit(limit)).scalars())

    def user_ids(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(users.c.id).where(
                users.c.account_id == self.account).order_by(users.c.id)).scalars())

    def sample(self, settings: Settings | None = None, size: int = NORMS_SAMPLE
               ) -> list[CustomerHistory]:
        """The customers `plugin.core.norms` reads the account's norms from: the same sample
        it would draw from every history, read without loading the others."""
        chosen = heapq.nsmallest(size, self.user_ids(), key=sample_key)
        return self.histories_of(sorted(chosen), settings)

    def histories(self, settings: Settings | None = None) -> Iterator[CustomerHistory]:
        """Every stored customer's history (with stored CRM deals, as `history`), read
        HISTORY_BATCH customers at a time."""
        every = self.user_ids()
        for start in range(0, len(every), HISTORY_BATCH):
            yield from self.histories_of(every[start:start + HISTORY_BATCH], settings)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {table.name: conn.execute(select(func.count()).select_from(table).where(
                table.c.account_id == self.account)).scalar_one()
                for table in (organizations, users, tickets, ratings, crm_deals)}

    # --- rows ---------------------------------------------------------------------------

    def _upsert(self, conn, table: Table, rows: list[dict[str, Any]]) -> None:
        upsert_rows(conn, table, rows)

    def _save_embedded_ratings(self, conn, facts: list[Any]) -> None:
        rated = [f for f in facts if f.ticket.satisfaction is not None]
        unrated = [f.ticket.id for f in facts if f.ticket.satisfaction is None]
        if unrated:
            conn.execute(delete(ratings).where(
                ratings.c.account_id == self.account, ratings.c.source == "ticket",
                ratings.c.ticket_id.in_(unrated)))
        self._upsert(conn, ratings, [self._rating_row(f.ticket.id, f.ticket.satisfaction,
                                                      "ticket") for f in rated])

    def _org_row(self, org: Organization) -> dict[str, Any]:
        return {"account_id": self.account, "id": org.id, "name": org.name,
                "tags": list(org.tags), "fields": dict(org.fields)}

    def _user_row(self, fact: Any) -> dict[str, Any]:
        p = fact.profile
        return {"account_id": self.account, "id": p.id, "name": p.name, "email": p.email,
                "created_at": as_utc(p.created_at), "updated_at": as_utc(fact.updated_at),
                "tags": list(p.tags),
                "organization_id": fact.organization_id, "fields": dict(p.fields)}

    def _ticket_row(self, fact: Any) -> dict[str, Any]:
        t = fact.ticket
        return {"account_id": self.account, "id": t.id, "requester_id": fact.requester_id,
                "created_at": as_utc(t.created_at), "updated_at": as_utc(fact.updated_at),
                "solved_at": as_utc(t.solved_at), "status": t.status, "priority": t.priority,
                "channel": t.channel, "subject": t.subject, "tags": list(t.tags),
                "first_reply_minutes": t.first_reply_minutes,
                "resolution_minutes": t.resolution_minutes, "replies": t.replies,
                "reopens": t.reopens}

    def _deal_row(self, source: str, deal: DealFact) -> dict[str, Any]:
        p = deal.purchase
        return {"account_id": self.account, "source": source, "id": deal.id,
                "contact_id": deal.contact_id, "won": None if p is None else p.won,
                "amount": 0.0 if p is None else p.amount,
                "currency": "" if p is None else p.currency,
                "closed_at": None if p is None else as_utc(p.closed_at),
                "modified_at": as_utc(deal.modified)}

    def _rating_row(self, ticket_id: int, rating: Satisfaction, source: str) -> dict[str, Any]:
        return {"account_id": self.account, "ticket_id": ticket_id, "source": source,
                "scale": rating.scale, "score": rating.score, "comment": rating.comment,
                "category": rating.category or None, "rated_at": as_utc(rating.rated_at)}


def crm_stream(source: str) -> str:
    """The sync state marking the end of a CRM's last complete sync (its synced_through)."""
    return f"{source}_crm"


class StoredCrm:
    """A CRM's synced contacts and deals as a `CrmSource` (see `plugin.service_layer.crm`)."""

    def __init__(self, store: HistoryStore, source: str, synced: datetime):
        self.name = CRM_NAMES[source]
        self.synced_at = zulu(synced)
        self._store, self._source = store, source

    def contacts(self, email: str) -> list[CrmContact]:
        return self._store.crm_contacts(self._source, email)


class _KnownContacts:
    """A stored CRM's contacts for the emails of a batch of customers, read beforehand."""

    def __init__(self, stored: StoredCrm, contacts: dict[str, list[CrmContact]]):
        self.name, self.synced_at = stored.name, stored.synced_at
        self._contacts = contacts

    def contacts(self, email: str) -> list[CrmContact]:
        return list(self._contacts.get(email, []))


def _best_ratings(rows) -> dict[int, Satisfaction]:
    best: dict[int, tuple[int, Satisfaction]] = {}
    for row in rows:
        rank = RATING_SOURCES.index(row.source)
        if row.ticket_id not in best or rank > best[row.ticket_id][0]:
            best[row.ticket_id] = (rank, Satisfaction(
                scale=row.scale, score=row.score, comment=row.comment,
                rated_at=as_utc(row.rated_at), category=row.category or ""))
    return {ticket_id: rating for ticket_id, (_, rating) in best.items()}


def _profile(row, org: Organization | None) -> Profile:
    return Profile(id=row.id, name=row.name, email=row.email, created_at=as_utc(row.created_at),
                   tags=tuple(row.tags), organization=org, fields=dict(row.fields))


def _organization(row) -> Organization:
    return Organization(id=row.id, name=row.name, tags=tuple(row.tags), fields=dict(row.fields))


def _ticket(row, rating: Satisfaction | None) -> Ticket:
    return Ticket(id=row.id, created_at=as_utc(row.created_at), status=row.status,
                  priority=row.priority, channel=row.channel, subject=row.subject,
                  tags=tuple(row.tags), solved_at=as_utc(row.solved_at), satisfaction=rating,
                  first_reply_minutes=row.first_reply_minutes,
                  resolution_minutes=row.resolution_minutes, replies=row.replies,
                  reopens=row.reopens)
