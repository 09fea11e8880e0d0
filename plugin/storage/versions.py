"""Every saved version of an account's settings: who saved it, when, what changed, and a way
back. A save never overwrites: it adds the next version, so scores and tags that record the
version they were computed with can always be explained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from plugin.core.settings import Settings
from plugin.core.times import as_utc
from plugin.storage.schema import settings_versions


@dataclass(frozen=True)
class Version:
    version: int
    settings: Settings
    author_id: int
    note: str
    created_at: datetime
    author_name: str = ""
    """Who saved it, by name: the Zendesk user's name, or the operator of a command."""


class VersionConflict(Exception):
    """Someone saved another version first; reload and try again."""


class SettingsVersions:
    def __init__(self, engine: Engine, account: int):
        self.engine = engine
        self.account = account

    def current(self) -> Settings:
        """The latest saved settings, or the defaults (version 1) before any save."""
        latest = self._rows(limit=1)
        return latest[0].settings if latest else Settings()

    def history(self, limit: int = 50) -> list[Version]:
        return self._rows(limit=limit)

    def get(self, version: int) -> Version | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(settings_versions).where(
                settings_versions.c.account_id == self.account,
                settings_versions.c.version == version)).first()
        return _version(row) if row is not None else None

    def settings_of(self, version: int) -> Settings | None:
        """The settings of a version; version 1 is the defaults until someone saves it."""
        found = self.get(version)
        if found is not None:
            return found.settings
        return Settings() if version == 1 else None

    def save(self, data: dict[str, Any], *, author_id: int, now: datetime, note: str = "",
             base_version: int | None = None, author_name: str = "") -> Version:
        """Validate `data` (any subset of the settings) and store it as the next version.

        `SettingsError` (nothing stored) when invalid; `VersionConflict` when `base_version`
        is given and is no longer the latest.
        """
        with self.engine.begin() as conn:
            latest = conn.execute(select(func.max(settings_versions.c.version)).where(
                settings_versions.c.account_id == self.account)).scalar() or 1
            if base_version is not None and base_version != latest:
                raise VersionConflict(f"version {latest} was saved since version {base_version}")
            settings = Settings.from_dict({**data, "version": latest + 1})
            try:
                conn.execute(settings_versions.insert().values(
                    account_id=self.account, version=settings.version, data=settings.to_dict(),
                    author_id=author_id, note=note[:200], created_at=as_utc(now),
                    author_name=author_name[:200] or None))
            except IntegrityError as error:
                raise VersionConflict("another save took this version number") from error
        return Version(settings.version, settings, author_id, note[:200], now, author_name[:200])

    def rollback(self, version: int, *, author_id: int, now: datetime,
                 author_name: str = "") -> Version:
        """A new version with the settings of an older one."""
        old = self.settings_of(version)
        if old is None:
            raise KeyError(version)
        data = old.to_dict()
        data.pop("version")
        return self.save(data, author_id=author_id, now=now, note=f"Rolled back to v{version}",
                         author_name=author_name)

    def _rows(self, limit: int) -> list[Version]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(settings_versions).where(
                settings_versions.c.account_id == self.account).order_by(
                settings_versions.c.version.desc()).limit(limit)).all()
        return [_version(row) for row in rows]


def _version(row) -> Version:
    return Version(row.version, Settings.from_dict(row.data), row.author_id, row.note,
                   as_utc(row.created_at), row.author_name or "")


def diff(before: Settings, after: Settings) -> list[tuple[str, Any, Any]]:
    """Every setting whose value differs, as (dotted path, before, after), in path order."""
    old, new = _flatten(before.to_dict()), _flatten(after.to_dict())
    old.pop("version", None)
    new.pop("version", None)
    return [(path, old.get(path), new.get(path)) for path in sorted(old.keys() | new.keys())
            if old.get(path) != new.get(path)]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}
