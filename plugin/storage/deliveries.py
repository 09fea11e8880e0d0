"""Webhook deliveries and the jobs that ran out of retries: the tagging queue's durable record.

A delivery row is written when Zendesk's call is accepted, before the job is queued, and
marked done when the job finishes (or gives up): a worker killed mid-job loses its queue entry,
never the delivery, and the sweep queues it again. A job that keeps failing is kept in
`failed_jobs` for admins to list and queue again once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from plugin.core.times import as_utc
from plugin.storage.schema import accounts, failed_jobs, webhook_deliveries

ERROR_CHARS = 1000
"""How much of a failed job's error is kept."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery whose job has not finished: what to queue again."""

    account_key: str
    invocation: str
    ticket_id: int
    requester_id: int


@dataclass(frozen=True, slots=True)
class FailedJob:
    account_key: str
    job: str
    arguments: list[Any]


class Deliveries:
    """Every account's deliveries and failed jobs (rows keyed by account id)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def first(self, account: int, invocation: str, *, ticket_id: int, requester_id: int,
              now: datetime, signature_digest: str | None = None) -> bool:
        """Record a delivery (the durable copy of its job); False if it was seen before, under
        this invocation id or with this signature (a replay of the same signed call)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(webhook_deliveries.insert().values(
                    account_id=account, invocation_id=invocation, received_at=as_utc(now),
                    ticket_id=ticket_id, requester_id=requester_id,
                    signature_digest=signature_digest))
        except IntegrityError:
            return False
        return True

    def finish(self, account: int, invocation: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries).where(
                webhook_deliveries.c.account_id == account,
                webhook_deliveries.c.invocation_id == invocation).values(done_at=as_utc(now)))

    def unfinished(self, older_than: timedelta, now: datetime) -> list[Delivery]:
        """Deliveries received before now − `older_than` whose job never finished, marked as
        received now so that the next sweep waits for the requeued job."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(
                accounts.c.key, webhook_deliveries.c.account_id, webhook_deliveries.c.invocation_id,
                webhook_deliveries.c.ticket_id, webhook_deliveries.c.requester_id).join(
                accounts, accounts.c.id == webhook_deliveries.c.account_id).where(
                webhook_deliveries.c.done_at.is_(None),
                webhook_deliveries.c.received_at < as_utc(now - older_than))).all()
            for row in rows:
                conn.execute(update(webhook_deliveries).where(
                    webhook_deliveries.c.account_id == row.account_id,
                    webhook_deliveries.c.invocation_id == row.invocation_id).values(
                    received_at=as_utc(now)))
        return [Delivery(row.key, row.invocation_id, row.ticket_id, row.requester_id)
                for row in rows]

    def record_failure(self, account: int, job: str, arguments: list[Any],
                       error: BaseException | None, now: datetime) -> None:
        """Keep a job that ran out of retries where admins can see it."""
        with self.engine.begin() as conn:
            conn.execute(failed_jobs.insert().values(
                account_id=account, job=job, arguments=arguments,
                error=f"{type(error).__name__}: {error}"[:ERROR_CHARS] if error else "unknown",
                failed_at=as_utc(now)))

    def failures(self, account: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(failed_jobs).where(
                failed_jobs.c.account_id == account).order_by(failed_jobs.c.id)).all()
        return [dict(row._mapping) for row in rows]

    def failed_count(self) -> int:
        """Failed jobs of every account, awaiting a requeue."""
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(failed_jobs)) or 0

    def requeue_failures(self, which: Callable[[str], bool],
                         queue: Callable[[FailedJob], None]) -> int:
        """Hand every failed job whose name passes `which` to `queue`, removing it from the
        failed jobs in the same transaction (a queueing error leaves them all in place)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(
                failed_jobs.c.id, failed_jobs.c.job, failed_jobs.c.arguments, accounts.c.key
            ).join(accounts, accounts.c.id == failed_jobs.c.account_id).order_by(
                failed_jobs.c.id)).all()
            chosen = [row for row in rows if which(row.job)]
            for row in chosen:
                queue(FailedJob(row.key, row.job, list(row.arguments)))
                conn.execute(delete(failed_jobs).where(failed_jobs.c.id == row.id))
        return len(chosen)
