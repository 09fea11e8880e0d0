"""The app over a history store synced from the sandbox, and Zendesk's webhook calls to it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import requests

from integrations.http import Transport
from integrations.zendesk import ZendeskClient
from plugin import create_app
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from plugin.web.signature import TEST_SECRET, sign

NOW = datetime(2025, 6, 1, tzinfo=UTC)


AUTH = ("agent@example.com/token", "sandbox-token")


def open_tickets(base_url) -> list[tuple[int, int]]:
    body = requests.get(f"{base_url}/api/v2/tickets", params={"per_page": 100}, auth=AUTH,
                        timeout=10).json()
    return [(t["id"], t["requester_id"]) for t in body["tickets"]
            if t["status"] not in ("closed",)][:12]


def build_app(base_url, tmp_path, backend=None):
    """The app over a history store synced from the sandbox, with the queue of `backend` (by
    default SQLite files in `tmp_path`)."""
    backend = backend or {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
                          "QUEUE_PATH": str(tmp_path / "queue.db")}
    database = backend["DATABASE_URL"]
    upgrade(database)
    engine = connect(database)
    store = HistoryStore(engine, account_id(engine, base_url, NOW))
    client = ZendeskClient(Transport(base_url=base_url, session=requests.Session(), auth=AUTH,
                                     mode="background"))
    sync(client, store, clock=lambda: datetime.now(UTC))
    client.close()
    engine.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, **backend,
                      "ZENDESK_BASE_URL": base_url, "ZENDESK_EMAIL": AUTH[0].split("/")[0],
                      "ZENDESK_API_TOKEN": AUTH[1], "WEBHOOK_SECRET": TEST_SECRET,
                      "TAG_ALWAYS": True, "ZENDESK_READ_TIMEOUT": 1.0})
    return app


def call(client, body: dict, *, secret=TEST_SECRET, invocation=None):
    raw = json.dumps(body).encode()
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    headers = {"X-Zendesk-Webhook-Signature": sign(secret, stamp, raw),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp,
               "X-Zendesk-Webhook-Invocation-Id": invocation or uuid.uuid4().hex,
               "Content-Type": "application/json"}
    return client.post("/webhooks/zendesk", data=raw, headers=headers)


def tags_of(base_url, ticket_id):
    return requests.get(f"{base_url}/api/v2/tickets/{ticket_id}", auth=AUTH,
                        timeout=10).json()["ticket"]["tags"]
