"""The durable job queue and the tagging job.

huey stores jobs in SQLite by default (the instance folder) and in Redis when REDIS_URL is
set, for several workers on several machines. A job that hits a rate limit waits as long as
Zendesk asks; one that meets an outage retries with growing delays; one that keeps failing is
recorded in `failed_jobs` for admins to see, never dropped silently.

Job payloads are stored as JSON (`JsonSerializer`), not huey's default pickle: whoever can write
to the queue (Redis, `queue.db`) can then at most queue a job the app knows, with plain values,
never run code in the worker. The SQLite queue file is readable by its owner only.
"""

from __future__ import annotations

import json
import logging
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, Task
from huey.consumer import Consumer
from huey.exceptions import RetryTask
from huey.registry import Message
from huey.serializer import Serializer
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_RETRYING
from sqlalchemy.exc import DBAPIError

from integrations.errors import AuthFailed, IntegrationError, RateLimited, Unavailable
from plugin.core.domain import CRM_NAMES
from plugin.core.tagging import (
    CUSTOMERS,
    TICKETS,
    decide_customer,
    decide_for,
    tag_targets,
    tagging_refusal,
    with_changes,
)
from plugin.service_layer import alerts
from plugin.service_layer.account_sync import claim_due, run_claimed, run_first_sync
from plugin.service_layer.overview import keep
from plugin.service_layer.telemetry import JOBS
from plugin.storage.schema import private_file

log = logging.getLogger(__name__)

POLLING = {"initial_delay": 0.1, "backoff": 1.15, "max_delay": 1.0}
"""How an idle consumer polls the SQLite queue: never more than 1 s apart (huey's default, 10 s,
left a ticket untagged for seconds after a quiet spell). Redis is read with a blocking pop."""
OVERVIEW_MINUTES = 10
"""How often the worker refreshes each account's overview (and ends expired pins)."""
RETRIES = 8
BACKOFF_BASE = 5.0
BACKOFF_CAP = 600.0


