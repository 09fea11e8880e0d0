"""Fixtures and helpers of the sandbox tests: one generated account, sandboxes serving it, and
a small HTTP client that talks to them the way an integration would (real sockets, Basic auth).

Test modules take the fixtures they use by assignment (`dataset = sandbox_fixtures.dataset`),
which registers them with pytest there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.sandbox import running_sandbox
from plugin.demo.generator import generate

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CUSTOMERS = 300
SEED = 11
AUTH = ("agent@example.com/token", "sandbox-token")
TIMEOUT = 10
UNLIMITED = {"rate_limit": 0, "export_rate_limit": 0}
ARCHIVE_AGE = timedelta(days=120)
BOUNDARY_MARGIN = timedelta(minutes=10)
"""No ticket of the account lies this close to the archiving boundary (checked), so the
sandbox's clock moving during the run cannot flip a ticket's archived state."""
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
"""Zendesk's OpenAPI descriptions, in ../shared beside the repository."""


class Api:
    """A `requests` session on a sandbox: `get("/tickets", page=2)` -> Response."""

    def __init__(self, base: str, auth: tuple[str, str] | None = AUTH):
        self.base = base
        self.session = requests.Session()
        self.session.auth = auth

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}/api/v2{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params, timeout=TIMEOUT)

    def send(self, method: str, path: str, body: Any = None, **params: Any
             ) -> requests.Response:
        return self.session.request(method, self.url(path), json=body, params=params,
                                    timeout=TIMEOUT)

    def control(self, method: str, name: str, body: Any = None) -> dict[str, Any]:
        response = self.session.request(method, f"{self.base}/_sandbox/{name}", json=body,
                                        timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.session.close()


def walk_export(api: Api, path: str, key: str, **params: Any
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every record of a cursor export from `params` to its end, and every page's body."""
    records, pages = [], []
    response = api.get(path, **params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        records += page[key]
        if page["end_of_stream"]:
            return records, pages
        response = api.get(page["after_url"])


def walk_pages(api: Api, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a cursor-paged list (`links.next` until `meta.has_more` is false)."""
    records = []
    response = api.get(path, **params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        records += page[key]
        if not page["meta"]["has_more"]:
            return records
        response = api.get(page["links"]["next"])


def read(folder: Path, name: str) -> list[dict[str, Any]]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))[name]


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def archived_ids(tickets: list[dict[str, Any]]) -> set[int]:
    """Tickets Zendesk archives at NOW: closed, last updated more than 120 days before."""
    cutoff = NOW - ARCHIVE_AGE
    near = [t["id"] for t in tickets
            if abs(datetime.fromisoformat(t["updated_at"]) - cutoff) < BOUNDARY_MARGIN]
    assert not near, f"tickets too close to the archiving boundary: {near}"
    return {t["id"] for t in tickets
            if t["status"] == "closed" and datetime.fromisoformat(t["updated_at"]) < cutoff}


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated account of CUSTOMERS customers as of NOW, made once per test session."""
    folder = tmp_path_factory.getbasetemp() / "sandbox-account"
    if not folder.exists():
        generate(folder, CUSTOMERS, seed=SEED, now=NOW)
    return folder


@pytest.fixture(scope="session")
def sandbox(dataset: Path) -> Iterator[str]:
    """A sandbox for reading only (no test writes to it), with the rate limits lifted."""
    with running_sandbox(dataset, now=NOW, **UNLIMITED) as base:
        yield base


@pytest.fixture
def api(sandbox: str) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.close()
