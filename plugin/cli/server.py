"""The production server: the app under granian, plus (in the embedded set-up) a queue consumer.

`customer-value serve` builds an `AppServer` and runs it. granian (an HTTP server written in
Rust, WSGI interface) forks `workers` processes; each loads its own app (`served_app`, so its
own database pool, caches and Zendesk sessions) and runs it on `threads` Python threads, while
the HTTP work (parsing, keep-alive, writing answers) happens in Rust outside the interpreter
lock. What the processes share lives in the database (history, settings, installations,
deliveries) and in the queue; the value cache is per process by design: each process refreshes
a customer at most once per freshness window.

With the embedded queue (SQLite, no `REDIS_URL`) the server also starts one `customer-value
worker` child for the tagging jobs and stops it on the way out; with Redis, run `customer-value
worker` processes wherever they fit and start none here (`consumers=0`).

Prometheus metrics of every worker are gathered through prometheus_client's multiprocess mode:
each process writes its samples under `PROMETHEUS_MULTIPROC_DIR`, and `/metrics` adds them up.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import MPServer

log = logging.getLogger(__name__)

STOP_CONSUMER_SECONDS = 30.0
STOP_WORKER_SECONDS = 30
"""Seconds a worker has to finish the requests under way once asked to stop."""
SWITCH_INTERVAL = 0.0005
"""Seconds a worker thread may hold the interpreter lock while another waits for it
(`sys.setswitchinterval`; Python's default is 0.005). A warm sidebar request needs well under
a millisecond of CPU; at the default, a thread with an answer ready can wait up to 5 ms behind
another thread's request, which is most of the tail latency with several threads per process
(docs/benchmarks.md)."""

LOG_CONFIG = {
    "formatters": {"json": {"()": "plugin.service_layer.telemetry.JsonFormatter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {name: {"handlers": ["json"], "level": "INFO", "propagate": False}
                for name in ("_granian", "granian.access")},
}
"""granian's own lines (start, workers, stop, access log) as JSON lines on standard error, as
the app's are."""


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    """Processes answering requests."""
    threads: int = 4
    """Requests each process answers at once."""
    consumers: int = 0
    """Queue consumer threads in a `worker` child of the server (0: none)."""
    header_timeout: int = 30
    """Seconds a connection may take to send a request's headers (idle keep-alive included)."""
    access_log: bool = False


def served_app():
    """What each worker process serves: `create_app()`, built after the fork (nothing is
    imported before it that would share a database connection between processes)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    from plugin import create_app

    return create_app()


class AppServer:
    """The workers of `options`, and the queue consumer beside them while they run."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.consumer: subprocess.Popen | None = None

    def server(self) -> MPServer:
        options = self.options
        server = MPServer(
            "plugin.cli.server:served_app",
            address=options.host, port=options.port, interface=Interfaces.WSGI,
            workers=options.workers, blocking_threads=options.threads, http=HTTPModes.http1,
            http1_settings=HTTP1Settings(header_read_timeout=options.header_timeout * 1000),
            log_level=LogLevels.info, log_dictconfig=LOG_CONFIG, log_access=options.access_log,
            respawn_failed_workers=True, workers_kill_timeout=STOP_WORKER_SECONDS)
        server.on_startup(self._start_consumer)
        server.on_shutdown(self._stop_consumer)
        return server

    def run(self) -> None:
        self.server().serve(target_loader=served_app, wrap_loader=False)

    def _start_consumer(self) -> None:
        if self.options.consumers:
            self.consumer = subprocess.Popen(
                [sys.executable, "-m", "plugin.cli", "worker",
                 "--workers", str(self.options.consumers)])
            log.info("queue consumer started (pid %s, %s thread(s))", self.consumer.pid,
                     self.options.consumers)

    def _stop_consumer(self) -> None:
        stop_child(self.consumer)


def stop_child(child: subprocess.Popen | None) -> None:
    """Ask a consumer to finish its jobs (SIGINT is huey's graceful stop), then insist."""
    if child is None or child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)
    try:
        child.wait(STOP_CONSUMER_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def prepare_metrics_folder() -> str:
    """The folder the processes share their metrics through: PROMETHEUS_MULTIPROC_DIR if set,
    else a fresh one. It must exist, and be empty, before any worker starts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
    else:
        folder = tempfile.mkdtemp(prefix="customer-value-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        owner = os.getpid()
        # Removed when the server exits; forked workers inherit this hook and must not run it.
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, True))
    return folder


def run(options: ServerOptions) -> None:
    """Serve until stopped (SIGINT or SIGTERM: finish the requests under way, then exit)."""
    AppServer(options).run()