class JsonSerializer(Serializer):
    """huey's messages (and its revocation marks) as JSON: a message is its fields in order,
    datetimes are ISO strings, and nothing else but JSON's own values passes either way (a job
    argument that is not one fails when queued, not in the worker)."""

    def _serialize(self, data: Any) -> bytes:
        return json.dumps(_plain(data), separators=(",", ":")).encode()

    def _deserialize(self, data: bytes) -> Any:
        return json.loads(data, object_hook=_revive)


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return {"$message": [_plain(part) for part in value]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_plain(part) for part in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value) or any(
                key.startswith("$") for key in value):
            raise TypeError("a queued mapping needs plain string keys")
        return {key: _plain(part) for key, part in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a {type(value).__name__} cannot be queued as JSON")


def _revive(value: dict[str, Any]) -> Any:
    if "$message" in value:
        fields = list(value["$message"])[:len(Message._fields)]
        named = dict(zip(Message._fields, fields, strict=False))
        named["args"] = tuple(named.get("args") or ())
        named["kwargs"] = named.get("kwargs") or {}
        if named.get("chord_config") is not None:
            named["chord_config"] = tuple(named["chord_config"])
        return Message(**named)
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    return value


def make_queue(app: Flask) -> Huey:
    """The app's queue, with its jobs registered; built once per app. Results are not kept
    (nothing reads them, and a failure's traceback stays in the logs)."""
    redis_url = app.config.get("REDIS_URL")
    options = {"serializer": JsonSerializer(), "results": False}
    if redis_url:
        huey: Huey = RedisHuey("customer-value", url=redis_url, **options)
    else:
        private_file(app.config["QUEUE_PATH"])
        huey = SqliteHuey("customer-value", filename=app.config["QUEUE_PATH"], **options)

    @huey.task(retries=RETRIES, context=True)
    def tag_ticket(account_key: str, ticket_id: int, requester_id: int,
                   invocation: str | None = None, task: Task = None):
        with app.app_context():
            apply_tags(app, account_key, ticket_id, requester_id, task)
            if invocation:
                try:
                    app.extensions["customer_value"].finish_delivery(account_key, invocation)
                except DBAPIError as error:  # the tags are written; a retry writes nothing
                    raise later(task, error) from error

    @huey.signal(SIGNAL_COMPLETE, SIGNAL_RETRYING)
    def count(signal, task, exc=None):
        JOBS.labels(task.name, "done" if signal == SIGNAL_COMPLETE else "retried").inc()

    @huey.signal(SIGNAL_ERROR)
    def record_failure(signal, task, exc=None):
        if task.retries:
            return  # huey retries it and says so (SIGNAL_RETRYING)
        JOBS.labels(task.name, "failed").inc()
        if not task.name.endswith("tag_ticket"):
            return  # a sync job's failure is kept with its account's sync run
        with app.app_context():
            services = app.extensions["customer_value"]
            account, *arguments = task.args
            services.record_failed_job(account, task.name, list(arguments), exc)
            if len(arguments) > 2 and arguments[2]:
                services.finish_delivery(account, arguments[2])

    @huey.periodic_task(crontab(minute="*"))
    def sweep():
        with app.app_context():
            requeue_unfinished(app)

    @huey.task(retries=RETRIES, retry_delay=30)
    def first_sync(account_key: str):
        with app.app_context():
            try:
                run_first_sync(app.extensions["customer_value"], account_key, uuid.uuid4().hex,
                               forced_tags=bool(app.config.get("TAG_ALWAYS")),
                               lease=claim_lease(app))
            except AuthFailed as error:
                # Trying again will not help: the set-up page asks an admin to reconnect.
                log.warning("the first sync of %s stopped: %s", account_key, error)

    @huey.task()
    def sync_job(subdomain: str, claim: str):
        with app.app_context():
            run_claimed(app.extensions["customer_value"], subdomain, claim,
                        forced_tags=bool(app.config.get("TAG_ALWAYS")), lease=claim_lease(app))

    @huey.periodic_task(crontab(minute="*"))
    def schedule_syncs():
        with app.app_context():
            queue_due_syncs(app)

    @huey.periodic_task(crontab(minute=f"*/{OVERVIEW_MINUTES}"))
    def refresh_overviews():
        with app.app_context():
            keep_overviews(app.extensions["customer_value"])

    @huey.periodic_task(crontab(minute="30", hour="5"))
    def daily_alerts():
        with app.app_context():
            services = app.extensions["customer_value"]
            for account_key in services.account_keys():
                try:
                    alerts.daily(services, account_key)
                except Exception:  # one account's failure must not stop the others
                    log.exception("the alerts of %s could not be evaluated", account_key)

    huey.tag_ticket = tag_ticket
    huey.sync_job = sync_job
    huey.first_sync = first_sync
    return huey


def queue_due_syncs(app: Flask) -> list[str]:
    """Claim the accounts whose periodic sync is due and queue one sync job for each (any
    worker may run it; the claim keeps every other worker off the account meanwhile). An
    interval of 0 (CUSTOMER_VALUE_SYNC_INTERVAL_SECONDS) switches the periodic sync off."""
    every = float(app.config.get("SYNC_INTERVAL_SECONDS") or 0)
    if every <= 0:
        return []
    claim = uuid.uuid4().hex
    due = claim_due(app.extensions["customer_value"], claim, every=timedelta(seconds=every),
                    lease=claim_lease(app))
    for subdomain in due:
        app.extensions["queue"].sync_job(subdomain, claim)
    return due


def claim_lease(app: Flask) -> timedelta:
    """How long a periodic sync's claim holds without renewal (SYNC_CLAIM_SECONDS)."""
    return timedelta(seconds=app.config["SYNC_CLAIM_SECONDS"])


def keep_overviews(services) -> None:
    """End the pins that expired, then refresh every account's overview (the customers
    whose inputs changed, or everyone once a day)."""
    for account_key in services.account_keys():
        try:
            if services.overrides(services.store(account_key)).expire(services.clock()):
                services.cache.forget(account_key)
            keep(services, account_key)
        except Exception:  # one account's failure must not stop the others
            log.exception("the overview of %s could not be refreshed", account_key)


@contextmanager
def consumer_threads(huey: Huey, workers: int) -> Iterator[Consumer]:
    """Queue consumers as threads of this process while the block runs.

    huey's consumer takes over SIGINT and SIGTERM when it starts; here they are given back so
    the process hosting it (the app server, a test run) still stops on Ctrl-C or SIGTERM.
    """
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=True,
                        check_worker_health=False, **POLLING)
    consumer.start()
    for number in saved:
        signal.signal(number, _interrupt)
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for number, handler in saved.items():
            signal.signal(number, handler)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def requeue_unfinished(app: Flask) -> int:
    """Queue again every delivery whose job has not finished within REQUEUE_AFTER: a worker
    killed mid-job loses that job's queue entry, never the delivery. Jobs are idempotent (they
    only write what differs), so running one twice is harmless."""
    services = app.extensions["customer_value"]
    older_than = timedelta(seconds=app.config["REQUEUE_AFTER_SECONDS"])
    unfinished = services.unfinished_deliveries(older_than)
    for delivery in unfinished:
        app.extensions["queue"].tag_ticket(delivery.account_key, delivery.ticket_id,
                                           delivery.requester_id, delivery.invocation)
    return len(unfinished)


