"""The `customer-value` command line.

Each command gathers its inputs (files, flags, the clock), calls the pure core, and prints.
Expected failures (bad data, bad settings, unknown users) end with a message on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from integrations.errors import IntegrationError, NotFound
from integrations.files.crm import FolderCrm, load_crm
from integrations.files.dataset import Dataset, DatasetError, load
from integrations.sandbox.server import sandbox_command
from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.appkit.commands import package_command, validate_command
from plugin.config import database_url, instance_folder
from plugin.core.assessment import Assessment, assess, isoformat, to_json
from plugin.core.domain import CustomerHistory
from plugin.core.model import CRM_NAMES, account_cutoffs
from plugin.core.settings import Settings, SettingsError
from plugin.demo.generator import generate
from plugin.demo.server import run_demo
from plugin.service_layer.backfill import backfill
from plugin.service_layer.crm import CrmConnector, SecretReader, with_crm
from plugin.service_layer.live import current_history
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore, account_id, connect
from plugin.storage.migrations import upgrade
from plugin.storage.secrets import AccountSecrets
from plugin.storage.vault import VaultError, configured_vault
from plugin.storage.versions import SettingsVersions

BAR_WIDTH = 20
PROGRESS_SECONDS = 1.0


class Timestamp(click.ParamType):
    """An ISO 8601 timestamp with a time zone."""

    name = "timestamp"

    def convert(self, value: Any, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 timestamp (e.g. 2024-05-01T12:00:00Z)",
                      param, ctx)
        if moment.tzinfo is None:
            self.fail(f"{value!r} has no time zone; add Z for UTC", param, ctx)
        return moment


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="customer-value-zendesk")
def main() -> None:
    """Customer Value for Zendesk: each customer's value, its reasons, and what to do next."""


@main.command("score")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Dataset folder in Zendesk's JSON envelopes (see docs/dataset.md). "
                   "Without it: the history store (see `sync`) plus a live refresh from Zendesk.")
@click.option("--user", "user_id", type=click.IntRange(min=1), required=True,
              help="Zendesk id of the requester.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object of the contract.")
@click.option("--now", type=Timestamp(), default=None,
              help="Score as of this moment (ISO 8601 with a zone). Default: the current time.")
@click.option("--ticket", "ticket_id", type=click.IntRange(min=1), default=None,
              help="The ticket being worked on (for channel and experience suggestions).")
@click.option("--settings", "settings_file", type=click.Path(path_type=Path), default=None,
              help="Settings as JSON (any subset of the defaults).")
@click.option("--gestures-used", type=click.IntRange(min=0), default=0,
              help="Surprise-and-delight gestures already given this month.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave out invalid records (reported as warnings) instead of stopping.")
