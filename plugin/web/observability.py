"""What operators watch over HTTP: health and readiness, Prometheus metrics, request logs.

- `GET /healthz`: the process answers (liveness). `GET /readyz`: the database answers and its
  schema is current, and the queue answers (readiness); a JSON 503 names what is not ready.
- `GET /metrics`: Prometheus' text format. Under `customer-value serve` every worker process
  writes its samples to `PROMETHEUS_MULTIPROC_DIR` and the answer adds them up. Open to
  loopback clients (not through a proxy: a request with forwarding headers counts as remote),
  or to anyone sending `Authorization: Bearer <CUSTOMER_VALUE_METRICS_TOKEN>`.
- Every request gets an id (a sane `X-Request-Id` from the proxy, else a new one), sent back
  in the answer and written with the account into one JSON log line per request. Log lines
  never carry query strings, headers or bodies, and `Redactor` masks anything shaped like a
  token that a message might still contain.
"""

from __future__ import annotations

import contextlib
import hmac
import itertools
import logging
import os
import re
import time

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
)
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from plugin.service_layer.account_sync import all_statuses
from plugin.service_layer.telemetry import LATENCY, REQUESTS

log = logging.getLogger("customer_value.requests")
bp = Blueprint("observability", __name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other a client makes up is counted as `other`, so labels stay
few (route patterns, not paths, for the same reason)."""
UNLOGGED = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes, every few seconds from load balancers and Prometheus: counted in the
metrics, left out of the log."""


class RequestIds:
    """Ids for requests that bring none: 32 hex digits, a random half per process (drawn again
    in a forked child) and a counter, so ids never repeat without a system call per request."""

    def __init__(self) -> None:
        self._renew()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_request_id = RequestIds()


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def set_account(account: str) -> None:
    """Name the Zendesk account the current request acts for, for its log line."""
    g.account = account


def _start() -> None:
    # The request and g looked up once: each use of Flask's proxies is a context lookup.
    context, current = g._get_current_object(), request._get_current_object()
    context.started = time.perf_counter()
    given = current.headers.get("X-Request-Id", "")
    context.request_id = given if REQUEST_ID.match(given) else new_request_id()


def _finish(response: Response) -> Response:
    context, current = g._get_current_object(), request._get_current_object()
    seconds = time.perf_counter() - getattr(context, "started", time.perf_counter())
    rule = current.url_rule
    endpoint = rule.rule if rule is not None else "unmatched"
    method, status = current.method, response.status_code
    REQUESTS.labels(method if method in METHODS else "other", endpoint, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)
    response.headers["X-Request-Id"] = getattr(context, "request_id", "")
    if endpoint not in UNLOGGED:
        path = current.path
        log.info("%s %s %s", method, path, status, extra={
            "method": method, "path": path, "status": status, "ms": round(seconds * 1000, 2)})
    return response


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {"database": _database_ready(), "queue": _queue_ready()}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _database_ready() -> str:
    from plugin.storage.migrations import current_revision, head_revision

    try:
        with current_app.extensions["customer_value"].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = current_revision(connection)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", said in the answer
        return f"unreachable: {type(error).__name__}"
    head = head_revision()
    return "ok" if revision == head else f"schema at {revision}, code expects {head}"


def _queue_ready() -> str:
    try:
        current_app.extensions["queue"].pending_count()
    except Exception as error:  # noqa: BLE001 - as above
        return f"unreachable: {type(error).__name__}"
    return "ok"


@bp.get("/metrics")
def metrics():
    _authorize_scrape()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    live = CollectorRegistry()
    live.register(_LiveGauges(current_app._get_current_object()))
    return Response(body + generate_latest(live), mimetype=CONTENT_TYPE_LATEST)


def _authorize_scrape() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return
    if not token and request.remote_addr in ("127.0.0.1", "::1") and not _forwarded():
        return
    abort(403, "metrics are open to loopback clients or with the metrics token")


def _forwarded() -> bool:
    """Whether a proxy passed the request on: then the loopback address is the proxy's, and
    the client is somewhere else."""
    return any(name in request.headers for name in ("X-Forwarded-For", "Forwarded",
                                                     "X-Real-Ip"))


class _LiveGauges:
    """Gauges read when scraped, from what every process shares: the queue and the database."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        depth = GaugeMetricFamily("customer_value_queue_depth", "Jobs waiting in the queue.")
        with contextlib.suppress(Exception):  # an unreachable queue: a missing sample
            depth.add_metric([], self.app.extensions["queue"].pending_count())
        yield depth
        failed = GaugeMetricFamily("customer_value_failed_jobs",
                                   "Jobs that failed for good and await a requeue.")
        failed.add_metric([], self.app.extensions["customer_value"].deliveries.failed_count())
        yield failed
        yield from _sync_gauges(self.app.extensions["customer_value"])


def _sync_gauges(services):
    """Each installed account's periodic sync: when it last succeeded and how far behind."""
    success = GaugeMetricFamily(
        "customer_value_sync_last_success_timestamp_seconds",
        "When each account's periodic sync last succeeded (Unix time).", labels=["account"])
    lag = GaugeMetricFamily(
        "customer_value_sync_lag_seconds",
        "Seconds since each account's periodic sync last succeeded.", labels=["account"])
    running = GaugeMetricFamily("customer_value_sync_running",
                                "1 while an account's sync holds its claim.", labels=["account"])
    for account, status in all_statuses(services, services.clock()).items():
        running.add_metric([account], 1.0 if status["running"] else 0.0)
        if status["last_success"] is not None:
            success.add_metric([account], status["last_success"].timestamp())
            lag.add_metric([account], status["lag_seconds"])
    yield from (success, lag, running)
