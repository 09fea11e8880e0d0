"""`customer-value serve`, `worker` and `failed-jobs`: running the app and its queue."""

from __future__ import annotations

import click

from plugin.cli.base import built_app, main


@main.command("worker")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs run at once (threads).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT.")
def worker_command(workers: int, metrics_port: int | None) -> None:
    """Run queue consumers: the tagging jobs queued by Zendesk's webhook calls.

    Uses the same configuration as the app (DATABASE_URL, REDIS_URL for a shared queue, the
    ZENDESK_* variables); run several on several machines against Redis and PostgreSQL.
    """
    from huey.consumer import Consumer

    from plugin.service_layer.jobs import POLLING, requeue_unfinished
    from plugin.service_layer.telemetry import configure_logging

    configure_logging()
    app = built_app()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
    requeued = requeue_unfinished(app)
    click.echo(f"Worker with {workers} thread(s) on the {_queue_kind(app)} queue"
               + (f"; requeued {requeued} unfinished job(s)" if requeued else ""), err=True)
    Consumer(app.extensions["queue"], workers=workers, worker_type="thread", **POLLING).run()


@main.command("failed-jobs")
@click.option("--requeue", is_flag=True, help="Queue every failed job again.")
def failed_jobs_command(requeue: bool) -> None:
    """List the jobs that ran out of retries (for example during a long Zendesk outage), or
    queue them again with --requeue once the cause is fixed."""
    from plugin.service_layer.jobs import requeue_failed

    app = built_app()
    services = app.extensions["customer_value"]
    try:
        if requeue:
            click.echo(f"Queued {requeue_failed(app)} failed job(s) again.")
            return
        shown = 0
        for account_key in services.account_keys():
            for job in services.failed_jobs(account_key):
                shown += 1
                click.echo(f"{job['failed_at']:%Y-%m-%d %H:%M} {account_key} {job['job']} "
                           f"{job['arguments']}: {job['error']}")
        click.echo(f"{shown} failed job(s)." + (" Queue them again with --requeue." if shown
                                                 else ""))
    finally:
        services.close()


@main.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 behind a proxy on another host).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="gunicorn worker processes answering requests.")
@click.option("--threads", type=click.IntRange(1, 256), default=4, show_default=True,
              help="Requests each worker process answers at once.")
@click.option("--consumers", type=click.IntRange(0, 64), default=None,
              help="Queue consumer threads in a worker child of this server [default: 2 with "
                   "the embedded SQLite queue, 0 with REDIS_URL (run `worker` instead)].")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Also write the server's access log (the app logs every request as JSON).")
def serve_command(port: int, host: str, workers: int, threads: int, consumers: int | None,
                  access_log: bool) -> None:
    """Run the app under granian against the configured Zendesk.

    With the embedded queue, a queue consumer runs beside it (a `worker` child it starts and
    stops); with Redis (REDIS_URL), run `customer-value worker` processes separately.
    """
    from plugin.cli.server import ServerOptions, prepare_metrics_folder, run

    prepare_metrics_folder()  # before prometheus_client is imported, so it counts per process

    from plugin.service_layer.telemetry import configure_logging

    configure_logging()
    app = built_app()  # migrates the database and checks the configuration before forking
    redis = bool(app.config.get("REDIS_URL"))
    app.extensions["customer_value"].close()
    if consumers is None:
        consumers = 0 if redis else 2
    click.echo(f"Customer Value on http://{host}:{port}/ ({workers} process(es) x {threads} "
               f"thread(s); {consumers} queue consumer thread(s) on the {_queue_kind(app)} "
               "queue)", err=True)
    run(ServerOptions(host=host, port=port, workers=workers, threads=threads,
                      consumers=consumers, access_log=access_log))


def _queue_kind(app) -> str:
    return "Redis" if app.config.get("REDIS_URL") else f"SQLite ({app.config['QUEUE_PATH']})"