def requeue_failed(app: Flask) -> int:
    """Queue again every job that ran out of retries (after the outage that failed it is
    over), removing it from the failed jobs in the same transaction."""
    queue = app.extensions["queue"]
    return app.extensions["customer_value"].deliveries.requeue_failures(
        lambda job: job.endswith("tag_ticket"),
        lambda failed: queue.tag_ticket(failed.account_key, *failed.arguments))


def apply_tags(app: Flask, account_key: str, ticket_id: int, requester_id: int,
               task: Task | None) -> None:
    """Score the requester (through the cache), decide the ticket's tier tag with hysteresis,
    and write only the change, adding and removing in one update; with the settings'
    `tag_user`, also the requester's user tag and value and tier fields (only what differs).

    A value computed without the CRM spend the settings ask for (`crm_degraded`: the CRM
    failed and no synced deals stood in) is computed once more, then, if still degraded, the
    job is retried later like an outage, within the same bounded retries: tagging on it could
    take `cv_high` from a valuable customer."""
    services = app.extensions["customer_value"]
    config = services.config_for(account_key)
    try:
        settings = services.settings_for(services.store(config.base_url))
        refused = tagging_refusal(settings, forced=bool(app.config.get("TAG_ALWAYS")))
        if refused is not None:
            log.info("ticket %s of %s not tagged: %s", ticket_id, account_key, refused)
            return
        value = services.value(config, requester_id, ticket_id, mode="background").result.value
        if value.crm_degraded:
            value = services.value(config, requester_id, ticket_id, refresh=True,
                                   mode="background").result.value
        if value.crm_degraded:
            crm = CRM_NAMES.get(settings.spend_source, "CRM")
            raise Unavailable(f"the CRM spend of requester {requester_id} is unavailable; "
                              "tags wait for it", service=crm)
        client = services.client(config)
        services.check_alerts(config, value, ticket_id)
        targets = tag_targets(settings)
        if TICKETS in targets:
            decision = decide_for(value, client.ticket_tags(ticket_id), settings)
            if decision.changes:
                job = client.wait_for(client.update_tags([ticket_id], add=list(decision.add),
                                                         remove=list(decision.remove)))
                if job.failed:
                    log.warning("Zendesk refused to tag ticket %s", ticket_id)
        if CUSTOMERS in targets:
            fact, _ = client.user(requester_id)
            write = decide_customer(value, fact.profile.tags, fact.profile.fields, settings)
            if write.changes:
                client.update_user(requester_id, fields=dict(write.fields),
                                   tags=with_changes(fact.profile.tags, write))
    except RateLimited as error:
        # Not a failure: wait as long as Zendesk asks, without using up a retry.
        raise RetryTask(delay=error.retry_after) from error
    except (IntegrationError, DBAPIError) as error:
        # An outage of Zendesk, the CRM or the app's own database (a PostgreSQL restart):
        # huey's own retries would come back at once and be spent within the outage.
        raise later(task, error) from error


def later(task: Task | None, error: Exception) -> RetryTask:
    """The retry of a job that met an outage: one of its bounded retries spent, after a delay
    growing with each attempt (huey counts a RetryTask as free, so it is spent here); the
    error itself once the retries are used up (then the job is kept in `failed_jobs`)."""
    if task is None or task.retries <= 0:
        raise error
    task.retries -= 1
    attempt = RETRIES - task.retries
    return RetryTask(delay=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt))
