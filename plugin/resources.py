"""Where the app's templates and Zendesk app package live: beside the package in a source
checkout, bundled inside it in an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`templates` or `manifest`: the bundled copy if installed, else the repository's."""
    bundled = PACKAGE / "_bundled" / name
    return bundled if bundled.is_dir() else PACKAGE.parent / name
