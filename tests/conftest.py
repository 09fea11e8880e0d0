"""Shared fixtures: apps built through the composition root with fakes, the HTTP boundary, and
the databases and queues the storage and queue tests run against.

Storage tests take `database_url` and run twice: on a SQLite file and on PostgreSQL. Tests of
the store and the queue together take `backend` and run on the embedded set-up (SQLite files)
and on the scale-out one (PostgreSQL and Redis). The servers come
from `TEST_DATABASE_URL` and `TEST_REDIS_URL` (`.ci/services` starts both and prints them).
Without them those runs are skipped, except where `CUSTOMER_VALUE_TEST_SERVERS=required` (as in
`.ci/run`): there a missing server fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from hypothesis import settings as hypothesis_settings

from plugin import create_app
from plugin.bootstrap import build_services
from plugin.config import load
from tests.factories import NOW
from tests.fakes import FakeSleep, FakeZendesk
from tests.servers import empty_postgresql, empty_redis
from tests.tokens import ACME_TOKEN, SECRET, key_pair


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield empty_postgresql()


@pytest.fixture(params=["embedded", pytest.param("servers", marks=pytest.mark.slow)])
def backend(request, tmp_path: Path) -> dict[str, str]:
    """App configuration for the history store and the queue together: the embedded default
    (SQLite files), then the scale-out set-up (PostgreSQL and Redis)."""
    if request.param == "embedded":
        return {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                "QUEUE_PATH": str(tmp_path / "queue.db")}
    return {"DATABASE_URL": empty_postgresql(), "REDIS_URL": empty_redis(),
            "QUEUE_PATH": str(tmp_path / "unused-queue.db")}

hypothesis_settings.register_profile("thorough", deadline=None, max_examples=150)
hypothesis_settings.register_profile("fast", deadline=None, max_examples=15)


def pytest_configure(config) -> None:
    """Property tests try 150 examples each; the fast lane (`-m "not slow"`) tries 15."""
    fast = "not slow" in (config.getoption("markexpr") or "")
    hypothesis_settings.load_profile("fast" if fast else "thorough")


@pytest.fixture
def http():
    """The HTTP boundary: every request must be one the test registered, and every registered
    one must be made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleep():
    return FakeSleep()


@pytest.fixture(scope="session")
def keys():
    """Zendesk's signing key for the app and its public PEM."""
    return key_pair()


@pytest.fixture
def make_app(tmp_path):
    """Build apps as `create_app` does, with the services built by the composition root from
    the same configuration and the given fakes (`client_factory`, `clock`, `crm`) and a fake
    public-key fetch. By default: a SQLite database and queue in `tmp_path`."""
    built = []

    def make(config=None, *, fetch_key=None, **fakes):
        full = {"TESTING": True, "SECRET_KEY": SECRET,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                "QUEUE_PATH": str(tmp_path / "queue.db"), **(config or {})}
        services = build_services(load(full), **fakes)
        built.append(services)
        return create_app(full, services=services, fetch_key=fetch_key)

    yield make
    for services in built:
        services.close()


@pytest.fixture
def fake():
    return FakeZendesk()


@pytest.fixture
def app(make_app, database_url, fake):
    """The demo-mode app of the single account acme (app 55, installation 66), on a fresh
    database (SQLite, then PostgreSQL), with a fake Zendesk and the clock at `factories.NOW`."""
    return make_app({"DEMO_MODE": True, "DATABASE_URL": database_url,
                     "ZENDESK_BASE_URL": "https://acme.zendesk.com",
                     "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": ACME_TOKEN,
                     "ZENDESK_APP_ID": "55", "ZENDESK_INSTALLATION_ID": "66"},
                    client_factory=lambda config: fake, clock=lambda: NOW)


@pytest.fixture
def client(app):
    return app.test_client()

