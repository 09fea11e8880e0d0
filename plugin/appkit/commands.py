"""`customer-value validate` and `customer-value package`: click commands for `plugin.cli`.

Register them with `main.add_command(validate_command, "validate")` and
`main.add_command(package_command, "package")`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from plugin.appkit.folder import Problem
from plugin.appkit.packaging import Author, PackageError, build_package, zipped
from plugin.appkit.validator import validate
from plugin.resources import resource_dir

ERRORS_EXIT = 1
DEFAULT_ZIP = "dist/customer-value-app-{version}.zip"
"""Under `dist/`, which the repository ignores: a built zip is never committed by accident."""


def package_folder(value: Path | None) -> Path:
    return value if value is not None else resource_dir("manifest")


@click.command("validate")
@click.argument("folder", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--remote", is_flag=True,
              help="Also ask Zendesk's own validator (POST /api/v2/apps/validate) of the "
                   "account in ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL, with ZENDESK_EMAIL and "
                   "ZENDESK_API_TOKEN.")
def validate_command(folder: Path | None, remote: bool) -> None:
    """Check a Zendesk app package folder offline, with a port of the rules and words of
    Zendesk's app validator (not Zendesk's validator itself: --remote asks it too).

    FOLDER defaults to the app's own package (manifest/). Prints every error and warning;
    exits 1 if there is any error (warnings alone exit 0).
    """
    folder = package_folder(folder)
    report = validate(folder)
    echo_problems(report.problems)
    if report.ok:
        click.echo(f"{folder}: no errors{summary_of(report.warnings, ', ')} by the offline "
                   "rules; ready to package.")
    else:
        click.echo(f"{folder}: {count(report.errors, 'error')}"
                   f"{summary_of(report.warnings, ', ')}.")
        sys.exit(ERRORS_EXIT)
    if remote:
        ask_zendesk(folder)


def ask_zendesk(folder: Path) -> None:
    """Send the package to Zendesk's own validator and say what it answered."""
    from integrations.errors import IntegrationError
    from integrations.zendesk import ZendeskClient
    from plugin import config as configuration
    from plugin.bootstrap import single_account

    try:
        zendesk = single_account(configuration.load())
    except ValueError as error:
        click.echo(f"error: --remote needs a Zendesk account: {error}", err=True)
        sys.exit(ERRORS_EXIT)
    client = ZendeskClient.connect(zendesk, mode="background")
    try:
        client.validate_app(zipped(folder))
    except IntegrationError as error:
        click.echo(f"error: Zendesk's validator refused the package: {error}", err=True)
        sys.exit(ERRORS_EXIT)
    finally:
        client.close()
    click.echo(f"{zendesk.base_url}: Zendesk's validator accepted the package.")


@click.command("package")
@click.argument("folder", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", required=True,
              help="Base URL the app is deployed at, e.g. https://cv.example.org (https; "
                   "http only for localhost).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write. Default: dist/customer-value-app-<version>.zip here.")
@click.option("--author-name", default=None, help="The publisher's name shown in Zendesk.")
@click.option("--author-email", default=None,
              help="Where admins write about the app (required while the manifest holds the "
                   "placeholder address).")
@click.option("--author-url", default=None,
              help="The publisher's web page (left out when not given; the deployment's URL "
                   "is not the author's).")
def package_command(folder: Path | None, url: str, out: Path | None, author_name: str | None,
                    author_email: str | None, author_url: str | None) -> None:
    """Validate the app package, fill in the deployment's URL and the author, and write the
    zip to upload.

    FOLDER defaults to the app's own package (manifest/). Nothing is written if Zendesk
    would refuse the result, or while the author's email is still the placeholder.
    """
    folder = package_folder(folder)
    out = out or Path(DEFAULT_ZIP.format(version=manifest_version(folder)))
    try:
        package = build_package(folder, url, out, Author(author_name, author_email,
                                                         author_url))
    except PackageError as refused:
        echo_problems(refused.problems, err=True)
        click.echo(f"error: {refused}", err=True)
        sys.exit(ERRORS_EXIT)
    echo_problems(package.warnings, err=True)
    click.echo(f"Wrote {package.path} ({len(package.files)} files) for {package.base_url}")


def echo_problems(problems: Iterable[Problem], err: bool = False) -> None:
    for problem in problems:
        click.echo(f"{problem.level}: {problem.message}", err=err)


def manifest_version(folder: Path) -> str:
    try:
        version = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unversioned"
    return version if isinstance(version, str) else "unversioned"


def count(items: list[Problem], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def summary_of(warnings: list[Problem], separator: str) -> str:
    return f"{separator}{count(warnings, 'warning')}" if warnings else ""
