"""The set-up's OAuth `state` values: each bound to the browser session that asked for it,
good once and for a few minutes (RFC 6749 §10.12: the state ties the authorization answer to
the user agent that started it). Only SHA-256 hashes are kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from plugin.core.times import as_utc
from plugin.storage.schema import setup_states

STATE_LIFETIME = timedelta(minutes=10)


class StateRefused(Exception):
    """The state is unknown, spent, expired or another session's."""


@dataclass(frozen=True)
class PendingSetup:
    subdomain: str
    app_id: int | None
    installation_id: int | None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SetupStates:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, state: str, pending: PendingSetup, *, session_key: str,
               now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(setup_states.insert().values(
                state_hash=_hash(state), subdomain=pending.subdomain, app_id=pending.app_id,
                installation_id=pending.installation_id, session_hash=_hash(session_key),
                expires_at=as_utc(now + STATE_LIFETIME)))

    def take(self, state: str, *, session_key: str, now: datetime) -> PendingSetup:
        """Spend the state (once): the set-up it started, or StateRefused saying why."""
        key = _hash(state)
        with self.engine.begin() as conn:
            row = conn.execute(select(setup_states).where(
                setup_states.c.state_hash == key)).first()
            if row is None:
                raise StateRefused("this set-up link is not known; start the set-up again")
            if row.used_at is not None:
                raise StateRefused("this set-up link was used already; start the set-up again")
            if row.session_hash != _hash(session_key):
                raise StateRefused("this set-up was started in another browser session")
            if as_utc(row.expires_at) < now:
                raise StateRefused("this set-up link has expired; start the set-up again")
            spent = conn.execute(update(setup_states).where(
                setup_states.c.state_hash == key, setup_states.c.used_at.is_(None))
                .values(used_at=as_utc(now)))
            if spent.rowcount != 1:
                raise StateRefused("this set-up link was used already; start the set-up again")
        return PendingSetup(row.subdomain, row.app_id, row.installation_id)
