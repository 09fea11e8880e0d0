"""Where the app keeps its data, from the environment with sensible defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_DATABASE = Path("instance") / "customer-value.db"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL (e.g. postgresql://...), else a SQLite file under ./instance."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        return url
    DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE.resolve()}"
