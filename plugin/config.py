"""Where the app keeps its data, from the environment with sensible defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DATABASE_FILE = "customer-value.db"


def instance_folder(env: Mapping[str, str] | None = None) -> Path:
    """Where the app keeps its own files (SQLite database, secret key, instance config):
    CUSTOMER_VALUE_INSTANCE, else ./instance."""
    env = os.environ if env is None else env
    return Path(env.get("CUSTOMER_VALUE_INSTANCE", "").strip() or "instance").resolve()


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL (e.g. postgresql://...), else a SQLite file in the instance folder."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return with_driver(url)
    folder = instance_folder(env)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DATABASE_FILE}"


def with_driver(url: str) -> str:
    """A PostgreSQL URL as people write it (`postgres://`, `postgresql://`) with the driver
    this app installs (psycopg 3) named; other URLs as they are."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url
