"""An app package folder as Zendesk sees it, and the problems found in it.

The package is what gets uploaded: `manifest.json` (and `requirements.json` if any) at the
root, plus everything under `translations/` and `assets/`. Anything else in the folder (the
logo's source, the scripts that draw it) stays out of the zip and out of the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from plugin.appkit.messages import message

ROOT_FILES = ("manifest.json", "requirements.json")
FOLDERS = ("translations", "assets")
IGNORED_NAMES = (".DS_Store", "Thumbs.db")

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a package, in Zendesk's words; `rule` is the message key."""

    level: Level
    rule: str
    message: str


def error(rule: str, /, **data: object) -> Problem:
    return Problem("error", rule, message(rule, **data))


def warning(rule: str, /, **data: object) -> Problem:
    return Problem("warning", rule, message(rule, **data))


class AppFolder:
    """Read access to the files of a package folder, by their paths inside the zip."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self) -> list[str]:
        """The package's files (relative POSIX paths, sorted), symlinks included."""
        found = [name for name in ROOT_FILES if self._entry(name).is_file()
                 or self._entry(name).is_symlink()]
        for folder in FOLDERS:
            top = self._entry(folder)
            if top.is_dir():
                found += [path.relative_to(self.root).as_posix()
                          for path in top.rglob("*")
                          if (path.is_file() or path.is_symlink())
                          and path.name not in IGNORED_NAMES]
        return sorted(found)

    def symlinks(self) -> list[str]:
        """Package paths that are symbolic links (or lie inside a linked folder)."""
        links = [folder for folder in FOLDERS if self._entry(folder).is_symlink()]
        return links + [name for name in self.files() if self._entry(name).is_symlink()]

    def nested_manifest(self) -> str | None:
        """`sub/manifest.json` one folder down, when the root has none (a zipped parent)."""
        found = sorted(self.root.glob("*/manifest.json"))
        return found[0].relative_to(self.root).as_posix() if found else None

    def has(self, name: str) -> bool:
        return self._entry(name).is_file()

    def read(self, name: str) -> bytes:
        return self._entry(name).read_bytes()

    def _entry(self, name: str) -> Path:
        return self.root / name
