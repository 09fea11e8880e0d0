"""`customer-value sync`, `backfill` and `install`: the commands that act on a Zendesk account."""

from __future__ import annotations

import re
import sys
import time
from typing import Any

import click

from integrations.errors import IntegrationError
from integrations.zendesk import ZendeskConfig
from plugin.cli.base import PROGRESS_SECONDS, account_target, built_app, fail, main
from plugin.cli.score import saved_secrets
from plugin.core.domain import CRM_NAMES
from plugin.core.settings import Settings
from plugin.service_layer.backfill import backfill
from plugin.service_layer.services import Services
from plugin.service_layer.sync import sync
from plugin.storage.installations import Installation, InstallationConflict

SUBDOMAIN = click.option(
    "--subdomain", default=None,
    help="Act on the account installed under this subdomain (`customer-value install`) "
         "instead of the ZENDESK_* one.")


@main.command("sync")
@SUBDOMAIN
def sync_command(subdomain: str | None) -> None:
    """Bring the local history store up to date from Zendesk (resumable).

    Reads ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL, ZENDESK_EMAIL and ZENDESK_API_TOKEN (or the
    installation --subdomain names), and DATABASE_URL (default: a SQLite file under
    ./instance). When the account's settings take spend from Zendesk Sell or Bitrix24, also
    loads that CRM's contacts and deals, with the credentials saved in the settings page, else
    (for the ZENDESK_* account) SELL_ACCESS_TOKEN or BITRIX24_WEBHOOK_URL.
    """
    services, config = account_target("background", subdomain)
    client, store = services.client(config), services.store(config.base_url)
    settings = services.versions(store).current()
    crm_client = crm_export(services, settings, config)
    last = {"at": 0.0}

    def progress(stream: str, records: int, pages: int) -> None:
        if time.monotonic() - last["at"] >= PROGRESS_SECONDS:
            last["at"] = time.monotonic()
            click.echo(f"  {stream}: {records:,} records, {pages:,} pages", err=True)

    click.echo(f"Syncing {client.transport.base_url} into the history store ...", err=True)
    try:
        report = sync(client, store, clock=services.clock, progress=progress, crm=crm_client)
    except KeyboardInterrupt:
        fail("interrupted; run `customer-value sync` again to resume where it stopped", 130)
    except IntegrationError as error:
        fail(f"{error} (the pages saved so far are kept; run again to resume)")
    finally:
        services.close()
    crm_warning(report.crm_error, settings)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
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
@SUBDOMAIN
def backfill_command(dry_run: bool, subdomain: str | None) -> None:
    """Score every requester and tag their open tickets (resumable after an interruption).

    Tags are written only when the account's settings switch tagging on; otherwise the run
    syncs and scores, says why it wrote nothing, and reports what it would write."""
    services, config = account_target("background", subdomain)
    client, store = services.client(config), services.store(config.base_url)
    settings = services.versions(store).current()
    crm_client = crm_export(services, settings, config)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Tagging", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        report = backfill(client, store, settings, clock=services.clock, dry_run=dry_run,
                          progress=progress, crm=crm_client)
    except KeyboardInterrupt:
        fail("interrupted; run `customer-value backfill` again to resume where it stopped", 130)
    except IntegrationError as error:
        fail(f"{error} (what was written is kept; run again to resume)")
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        services.close()
    crm_warning(report.crm_error, settings)
    tiers = ", ".join(f"{report.tiers[t]:,} {t}" for t in ("high", "medium", "low"))
    resumed = f" (resumed after requester {report.resumed_after})" if report.resumed_after else ""
    click.echo(f"Customers by tier: {tiers}{resumed}")
    if report.refused:
        click.echo(f"Not tagging: {report.refused}. Switch tagging on in the settings page "
                   "(or `customer-value settings apply`) to write tags.", err=True)
    if dry_run or report.refused:
        changes = (f"{report.tickets_tagged:,} ticket(s) would change, in "
                   f"{report.updates:,} bulk update(s)")
    else:
        changes = (f"{report.tickets_tagged:,} ticket(s) tagged in {report.updates:,} bulk "
                   "update(s)")
    click.echo(f"{changes}; {report.api_calls:,} API calls in {report.seconds:.1f} s")
    if report.failed_tickets:
        click.echo(f"Zendesk refused {len(report.failed_tickets)} ticket(s): "
                   f"{', '.join(map(str, report.failed_tickets[:20]))}", err=True)


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
    encrypted with the app's key, which must be the one the database already knows."""
    check_subdomain(subdomain)
    services = built_app().extensions["customer_value"]
    try:
        services.registry.save(Installation(
            subdomain=subdomain, base_url=(base_url or f"https://{subdomain}.zendesk.com"),
            app_id=app_id, installation_id=installation_id, email=email, token=token),
            services.clock())
    except InstallationConflict as error:
        fail(str(error))
    finally:
        services.close()
    click.echo(f"Installed for {subdomain}: app {app_id}, installation {installation_id}. "
               "The server syncs it (the first run backfills) within "
               "CUSTOMER_VALUE_SYNC_INTERVAL_SECONDS.")


@main.command("uninstall")
@click.option("--subdomain", required=True, help="The installation's Zendesk subdomain.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall_command(subdomain: str, yes: bool) -> None:
    """Remove an installation and purge everything stored for its account: its history,
    settings and their versions, credentials, deliveries, failed jobs and sync runs."""
    check_subdomain(subdomain)
    services = built_app().extensions["customer_value"]
    try:
        if services.registry.get_base_url(subdomain) is None:
            fail(f"no installation for the subdomain {subdomain!r}")
        if not yes:
            click.confirm(f"Purge {subdomain}'s data and credentials from this server? This "
                          "cannot be undone", abort=True)
        services.registry.purge(subdomain)
    finally:
        services.close()
    click.echo(f"Uninstalled {subdomain}: its data and credentials are purged. Remove the app "
               "in Zendesk (Admin Center > Apps and integrations) too.")


def check_subdomain(subdomain: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", subdomain):
        fail(f"{subdomain!r} is not a Zendesk subdomain")


def crm_warning(error: IntegrationError | None, settings: Settings) -> None:
    """Say on stderr that the CRM could not be synced (the run itself went on)."""
    if error is not None:
        click.echo(f"warning: {CRM_NAMES[settings.spend_source]} could not be synced: {error}; "
                   "scores use the CRM deals synced before, if any", err=True)


def crm_export(services: Services, settings: Settings, config: ZendeskConfig) -> Any:
    """The patient client of the CRM the settings take spend from (None for fields, or when
    no credentials are set: then a warning says so)."""
    if settings.spend_source not in CRM_NAMES:
        return None
    client = services.crm.source(settings.spend_source, saved_secrets(services, config),
                                 mode="background",
                                 env_credentials=services.is_env_account(config))
    if not hasattr(client, "contact_pages"):
        click.echo(f"warning: spend comes from {CRM_NAMES[settings.spend_source]} but no "
                   "credentials are set (settings page, or SELL_ACCESS_TOKEN / "
                   "BITRIX24_WEBHOOK_URL); its deals are not synced", err=True)
        return None
    return client
