"""Alembic migrations of the app's database; `upgrade(url)` applies them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text

from plugin.storage.schema import private_sqlite, with_driver

HERE = Path(__file__).parent


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", with_driver(url).replace("%", "%%"))
    return cfg


MIGRATION_LOCK = 0x637573746F6D6572
"""The PostgreSQL advisory lock every process takes to migrate, so that app processes
starting together on several machines migrate one after the other (the later ones find the
schema current and do nothing)."""


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating it if empty)."""
    cfg = config(url)
    if not with_driver(url).startswith("postgresql"):
        private_sqlite(url)
        command.upgrade(cfg, revision)
        return
    engine = create_engine(with_driver(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                connection.commit()
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": MIGRATION_LOCK})
                connection.commit()
    finally:
        engine.dispose()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The revision this code's schema is at."""
    return ScriptDirectory.from_config(config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database behind `connection` is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()
