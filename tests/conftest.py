"""Shared fixtures: the databases and queues the storage and queue tests run against.

Storage tests take `database_url` and run twice: on a SQLite file and on PostgreSQL. Tests of
the store and the queue together take `backend` and run on the embedded set-up (SQLite files)
and on the scale-out one (PostgreSQL and Redis). The servers come
from `TEST_DATABASE_URL` and `TEST_REDIS_URL` (`.ci/services` starts both and prints them).
Without them those runs are skipped, except where `CUSTOMER_VALUE_TEST_SERVERS=required` (as in
`.ci/run`): there a missing server fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def server_url(variable: str, what: str) -> str:
    url = os.environ.get(variable, "")
    if not url:
        if os.environ.get("CUSTOMER_VALUE_TEST_SERVERS") == "required":
            pytest.fail(f"{what} is required here but {variable} is not set")
        pytest.skip(f"no {what}: set {variable} (`eval \"$(bash .ci/services)\"` starts one)")
    return url


def empty_postgresql() -> str:
    """The test PostgreSQL database, emptied: every table, type and migration mark dropped."""
    url = server_url("TEST_DATABASE_URL", "PostgreSQL")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def empty_redis() -> str:
    import redis

    url = server_url("TEST_REDIS_URL", "Redis")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield empty_postgresql()


@pytest.fixture(params=["embedded", "servers"])
def backend(request, tmp_path: Path) -> dict[str, str]:
    """App configuration for the history store and the queue together: the embedded default
    (SQLite files), then the scale-out set-up (PostgreSQL and Redis)."""
    if request.param == "embedded":
        return {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                "QUEUE_PATH": str(tmp_path / "queue.db")}
    return {"DATABASE_URL": empty_postgresql(), "REDIS_URL": empty_redis(),
            "QUEUE_PATH": str(tmp_path / "unused-queue.db")}
