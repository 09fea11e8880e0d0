"""The real app package and copies of it changed one file at a time, for validator tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from plugin.appkit.folder import AppFolder
from plugin.resources import resource_dir

REAL = resource_dir("manifest")


def copy_package(target: Path) -> Path:
    for name in AppFolder(REAL).files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL / name, target / name)
    return target


def edit(name, change):
    """A change to one JSON file of the package: `change(data)` edits it in place."""
    def apply(folder):
        path = folder / name
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return apply


def manifest(change):
    return edit("manifest.json", change)
