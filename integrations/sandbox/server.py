"""Running the sandbox: in a background thread for tests and the demo (`running_sandbox`), in the
foreground for the command line (`serve`, `sandbox_command`).

Both load the dataset into a fresh SQLite database, build the app and serve it on 127.0.0.1
with werkzeug's threaded server, one thread per connection.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import click
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from integrations.sandbox.app import create_app
from integrations.sandbox.config import (
    ACCOUNT_RATE_LIMIT,
    EXPORT_RATE_LIMIT,
    FAULT_KINDS,
    SLOW_SECONDS,
    ConfigError,
    SandboxConfig,
)
from integrations.sandbox.data import Store
from integrations.sandbox.loader import SandboxDataError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request (errors are still logged)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


def _server(store: Store, config: SandboxConfig, port: int, quiet: bool) -> BaseWSGIServer:
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    return make_server(HOST, port, create_app(store, config), threaded=True,
                       request_handler=handler)


@contextmanager
def running_sandbox(data_dir: Path | str, *, now: datetime | None = None,
                    db_path: Path | None = None, quiet: bool = True, port: int = 0,
                    **options: Any) -> Iterator[str]:
    """Serves the dataset in `data_dir` on 127.0.0.1 (`port`, or a free one) while the block
    runs.

    Yields the base URL ("http://127.0.0.1:54321"). `now` starts the sandbox's clock (default:
    the current time); `options` are `SandboxConfig` knobs (latency_ms, rate_limit,
    export_rate_limit, fault_rate, fault_kinds, slow_seconds, job_seconds, seed, token, email).
    On exit the server stops and the database is removed.
    """
    config = SandboxConfig(**options)
    with Store.open(Path(data_dir), now or datetime.now(UTC), db_path) as store:
        server = _server(store, config, port, quiet)
        thread = threading.Thread(target=server.serve_forever, name="zendesk-sandbox",
                                  daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def serve(data_dir: Path | str, port: int = DEFAULT_PORT, *, now: datetime | None = None,
          db_path: Path | None = None, echo: Callable[[str], None] = print,
          **options: Any) -> None:
    """Serves the dataset in `data_dir` on 127.0.0.1:`port` until interrupted (Ctrl-C)."""
    config = SandboxConfig(**options)
    with Store.open(Path(data_dir), now or datetime.now(UTC), db_path) as store:
        server = _server(store, config, port, quiet=False)
        counts = ", ".join(f"{count:,} {name}" for name, count in store.counts.items())
        echo(f"Zendesk sandbox on http://{HOST}:{server.server_port} serving {counts}")
        _stop_on_sigterm()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            echo("Stopped.")
        finally:
            server.server_close()


def _stop_on_sigterm() -> None:
    """Lets `kill` stop the server as Ctrl-C does, so the temporary database is removed."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _timestamp(ctx: click.Context, param: click.Parameter, value: str | None
               ) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time "
                                 "(e.g. 2025-06-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone; add Z for UTC")
    return moment


def _kinds(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    return tuple(kind.strip() for kind in value.split(",") if kind.strip())


@click.command("sandbox")
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder in Zendesk's JSON envelopes (see docs/dataset.md).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--now", callback=_timestamp, default=None, metavar="ISO8601",
              help="The account's present (ISO 8601 with a zone). Default: the current time.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Delay added to every answer.")
@click.option("--rate-limit", type=click.IntRange(min=0), default=ACCOUNT_RATE_LIMIT,
              show_default=True, help="Requests per minute; 0 for no limit.")
@click.option("--export-rate-limit", type=click.IntRange(min=0), default=EXPORT_RATE_LIMIT,
              show_default=True, help="Incremental export requests per minute; 0 for no limit.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered with an injected fault.")
@click.option("--fault-kinds", callback=_kinds, default=",".join(FAULT_KINDS),
              show_default=True, help="Faults to draw from: 500, 502, 503, slow, drop.")
@click.option("--slow-seconds", type=click.FloatRange(min=0), default=SLOW_SECONDS,
              show_default=True, help="How long a slow fault holds its answer.")
@click.option("--seed", type=int, default=None, help="Seed of the fault draws.")
@click.option("--token", default=None, help="Require this API token (Basic email/token).")
@click.option("--email", default=None, help="Require this email with --token.")
@click.option("--sell-token", default=None, help="Require this Zendesk Sell access token.")
@click.option("--bitrix-secret", default=None,
              help="Require this secret in Bitrix24 webhook URLs (/rest/<user>/<secret>/).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="SQLite file to build (default: a temporary one).")
def sandbox_command(data_dir: Path, port: int, now: datetime | None, db_path: Path | None,
                    **options: Any) -> None:
    """Serve a Zendesk-compatible API from a dataset folder on 127.0.0.1."""
    try:
        serve(data_dir, port, now=now, db_path=db_path, echo=click.echo, **options)
    except (SandboxDataError, ConfigError) as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"cannot serve on {HOST}:{port}: {error}") from error
