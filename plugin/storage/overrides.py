"""Tier overrides and their history: every pin, change, end and expiry, with who did it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from plugin.core.overrides import TierOverride
from plugin.core.times import as_utc
from plugin.storage import changes
from plugin.storage.schema import override_events, overrides

EXPIRED_BY = "expired"


@dataclass(frozen=True)
class OverrideEvent:
    override_id: int
    action: str
    """`pin`, `change`, `end` or `expire`."""
    tier: str
    reason: str
    expires_at: datetime
    actor_id: int
    actor_name: str
    at: datetime


class OverrideStore:
    def __init__(self, engine: Engine, account: int,
                 changed: Callable[[], None] | None = None):
        """`changed` is called after each committed pin, change, end or expiry."""
        self.engine = engine
        self.account = account
        self._changed = changed or (lambda: None)

    def pin(self, subject: str, subject_id: int, *, tier: str, reason: str,
            expires_at: datetime, actor_id: int, actor_name: str, now: datetime
            ) -> TierOverride:
        """Pin a tier; a subject already pinned has its pin changed (one active pin each)."""
        with self.engine.begin() as conn:
            current = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account, overrides.c.subject == subject,
                overrides.c.subject_id == subject_id, overrides.c.ended_at.is_(None),
                overrides.c.expires_at > as_utc(now))).first()
            values = {"tier": tier, "reason": reason, "expires_at": as_utc(expires_at)}
            if current is None:
                override_id = conn.execute(overrides.insert().values(
                    account_id=self.account, subject=subject, subject_id=subject_id,
                    created_by=actor_id, created_by_name=actor_name[:200],
                    created_at=as_utc(now), **values)).inserted_primary_key[0]
                action = "pin"
            else:
                override_id = current.id
                conn.execute(overrides.update().where(overrides.c.id == override_id)
                             .values(**values))
                action = "change"
            self._event(conn, override_id, action, values, actor_id, actor_name, now)
        self._changed()
        found = self.get(override_id)
        assert found is not None
        return found

    def end(self, override_id: int, *, actor_id: int, actor_name: str, now: datetime
            ) -> TierOverride | None:
        """End a pin early; None when there is no such active pin."""
        with self.engine.begin() as conn:
            row = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account, overrides.c.id == override_id,
                overrides.c.ended_at.is_(None))).first()
            if row is None:
                return None
            conn.execute(overrides.update().where(overrides.c.id == override_id)
                         .values(ended_at=as_utc(now)))
            self._event(conn, override_id, "end", _values(row), actor_id, actor_name, now)
        self._changed()
        return self.get(override_id)

    def expire(self, now: datetime) -> list[TierOverride]:
        """Close every pin whose expiry has passed, recording its end; the ones closed."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account, overrides.c.ended_at.is_(None),
                overrides.c.expires_at <= as_utc(now))).all()
            for row in rows:
                conn.execute(overrides.update().where(overrides.c.id == row.id)
                             .values(ended_at=row.expires_at))
                self._event(conn, row.id, "expire", _values(row), 0, EXPIRED_BY,
                            as_utc(row.expires_at))
        if rows:
            self._changed()
        return [self.get(row.id) for row in rows]

    def stamp(self) -> int:
        """The account's overrides version: the latest pin event's id (0 before any). Every
        pin, change, end and expiry records one, so a value computed under an older stamp
        is out of date, in whichever process it was computed."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(override_events.c.id)).where(
                override_events.c.account_id == self.account)).scalar() or 0

    def get(self, override_id: int) -> TierOverride | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account,
                overrides.c.id == override_id)).first()
        return _override(row) if row is not None else None

    def for_customer(self, user_id: int, organization_id: int | None, now: datetime
                     ) -> list[TierOverride]:
        """The active pins of a customer and of their organization."""
        subject = overrides.c.subject
        whose = and_(subject == "user", overrides.c.subject_id == user_id)
        if organization_id is not None:
            whose = or_(whose, and_(subject == "organization",
                                    overrides.c.subject_id == organization_id))
        with self.engine.connect() as conn:
            rows = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account, whose, overrides.c.ended_at.is_(None),
                overrides.c.expires_at > as_utc(now))).all()
        return [_override(row) for row in rows]

    def active(self, now: datetime) -> list[TierOverride]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(overrides).where(
                overrides.c.account_id == self.account, overrides.c.ended_at.is_(None),
                overrides.c.expires_at > as_utc(now)).order_by(overrides.c.id.desc())).all()
        return [_override(row) for row in rows]

    def events(self, override_id: int | None = None, limit: int = 200) -> list[OverrideEvent]:
        """What happened to the pins (one pin's, or the account's), newest first."""
        query = select(override_events).where(override_events.c.account_id == self.account)
        if override_id is not None:
            query = query.where(override_events.c.override_id == override_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(override_events.c.id.desc()).limit(limit)).all()
        return [OverrideEvent(row.override_id, row.action, row.tier, row.reason,
                              as_utc(row.expires_at), row.actor_id, row.actor_name,
                              as_utc(row.at)) for row in rows]

    def _event(self, conn, override_id: int, action: str, values: dict[str, Any],
               actor_id: int, actor_name: str, now: datetime) -> None:
        """Record what happened to a pin, and mark the customers it covers changed (their
        overview row shows their tier)."""
        pinned = conn.execute(select(overrides.c.subject, overrides.c.subject_id).where(
            overrides.c.id == override_id)).one()
        changes.mark(conn, self.account, [pinned.subject_id] if pinned.subject == "user"
                     else changes.members(conn, self.account, [pinned.subject_id]), now)
        conn.execute(override_events.insert().values(
            account_id=self.account, override_id=override_id, action=action,
            tier=values["tier"], reason=values["reason"],
            expires_at=as_utc(values["expires_at"]), actor_id=actor_id,
            actor_name=actor_name[:200], at=as_utc(now)))


def _values(row) -> dict[str, Any]:
    return {"tier": row.tier, "reason": row.reason, "expires_at": row.expires_at}


def _override(row) -> TierOverride:
    return TierOverride(
        id=row.id, subject=row.subject, subject_id=row.subject_id, tier=row.tier,
        reason=row.reason, expires_at=as_utc(row.expires_at), created_by=row.created_by,
        created_by_name=row.created_by_name, created_at=as_utc(row.created_at),
        ended_at=as_utc(row.ended_at) if row.ended_at is not None else None)
