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
from plugin.appkit.packaging import PackageError, build_package
from plugin.appkit.validator import validate
from plugin.resources import resource_dir

ERRORS_EXIT = 1
DEFAULT_ZIP = "customer-value-app-{version}.zip"


def package_folder(value: Path | None) -> Path:
    return value if value is not None else resource_dir("manifest")


@click.command("validate")
@click.argument("folder", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
def validate_command(folder: Path | None) -> None:
    """Check a Zendesk app package folder offline with Zendesk's rules and words.

    FOLDER defaults to the app's own package (manifest/). Prints every error and warning;
    exits 1 if there is any error (warnings alone exit 0).
    """
    folder = package_folder(folder)
    report = validate(folder)
    echo_problems(report.problems)
    if report.ok:
        click.echo(f"{folder}: no errors{summary_of(report.warnings, ', ')}; ready to package.")
    else:
        click.echo(f"{folder}: {count(report.errors, 'error')}"
                   f"{summary_of(report.warnings, ', ')}.")
        sys.exit(ERRORS_EXIT)


@click.command("package")
@click.argument("folder", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--url", required=True,
              help="Base URL the app is deployed at, e.g. https://cv.example.org (https; "
                   "http only for localhost).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write. Default: customer-value-app-<version>.zip here.")
def package_command(folder: Path | None, url: str, out: Path | None) -> None:
    """Validate the app package, fill in the deployment's URL and write the zip to upload.

    FOLDER defaults to the app's own package (manifest/). Nothing is written if Zendesk
    would refuse the result.
    """
    folder = package_folder(folder)
    out = out or Path(DEFAULT_ZIP.format(version=manifest_version(folder)))
    try:
        package = build_package(folder, url, out)
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