def score_command(data_dir: Path | None, user_id: int, as_json: bool, now: datetime | None,
                  ticket_id: int | None, settings_file: Path | None, gestures_used: int,
                  skip_invalid: bool) -> None:
    """Score one customer, from a dataset folder or from Zendesk."""
    now = now or datetime.now(UTC)
    settings = read_settings(settings_file)
    if data_dir is None:
        history, population, settings = online_history(
            user_id, settings if settings_file is not None else None)
    else:
        dataset = read_dataset(data_dir, settings, skip_invalid)
        try:
            history = dataset.history(user_id)
        except KeyError:
            fail(f"user {user_id} is not in {data_dir / 'users.json'} "
                 f"({len(dataset.profiles)} users; for example {_examples(dataset)})")
        history = with_crm(history, read_crm(data_dir, settings), settings)
        population = dataset.histories
    cutoffs = account_cutoffs(population(), settings, now)
    result = assess(history, settings, now, cutoffs=cutoffs, ticket_id=ticket_id,
                    gestures_used=gestures_used)
    if as_json:
        click.echo(json.dumps(to_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(describe(result))


@main.command("generate")
@click.option("--customers", type=click.IntRange(min=1, max=10_000_000), required=True,
              help="How many customers (about ten tickets each on average).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write the dataset to (created if missing).")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Same seed, same clock and same size give identical files.")
@click.option("--now", type=Timestamp(), default=None,
              help="The account's present moment. Default: the current time.")
def generate_command(customers: int, out: Path, seed: int, now: datetime | None) -> None:
    """Write a realistic, seeded dataset folder in Zendesk's JSON envelopes."""
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
    now = now or datetime.now(UTC)
    with click.progressbar(length=customers, label="Generating customers",
                           file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        try:
            summary = generate(out, customers, seed=seed, now=now, progress=advance)
        except OSError as error:
            fail(f"cannot write to {out}: {error.strerror or error}")
    click.echo(f"Wrote {summary.users:,} users, {summary.organizations:,} organizations, "
               f"{summary.tickets:,} tickets, {summary.ratings:,} ratings and "
               f"{summary.survey_responses:,} survey responses to {out} "
               f"(as of {isoformat(summary.now)})")


@main.command("demo")
@click.option("--customers", type=click.IntRange(min=10, max=100_000), default=300,
              show_default=True, help="Size of the generated sample account.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port of the app on 127.0.0.1 (0 picks a free one).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Serve this dataset folder instead of a generated account.")
@click.option("--now", type=Timestamp(), default=None,
              help="The account's present moment. Default: the current time.")
def demo_command(customers: int, port: int, data_dir: Path | None,
                 now: datetime | None) -> None:
    """Run the whole app on a generated account served by the built-in Zendesk sandbox."""
    try:
        run_demo(customers, port, echo=lambda line: click.echo(line, err=True), data=data_dir,
                 now=now)
    except OSError as error:
        fail(f"cannot start the demo: {error.strerror or error}")


@main.command("summary")
@click.option("--customers", type=click.IntRange(min=10, max=100_000), default=500,
              show_default=True, help="Size of the generated sample account.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to keep the sample dataset. Default: a temporary folder.")
def summary_command(customers: int, out: Path | None) -> None:
    """Generate a sample account and show its customers' values, tiers and suggestions."""
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="customer-value-demo-") as scratch:
        folder = out or Path(scratch)
        click.echo(f"Generating a sample account of {customers} customers in {folder} ...")
        generate(folder, customers, seed=7, now=now)
        settings = Settings()
        dataset = read_dataset(folder, settings, skip_invalid=False)
        results = [assess(history, settings, now) for history in dataset.histories()]
    click.echo(summarise(results))


def summarise(results: list[Assessment]) -> str:
    """An account at a glance: tiers, the spread of values, and who stands out."""
    ranked = sorted(results, key=lambda r: r.value.value, reverse=True)
    lines = ["", "Customers by tier"]
    for tier in ("high", "medium", "low"):
        count = sum(1 for r in results if r.value.tier == tier)
        lines.append(f"  {tier:<7} {count:5d}  {'#' * round(40 * count / len(results))}")
    lines.append("\nValues (bins of 10)")
    for low in range(-100, 100, 10):
        count = sum(1 for r in results if low <= r.value.value < low + 10)
        if count:
            lines.append(f"  {low:+4d}..{low + 10:+4d} {count:5d}  "
                         f"{'#' * max(1, round(40 * count / len(results)))}")
    for title, group in (("Highest value", ranked[:3]), ("Lowest value", ranked[-3:])):
        lines.append(f"\n{title}")
        lines += [f"  {r.value.value:+6.1f}  {r.value.name} (user {r.value.user_id})"
                  for r in group]
    example = next((r for r in ranked if r.value.measures.tickets >= 3), ranked[0])
    lines.append("\n" + "-" * 72 + "\n" + describe(example))
    return "\n".join(lines)


main.add_command(sandbox_command, "sandbox")
main.add_command(validate_command, "validate")
main.add_command(package_command, "package")


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

    from plugin import create_app
    from plugin.observability import configure_logging
    from plugin.service_layer.jobs import POLLING, requeue_unfinished

    configure_logging()
    app = create_app()
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
    from plugin import create_app
    from plugin.service_layer.jobs import requeue_failed

    app = create_app()
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
              help="Also write gunicorn's access log (the app logs every request as JSON).")
def serve_command(port: int, host: str, workers: int, threads: int, consumers: int | None,
                  access_log: bool) -> None:
    """Run the app under gunicorn against the configured Zendesk.

    With the embedded queue, a queue consumer runs beside it (a `worker` child it starts and
    stops); with Redis (REDIS_URL), run `customer-value worker` processes separately.
    """
    from plugin.cli.server import ServerOptions, prepare_metrics_folder, run

    prepare_metrics_folder()  # before prometheus_client is imported, so it counts per process

    from plugin import create_app
    from plugin.observability import configure_logging

    configure_logging()
    app = create_app()  # migrates the database and checks the configuration before forking
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


@main.command("install")
@click.option("--subdomain", required=True, help="The account's Zendesk subdomain.")
@click.option("--app-id", type=click.IntRange(min=1), required=True,
              help="The app's id in Zendesk (its public key is fetched by it).")
@click.option("--installation-id", type=click.IntRange(min=1), required=True,
              help="The installation's id in that account (the signed loads' audience).")
@click.option("--email", required=True, help="The Zendesk user the API token belongs to.")
@click.option("--token", prompt="API token", hide_input=True, envvar="ZENDESK_API_TOKEN",
              help="The API token (prompted without echo if not in ZENDESK_API_TOKEN).")
@click.option("--base-url", default=None, help="Another base URL (e.g. a sandbox).")
def install_command(subdomain: str, app_id: int, installation_id: int, email: str, token: str,
                    base_url: str | None) -> None:
    """Register (or update) the app's installation in a Zendesk account; the token is stored
    encrypted."""
    from plugin import create_app
    from plugin.storage.installations import Installation

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", subdomain):
        fail(f"{subdomain!r} is not a Zendesk subdomain")
    app = create_app()
    services = app.extensions["customer_value"]
    try:
        services.registry.save(Installation(
            subdomain=subdomain, base_url=(base_url or f"https://{subdomain}.zendesk.com"),
            app_id=app_id, installation_id=installation_id, email=email, token=token),
            datetime.now(UTC))
    finally:
        services.close()
    click.echo(f"Installed for {subdomain}: app {app_id}, installation {installation_id}.")


def read_settings(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read settings {path}: {error.strerror or error}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        fail(f"settings {path} are not valid JSON: {error}")
    try:
        return Settings.from_dict(data)
    except SettingsError as error:
        lines = "\n".join(f"  - {field}: {message}" for field, message in error.errors.items())
        fail(f"settings {path} are invalid:\n{lines}")


def read_crm(folder: Path, settings: Settings) -> FolderCrm | None:
    """The dataset's files of the CRM the settings take spend from (None for fields)."""
    try:
        return load_crm(folder, settings.spend_source)
    except DatasetError as error:
        fail(f"{folder}: {error}")


def read_dataset(folder: Path, settings: Settings, skip_invalid: bool) -> Dataset:
    try:
        dataset = load(folder, spend_field=settings.spend_field, skip_invalid=skip_invalid)
    except DatasetError as error:
        hint = "" if skip_invalid else "\n(--skip-invalid leaves bad records out instead)"
        fail(f"{folder}: {error}{hint}")
    if dataset.warnings:
        click.echo(f"warning: {len(dataset.warnings)} record(s) left out or not linked; "
                   f"first: {dataset.warnings[0]}", err=True)
    return dataset


@main.command("sync")
def sync_command() -> None:
    """Bring the local history store up to date from Zendesk (resumable).

    Reads ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL, ZENDESK_EMAIL and ZENDESK_API_TOKEN, and
    DATABASE_URL (default: a SQLite file under ./instance). When the account's settings take
    spend from Zendesk Sell or Bitrix24, also loads that CRM's contacts and deals, with the
    credentials saved in the settings page, else SELL_ACCESS_TOKEN or BITRIX24_WEBHOOK_URL.
    """
    client, store = connect_zendesk(mode="background")
    settings = SettingsVersions(store.engine, store.account).current()
    crm, crm_client = crm_export(store, settings)
    last = {"at": 0.0}

    def progress(stream: str, records: int, pages: int) -> None:
        if time.monotonic() - last["at"] >= PROGRESS_SECONDS:
            last["at"] = time.monotonic()
            click.echo(f"  {stream}: {records:,} records, {pages:,} pages", err=True)

    click.echo(f"Syncing {client.transport.base_url} into the history store ...", err=True)
    try:
        report = sync(client, store, clock=lambda: datetime.now(UTC), progress=progress,
                      crm=crm_client)
    except KeyboardInterrupt:
        fail("interrupted; run `customer-value sync` again to resume where it stopped", 130)
    except IntegrationError as error:
        fail(f"{error} (the pages saved so far are kept; run again to resume)")
    finally:
        client.close()
        crm.close()
    crm_warning(report.crm_error, settings)
    for stream, done in report.streams.items():
        skipped = f", {done.skipped:,} unreadable left out" if done.skipped else ""
        click.echo(f"{stream:<22} {done.records:>10,} records in {done.pages:,} pages{skipped}")
    counts = store.counts()
    deals = f", {counts['crm_deals']:,} CRM deals" if crm_client is not None else ""
    crm_calls = f" and {report.crm_calls:,} CRM calls" if crm_client is not None else ""
    click.echo(f"Store: {counts['users']:,} users, {counts['tickets']:,} tickets, "
               f"{counts['ratings']:,} ratings{deals}. {report.api_calls:,} API calls"
               f"{crm_calls} in {report.seconds:.1f} s.")


@main.command("backfill")
@click.option("--dry-run", is_flag=True, help="Decide and report, write nothing to Zendesk.")
def backfill_command(dry_run: bool) -> None:
    """Score every requester and tag their open tickets (resumable after an interruption)."""
    client, store = connect_zendesk(mode="background")
    settings = SettingsVersions(store.engine, store.account).current()
    crm, crm_client = crm_export(store, settings)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Tagging", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        report = backfill(client, store, settings, clock=lambda: datetime.now(UTC),
                          dry_run=dry_run, progress=progress, crm=crm_client)
    except KeyboardInterrupt:
        fail("interrupted; run `customer-value backfill` again to resume where it stopped", 130)
    except IntegrationError as error:
        fail(f"{error} (what was written is kept; run again to resume)")
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        client.close()
        crm.close()
    crm_warning(report.crm_error, settings)
    tiers = ", ".join(f"{report.tiers[t]:,} {t}" for t in ("high", "medium", "low"))
    verb = "would tag" if dry_run else "tagged"
    resumed = f" (resumed after requester {report.resumed_after})" if report.resumed_after else ""
    click.echo(f"Customers by tier: {tiers}{resumed}")
    click.echo(f"Tickets {verb}: {report.tickets_tagged:,} in {report.updates:,} bulk updates; "
               f"{report.api_calls:,} API calls in {report.seconds:.1f} s")
    if report.failed_tickets:
        click.echo(f"Zendesk refused {len(report.failed_tickets)} ticket(s): "
                   f"{', '.join(map(str, report.failed_tickets[:20]))}", err=True)


def crm_warning(error: IntegrationError | None, settings: Settings) -> None:
    """Say on stderr that the CRM could not be synced (the run itself went on)."""
    if error is not None:
        click.echo(f"warning: {CRM_NAMES[settings.spend_source]} could not be synced: {error}; "
                   "scores use the CRM deals synced before, if any", err=True)


def connect_zendesk(mode: str) -> tuple[ZendeskClient, HistoryStore]:
    """The configured Zendesk and this account's slice of the history store."""
    try:
        config = ZendeskConfig.from_env()
    except ValueError as error:
        fail(str(error))
    url = database_url()
    try:
        upgrade(url)
        engine = connect(url)
        account = account_id(engine, config.base_url, datetime.now(UTC))
    except SQLAlchemyError as error:
        fail(f"cannot open the database: {type(error).__name__}: {str(error).splitlines()[0]}")
    return ZendeskClient.connect(config, mode=mode), HistoryStore(engine, account)


def online_history(user_id: int, settings: Settings | None
                   ) -> tuple[CustomerHistory, Callable[[], Iterable[CustomerHistory]], Settings]:
    """The customer's history from the store plus a live refresh, the account's histories, and
    the settings used: `settings` if given (`--settings`), else the account's saved ones, as
    the sidebar uses them."""
    client, store = connect_zendesk(mode="web")
    if settings is None:
        settings = SettingsVersions(store.engine, store.account).current()
    client.spend_field = settings.spend_field
    crm = cli_connector()
    stored = store.crm_deals(settings.spend_source) if settings.spend_source in CRM_NAMES \
        else None
    try:
        history = crm.history(current_history(store, client, user_id), settings,
                              account=store.account, secrets=saved_secrets(store),
                              mode="background", stored=stored)
    except NotFound:
        fail(f"user {user_id} is not in this Zendesk account")
    except IntegrationError as error:
        fail(str(error))
    finally:
        client.close()
        crm.close()
    return history, lambda: store.histories(settings), settings


def crm_export(store: HistoryStore, settings: Settings) -> tuple[CrmConnector, Any]:
    """A connector and the patient client of the CRM the settings take spend from (None for
    fields, or when no credentials are set: then a warning says so)."""
    crm = cli_connector()
    if settings.spend_source not in CRM_NAMES:
        return crm, None
    client = crm.source(settings.spend_source, saved_secrets(store), mode="background")
    if not hasattr(client, "contact_pages"):
        click.echo(f"warning: spend comes from {CRM_NAMES[settings.spend_source]} but no "
                   "credentials are set (settings page, or SELL_ACCESS_TOKEN / "
                   "BITRIX24_WEBHOOK_URL); its deals are not synced", err=True)
        return crm, None
    return crm, client


def cli_connector() -> CrmConnector:
    """The command line's CRM connector: a saved webhook URL may name a private host only with
    CUSTOMER_VALUE_CRM_ALLOW_PRIVATE_HOSTS=true, as in the app."""
    allow = os.environ.get("CUSTOMER_VALUE_CRM_ALLOW_PRIVATE_HOSTS", "").strip().lower()
    return CrmConnector(allow_private_hosts=allow in ("1", "true", "yes"))


def saved_secrets(store: HistoryStore) -> SecretReader:
    """The account's secrets saved from the settings page (the CRM credentials), read with
    the key the app uses: CUSTOMER_VALUE_ENCRYPTION_KEY, else the app's secret key
    (CUSTOMER_VALUE_SECRET_KEY, the instance config, or the instance folder's secret_key)."""
    from flask import Config

    folder = instance_folder()
    config = Config(str(folder), {"SECRET_KEY": None, "ENCRYPTION_KEY": None})
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("CUSTOMER_VALUE")
    if not config["SECRET_KEY"] and (folder / "secret_key").exists():
        config["SECRET_KEY"] = (folder / "secret_key").read_text().strip()
    vault = configured_vault(config)
    if vault is None:
        return lambda name: None
    secrets = AccountSecrets(store.engine, store.account, vault)

    def read(name: str) -> str | None:
        try:
            return secrets.get(name)
        except VaultError:
            click.echo(f"warning: the saved {name} cannot be decrypted with this app's key; "
                       "using the environment's instead", err=True)
            return None
    return read


def describe(result: Assessment) -> str:
    """The assessment as an agent would read it in a terminal."""
    v = result.value
    lines = [f"{v.name} (user {v.user_id}): value {v.value:+.1f}, {v.tier} tier"
             + ("  [little data]" if v.little_data else ""),
             f"computed at {isoformat(v.computed_at)} with settings version "
             f"{v.settings_version}" + (f", segment {v.segment}" if v.segment else "")]
    for notice in v.notices:
        lines.append(f"! {notice}")
    for title, signals, total in (("Benefits", v.benefits, v.total_benefits),
                                  ("Costs", v.costs, v.total_costs)):
        lines.append(f"\n{title} ({total:.1f})")
        for s in signals:
            filled = round(BAR_WIDTH * s.points / s.max_points) if s.max_points else 0
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            lines.append(f"  {s.label:<26} {bar} {s.points:5.1f}  {s.evidence}")
    if result.suggestions:
        lines.append("\nSuggestions")
        for s in result.suggestions:
            lines.append(f"  * {s.title}: {s.reason}")
            lines.append(f"      {s.action.type}: {s.action.value}")
    return "\n".join(lines)


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _examples(dataset: Dataset) -> str:
    return ", ".join(str(user_id) for user_id in list(dataset.profiles)[:3]) or "none"


if __name__ == "__main__":
    main()
