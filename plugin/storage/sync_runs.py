"""Each account's periodic sync: who holds it now, when it last ran and how it ended.

A worker may sync an account only after claiming it, and a claim is one conditional UPDATE
(the account is due and nobody holds an unexpired claim), so two workers on two machines
never sync one account at once: on PostgreSQL the second UPDATE waits for the first and then
finds the row claimed; SQLite runs writes one at a time. A claim expires (`lease`) unless its
worker renews it while the sync runs, so an account whose worker died (a SIGKILL, a lost
machine) is taken up again one lease later, however long a healthy sync takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from plugin.core.times import as_utc
from plugin.storage.schema import sync_runs


@dataclass(frozen=True)
class SyncRun:
    account: int
    claimed_by: str | None
    started_at: datetime | None
    finished_at: datetime | None
    succeeded_at: datetime | None
    error: str | None


class SyncRuns:
    def __init__(self, engine: Engine):
        self.engine = engine

    def claim(self, account: int, worker: str, now: datetime, *, every: timedelta,
              lease: timedelta) -> bool:
        """Take the account's sync if it is due (never run, or finished `every` ago) and
        nobody holds it; True when this worker now holds it until `now + lease`."""
        now = as_utc(now)
        with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(sync_runs).values(account_id=account)
                         .on_conflict_do_nothing(index_elements=["account_id"]))
            taken = conn.execute(update(sync_runs).where(
                sync_runs.c.account_id == account,
                or_(sync_runs.c.claimed_until.is_(None), sync_runs.c.claimed_until < now),
                or_(sync_runs.c.finished_at.is_(None), sync_runs.c.finished_at <= now - every),
            ).values(claimed_by=worker, claimed_until=now + lease, started_at=now))
            return taken.rowcount == 1

    def renew(self, account: int, worker: str, now: datetime, *, lease: timedelta) -> bool:
        """Extend this worker's claim to `now + lease`; False when it no longer holds it."""
        with self.engine.begin() as conn:
            return conn.execute(update(sync_runs).where(
                sync_runs.c.account_id == account, sync_runs.c.claimed_by == worker,
            ).values(claimed_until=as_utc(now) + lease)).rowcount == 1

    def finish(self, account: int, worker: str, now: datetime, error: str | None = None
               ) -> None:
        """Release the claim and record how the run ended (an error keeps the last success)."""
        values = {"claimed_by": None, "claimed_until": None, "finished_at": as_utc(now),
                  "error": error}
        if error is None:
            values["succeeded_at"] = as_utc(now)
        with self.engine.begin() as conn:
            conn.execute(update(sync_runs).where(and_(
                sync_runs.c.account_id == account, sync_runs.c.claimed_by == worker))
                .values(**values))

    def get(self, account: int) -> SyncRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_runs).where(
                sync_runs.c.account_id == account)).first()
        return _run(row) if row is not None else None

    def all(self) -> list[SyncRun]:
        with self.engine.connect() as conn:
            return [_run(row) for row in conn.execute(
                select(sync_runs).order_by(sync_runs.c.account_id))]


def _run(row) -> SyncRun:
    return SyncRun(account=row.account_id, claimed_by=row.claimed_by,
                   started_at=row.started_at and as_utc(row.started_at),
                   finished_at=row.finished_at and as_utc(row.finished_at),
                   succeeded_at=row.succeeded_at and as_utc(row.succeeded_at),
                   error=row.error)
