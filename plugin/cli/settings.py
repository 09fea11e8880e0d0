"""`customer-value settings …`: the account's settings as code.

The same validation and versions as the settings page: a file is read over the saved settings
(what it leaves out keeps its saved value), every bad field is listed and nothing is saved on
error, and each apply or rollback is a new version with the operator as its author.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from plugin import config as configuration
from plugin.bootstrap import build_services, single_account
from plugin.cli.base import fail, main, read_json_file
from plugin.core.settings import Settings, SettingsError, label
from plugin.core.times import zulu
from plugin.service_layer.services import utc_now
from plugin.storage.versions import SettingsVersions, VersionConflict, diff

SUBDOMAIN = click.option("--subdomain", default=None,
                         help="The installed Zendesk account (a multi-account server); "
                              "default: the ZENDESK_* account.")


@main.group("settings")
def settings_group() -> None:
    """Read, review and write the account's settings (validated and versioned as the
    settings page does)."""


def _versions(subdomain: str | None) -> SettingsVersions:
    """The settings versions of the chosen account."""
    try:
        config = configuration.load()
        services = build_services(config, zendesk_mode="background")
    except (ValueError, SQLAlchemyError) as error:
        fail(f"cannot open the app's database: {error}")
    if subdomain:
        installation = services.registry.get(subdomain)
        if installation is None:
            fail(f"no installation for the Zendesk account {subdomain!r}; "
                 "see `customer-value install`")
        base_url = installation.base_url
    else:
        try:
            base_url = single_account(config).base_url
        except ValueError as error:
            fail(f"{error} (or name an installed account with --subdomain)")
    return services.versions(services.store(base_url))


def _operator(author: str | None) -> str:
    return f"{author or getpass.getuser()} (command line)"


def _exported(settings: Settings) -> str:
    data = settings.to_dict()
    data.pop("version")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _read(path: Path, saved: Settings) -> tuple[dict[str, Any], Settings]:
    """The file's settings over the saved ones, validated; every problem listed on failure."""
    data = read_json_file(path, str(path))
    if not isinstance(data, dict):
        fail(f"{path} must hold a JSON object of settings")
    data.pop("version", None)
    merged = {**{k: v for k, v in saved.to_dict().items() if k != "version"}, **data}
    try:
        return merged, Settings.from_dict({**merged, "version": saved.version})
    except SettingsError as error:
        lines = "\n".join(f"  - {label(path)} ({path}): {message}"
                          for path, message in error.errors.items())
        fail(f"{path} has {len(error.errors)} problem(s); nothing was saved:\n{lines}")


def _show_changes(before: Settings, after: Settings) -> int:
    changes = diff(before, after)
    for path, old, new in changes:
        click.echo(f"{label(path)}: {json.dumps(old)} → {json.dumps(new)}")
    return len(changes)


@settings_group.command("show")
@SUBDOMAIN
def show_command(subdomain: str | None) -> None:
    """Print the current settings and their version."""
    current = _versions(subdomain).current()
    click.echo(f"# version {current.version}")
    click.echo(_exported(current), nl=False)


@settings_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@SUBDOMAIN
def export_command(file: Path | None, subdomain: str | None) -> None:
    """Write the current settings as JSON to FILE (default: standard output)."""
    current = _versions(subdomain).current()
    if file is None:
        click.echo(_exported(current), nl=False)
        return
    file.write_text(_exported(current), encoding="utf-8")
    click.echo(f"Wrote version {current.version} to {file}.", err=True)


@settings_group.command("diff")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@SUBDOMAIN
def diff_command(file: Path, subdomain: str | None) -> None:
    """Show what applying FILE would change (exit 1 when the file is invalid)."""
    current = _versions(subdomain).current()
    _, wanted = _read(file, current)
    if not _show_changes(current, wanted):
        click.echo(f"No changes: {file} matches version {current.version}.")


@settings_group.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Why the settings change (kept with the version).")
@click.option("--author", default=None, help="Who applies them (default: the login name).")
@SUBDOMAIN
def apply_command(file: Path, note: str, author: str | None, subdomain: str | None) -> None:
    """Validate FILE and save it as the next version."""
    versions = _versions(subdomain)
    current = versions.current()
    data, wanted = _read(file, current)
    if wanted.tagging_enabled != current.tagging_enabled:
        fail("automatic tagging is switched on the settings page, which also creates (or "
             "removes) the webhook and trigger in Zendesk; keep tagging_enabled as it is "
             f"({json.dumps(current.tagging_enabled)}); nothing was saved")
    if not diff(current, wanted):
        click.echo(f"No changes: version {current.version} stays current.")
        return
    _show_changes(current, wanted)
    try:
        saved = versions.save(data, author_id=0, author_name=_operator(author),
                              now=utc_now(), note=note, base_version=current.version)
    except SettingsError as error:  # pragma: no cover - _read validated the same data
        fail(str(error))
    except VersionConflict as error:
        fail(f"{error}; run the command again")
    click.echo(f"Saved as version {saved.version}.")


@settings_group.command("history")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@SUBDOMAIN
def history_command(limit: int, subdomain: str | None) -> None:
    """List the saved versions, newest first (the current one marked)."""
    versions = _versions(subdomain).history(limit=limit)
    if not versions:
        click.echo("v1  (current)  the defaults: nothing saved yet")
    for index, version in enumerate(versions):
        mark = "(current)" if index == 0 else "         "
        author = version.author_name or f"Zendesk user {version.author_id}"
        note = f"  {version.note}" if version.note else ""
        click.echo(f"v{version.version:<3} {mark}  {zulu(version.created_at)}  {author}{note}")


@settings_group.command("rollback")
@click.argument("version", type=click.IntRange(1, None))
@click.option("--author", default=None, help="Who rolls back (default: the login name).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@SUBDOMAIN
def rollback_command(version: int, author: str | None, yes: bool, subdomain: str | None) -> None:
    """Save the settings of VERSION again, as the next version."""
    versions = _versions(subdomain)
    current, old = versions.current(), versions.settings_of(version)
    if old is None:
        fail(f"there is no version {version}; see `customer-value settings history`")
    if current.tagging_enabled != old.tagging_enabled:
        fail("that version switches automatic tagging; roll back on the settings page, which "
             "also creates (or removes) the webhook and trigger in Zendesk")
    if not _show_changes(current, old):
        click.echo(f"No changes: version {version} matches the current settings.")
        return
    if not yes and sys.stdin.isatty():
        click.confirm(f"Roll back to version {version}?", abort=True)
    saved = versions.rollback(version, author_id=0, author_name=_operator(author), now=utc_now())
    click.echo(f"Saved as version {saved.version} (the settings of version {version}).")


