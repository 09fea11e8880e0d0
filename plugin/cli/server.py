"""The production server: the app under gunicorn, plus (in the embedded set-up) a queue consumer.

`customer-value serve` builds an `AppServer` and runs it. gunicorn's arbiter forks `workers`
processes, each with its own app (`create_app`, so its own database pool, caches and Zendesk
sessions) answering `threads` requests at once. What the processes share lives in the database
(history, settings, installations, deliveries) and in the queue; the value cache is per process
by design: each process refreshes a customer at most once per freshness window.

With the embedded queue (SQLite, no `REDIS_URL`) the arbiter also starts one `customer-value
worker` child for the tagging jobs and stops it on the way out; with Redis, run `customer-value
worker` processes wherever they fit and start none here (`consumers=0`).

Prometheus metrics of every worker are gathered through prometheus_client's multiprocess mode:
each process writes its samples under `PROMETHEUS_MULTIPROC_DIR`, and `/metrics` adds them up.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication

STOP_CONSUMER_SECONDS = 30.0
SWITCH_INTERVAL = 0.0005
"""Seconds a worker thread may hold the interpreter lock while another waits for it
(`sys.setswitchinterval`; Python's default is 0.005). A warm sidebar request needs well under
a millisecond of CPU and gives the lock up at every socket call; at the default, a thread
coming back from its call can wait up to 5 ms behind another thread's request, which is most of
the tail latency with several threads per process (docs/benchmarks.md)."""


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
    timeout: int = 60
    access_log: bool = False


class AppServer(BaseApplication):
    """gunicorn running `create_app()` in each worker (nothing is imported before the fork that
    would share a database connection between processes)."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.consumer: subprocess.Popen | None = None
        super().__init__()

    def load_config(self) -> None:
        options = self.options
        settings: dict[str, Any] = {
            "bind": f"{options.host}:{options.port}",
            "workers": options.workers,
            "threads": options.threads,
            "worker_class": "gthread",
            "timeout": options.timeout,
            "graceful_timeout": 30,
            "keepalive": 5,
            "accesslog": "-" if options.access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "customer-value",
            "control_socket_disable": True,
            "when_ready": self._when_ready,
            "on_exit": self._on_exit,
            "child_exit": _child_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        sys.setswitchinterval(SWITCH_INTERVAL)
        from plugin import create_app

        return create_app()

    def _when_ready(self, server) -> None:
        if self.options.consumers:
            self.consumer = subprocess.Popen(
                [sys.executable, "-m", "plugin.cli", "worker",
                 "--workers", str(self.options.consumers)])
            server.log.info("queue consumer started (pid %s, %s thread(s))",
                            self.consumer.pid, self.options.consumers)

    def _on_exit(self, server) -> None:
        stop_child(self.consumer)


def _child_exit(server, worker) -> None:
    """A worker is gone: its live gauges must not count any more."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


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
