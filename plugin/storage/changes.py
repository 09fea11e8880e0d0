"""The customers whose overview row is out of date: marked by the writes that changed what
their value is computed from (a sync's page of users, organizations, tickets or ratings, a CRM
page, a pin), in the write's own transaction, and cleared by the refresh that scored them
again. The overview's incremental refresh reads these marks instead of scoring everyone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, delete, or_, select

from plugin.core.times import as_utc
from plugin.storage.schema import (
    crm_contact_emails,
    crm_deals,
    customer_changes,
    tickets,
    upsert_rows,
    users,
)

CHUNK = 500


def mark(conn: Connection, account: int, user_ids: Iterable[int], now: datetime) -> int:
    """Mark these customers changed as of `now` (a later mark replaces an earlier); how many."""
    wanted = sorted(set(user_ids))
    for start in range(0, len(wanted), CHUNK):
        upsert_rows(conn, customer_changes, [
            {"account_id": account, "user_id": user_id, "changed_at": as_utc(now)}
            for user_id in wanted[start:start + CHUNK]])
    return len(wanted)


def requesters(conn: Connection, account: int, ticket_ids: Iterable[int]) -> set[int]:
    """The stored requesters of these tickets."""
    wanted, found = sorted(set(ticket_ids)), set()
    for start in range(0, len(wanted), CHUNK):
        found.update(conn.execute(select(tickets.c.requester_id).where(
            tickets.c.account_id == account,
            tickets.c.id.in_(wanted[start:start + CHUNK]))).scalars())
    return found


def members(conn: Connection, account: int, organization_ids: Iterable[int]) -> set[int]:
    """The stored people of these organizations."""
    wanted, found = sorted(set(organization_ids)), set()
    for start in range(0, len(wanted), CHUNK):
        found.update(conn.execute(select(users.c.id).where(
            users.c.account_id == account,
            users.c.organization_id.in_(wanted[start:start + CHUNK]))).scalars())
    return found


def contacts_people(conn: Connection, account: int, source: str,
                    contact_ids: Iterable[str]) -> set[int]:
    """The stored customers whose e-mail one of these CRM contacts has (as stored now)."""
    wanted, emails = sorted(set(contact_ids)), set()
    for start in range(0, len(wanted), CHUNK):
        emails.update(conn.execute(select(crm_contact_emails.c.email).where(
            crm_contact_emails.c.account_id == account, crm_contact_emails.c.source == source,
            crm_contact_emails.c.contact_id.in_(wanted[start:start + CHUNK]))).scalars())
    return people_with(conn, account, emails)


def deals_people(conn: Connection, account: int, source: str, deal_ids: Iterable[str]
                 ) -> set[int]:
    """The stored customers these CRM deals (as stored now) belong to."""
    wanted, contacts = sorted(set(deal_ids)), set()
    for start in range(0, len(wanted), CHUNK):
        contacts.update(c for c in conn.execute(select(crm_deals.c.contact_id).where(
            crm_deals.c.account_id == account, crm_deals.c.source == source,
            crm_deals.c.id.in_(wanted[start:start + CHUNK]))).scalars() if c)
    return contacts_people(conn, account, source, contacts)


def people_with(conn: Connection, account: int, emails: Iterable[str]) -> set[int]:
    """The stored customers with one of these (normalised, lower-case) e-mails."""
    wanted, found = sorted(set(emails)), set()
    for start in range(0, len(wanted), CHUNK):
        found.update(conn.execute(select(users.c.id).where(
            users.c.account_id == account,
            users.c.email.in_(wanted[start:start + CHUNK]))).scalars())
    return found


class ChangeStore:
    """The refresh's side: the marks to act on, and clearing those it acted on."""

    def __init__(self, engine: Engine, account: int):
        self.engine = engine
        self.account = account

    def pending(self, limit: int | None = None) -> list[tuple[int, datetime]]:
        """Marked customers (up to `limit`), the longest waiting first, with their marks."""
        query = select(customer_changes.c.user_id, customer_changes.c.changed_at).where(
            customer_changes.c.account_id == self.account).order_by(
            customer_changes.c.changed_at, customer_changes.c.user_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query if limit is None else query.limit(limit)).all()
        return [(r.user_id, as_utc(r.changed_at)) for r in rows]

    def clear(self, marks: list[tuple[int, datetime]]) -> None:
        """Clear these marks, unless the customer was marked again since."""
        with self.engine.begin() as conn:
            for start in range(0, len(marks), CHUNK):
                conn.execute(delete(customer_changes).where(
                    customer_changes.c.account_id == self.account, or_(*[
                        and_(customer_changes.c.user_id == user_id,
                             customer_changes.c.changed_at <= as_utc(at))
                        for user_id, at in marks[start:start + CHUNK]])))
