"""What the app counts and how it logs: Prometheus metrics and JSON log lines.

Metrics: requests answered and their latency (counted by `plugin.web.observability`), requests
to Zendesk and the CRMs with their waits before retries (hooked into the transport by
`watch_upstream`, which the composition root calls), and queue jobs by outcome. Log lines
never carry query strings, headers or bodies, and `redact` masks anything shaped like a token
that a message might still contain.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context
from prometheus_client import Counter, Histogram, disable_created_metrics

from integrations import http

disable_created_metrics()  # the *_created series say when a process started counting: noise

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("customer_value_http_requests_total", "HTTP requests answered.",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("customer_value_http_request_seconds", "Time to answer a request.",
                    ["endpoint"], buckets=LATENCY_BUCKETS)
UPSTREAM = Counter("customer_value_upstream_requests_total",
                   "Requests sent to Zendesk and the CRMs, by answer (none: no answer).",
                   ["service", "method", "status"])
UPSTREAM_LATENCY = Histogram("customer_value_upstream_request_seconds",
                             "Time Zendesk and the CRMs took to answer.", ["service"],
                             buckets=LATENCY_BUCKETS)
UPSTREAM_WAITS = Counter("customer_value_upstream_wait_seconds_total",
                         "Seconds spent waiting before a retry (Retry-After of a 429, or "
                         "backoff after a failure).", ["service"])
JOBS = Counter("customer_value_jobs_total", "Queue jobs finished, by outcome.",
               ["task", "outcome"])


def _on_upstream(service: str, method: str, status: int | None, seconds: float) -> None:
    UPSTREAM.labels(service, method, str(status) if status is not None else "none").inc()
    UPSTREAM_LATENCY.labels(service).observe(seconds)


def _on_wait(service: str, seconds: float) -> None:
    UPSTREAM_WAITS.labels(service).inc(seconds)


def watch_upstream() -> None:
    """Count every request to Zendesk and the CRMs, and every wait before a retry (the
    transport calls these hooks; registering twice changes nothing)."""
    http.observe(_on_upstream, _on_wait)


SECRET_SHAPES = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"(/rest/\d+/)[A-Za-z0-9]{6,}"), r"\1[redacted]"),
    (re.compile(r"(?i)((?:token|secret|password|api_key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
     r"\1[redacted]"),
)


SECRET_HINTS = ("eyj", "bearer", "basic", "/rest/", "token", "secret", "password", "api_key")
"""Text every shape above contains, lower-cased: an ASCII message with none of them (each
request's own log line) has nothing to mask and skips the patterns. Others go through them
all, since case-blind matching pairs some non-ASCII letters with ASCII ones (K, the Kelvin
sign)."""


def redact(message: str) -> str:
    if message.isascii():
        lowered = message.lower()
        if not any(hint in lowered for hint in SECRET_HINTS):
            return message
    for pattern, replacement in SECRET_SHAPES:
        message = pattern.sub(replacement, message)
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's id and
    account when the line was written while answering one."""

    FIELDS = ("method", "path", "status", "ms", "task", "ticket_id")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": redact(record.getMessage())}
        if has_request_context():
            context = g._get_current_object()
            entry["request_id"] = getattr(context, "request_id", None)
            if getattr(context, "account", None):
                entry["account"] = context.account
        for name in self.FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class LineHandler(logging.Handler):
    """Each record as one line on a stream, written with one system call on its file
    descriptor: the line is formatted outside any lock and the handler takes none, so the
    threads answering requests never queue behind each other's log lines (with a lock around
    formatting and writing, as `logging.StreamHandler` has, that queue was most of the cost of
    logging under load: docs/benchmarks.md). A line under the pipe's atomic size (4,096 bytes
    on Linux, far above a request's line) reaches a shared pipe whole. A stream without a file
    descriptor (a test's capture) is written under a lock instead."""

    terminator = "\n"

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stderr
        self._fallback = threading.Lock()

    def createLock(self) -> None:  # noqa: N802 (logging's name)
        self.lock = None  # acquire() and release() do nothing without one

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            try:
                descriptor = self.stream.fileno()
            except (AttributeError, OSError, ValueError):
                with self._fallback:
                    self.stream.write(line)
                    self.stream.flush()
                return
            data = line.encode("utf-8", "backslashreplace")
            while data:
                data = data[os.write(descriptor, data):]
        except Exception:
            self.handleError(record)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for the app's and its integrations' loggers."""
    handler = LineHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("customer_value", "plugin", "integrations", "huey"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
