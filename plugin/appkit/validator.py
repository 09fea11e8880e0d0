"""Check a Zendesk app package folder offline, as Zendesk's validator will on upload.

Zendesk runs its validator (the `zendesk_apps_support` gem, ZAS) only on its servers, when the
zip is uploaded. `validate` runs the same rules first, in the order ZAS's `Package#validate`
runs them (marketplace, manifest, translations, file types, banner), and adds the warnings of
`secure_settings.rb` and a few of our own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plugin.appkit import (
    advice_rules,
    asset_rules,
    manifest_rules,
    parameter_rules,
    translation_rules,
)
from plugin.appkit.folder import AppFolder, Problem


@dataclass(frozen=True)
class Report:
    """Every problem of one package: errors block the upload, warnings do not."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(root: Path) -> Report:
    """All errors and warnings of the package in `root` (a folder, not a zip)."""
    folder = AppFolder(root)
    problems = asset_rules.symlink_errors(folder)
    manifest, unreadable = manifest_rules.read_manifest(folder)
    problems += unreadable
    if manifest is not None:
        problems += manifest_rules.check(folder, manifest)
        problems += parameter_rules.check(manifest)
        problems += manifest_rules.check_locations(folder, manifest)
        problems += translation_rules.check(folder, manifest)
    problems += asset_rules.banned_type_errors(folder) + asset_rules.banner_errors(folder)
    if manifest is not None:
        problems += parameter_rules.warnings(manifest) + advice_rules.warnings(manifest)
    problems += asset_rules.warnings(folder)
    return Report(tuple(problems))
