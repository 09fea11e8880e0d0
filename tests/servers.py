"""The test servers (PostgreSQL and Redis) named by TEST_DATABASE_URL and TEST_REDIS_URL, emptied
for each use. `.ci/services` starts both and prints the variables. Without them the tests that
need them are skipped, except where CUSTOMER_VALUE_TEST_SERVERS=required (as in `.ci/run`): there
a missing server fails the run."""

from __future__ import annotations

import os

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
