"""The webhook and trigger through which Zendesk tells the app about new tickets.

Provisioning is idempotent: each object is looked up by its name before it is created, so
running it again changes nothing; removing deletes both. Zendesk generates the webhook's
signing secret; the app reads it once and keeps it (sealed) to verify the calls.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from integrations.errors import NotFound
from integrations.zendesk import ZendeskClient

WEBHOOK_NAME = "Customer Value: score and tag"
TRIGGER_TITLE = "Customer Value: tag tickets by customer value"
PAYLOAD = json.dumps({"ticket_id": "{{ticket.id}}", "requester_id": "{{ticket.requester.id}}"})


@dataclass(frozen=True)
class Provisioned:
    webhook_id: str
    trigger_id: int
    signing_secret: str


def trigger_body(webhook_id: str) -> dict[str, Any]:
    """Fire when a ticket is created or its requester changes. The app's own updates only add
    or remove tags, which is neither, so they never call the webhook again."""
    return {"trigger": {
        "title": TRIGGER_TITLE, "active": True,
        "conditions": {"all": [], "any": [
            {"field": "update_type", "operator": "is", "value": "Create"},
            {"field": "requester_id", "operator": "changed"},
        ]},
        "actions": [{"field": "notification_webhook", "value": [webhook_id, PAYLOAD]}],
    }}


def provision(client: ZendeskClient, endpoint: str) -> Provisioned:
    """Create the webhook and the trigger unless they exist; return their ids and secret."""
    http = client.transport
    webhook = _find_webhook(client)
    if webhook is None:
        webhook = http.request("POST", "/api/v2/webhooks", json={"webhook": {
            "name": WEBHOOK_NAME, "endpoint": endpoint, "http_method": "POST",
            "request_format": "json", "status": "active",
            "subscriptions": ["conditional_ticket_events"]}})["webhook"]
    secret = http.get(f"/api/v2/webhooks/{webhook['id']}/signing_secret")["signing_secret"]
    trigger = _find_trigger(client)
    if trigger is None:
        trigger = http.request("POST", "/api/v2/triggers",
                               json=trigger_body(webhook["id"]))["trigger"]
    return Provisioned(str(webhook["id"]), int(trigger["id"]), str(secret["secret"]))


def unprovision(client: ZendeskClient) -> None:
    """Delete the trigger and the webhook, whichever exist."""
    trigger = _find_trigger(client)
    if trigger is not None:
        _delete(client, f"/api/v2/triggers/{trigger['id']}")
    webhook = _find_webhook(client)
    if webhook is not None:
        _delete(client, f"/api/v2/webhooks/{webhook['id']}")


def _find_webhook(client: ZendeskClient) -> dict[str, Any] | None:
    body = client.transport.get("/api/v2/webhooks", {"filter[name_contains]": WEBHOOK_NAME})
    return next((w for w in body.get("webhooks") or [] if w.get("name") == WEBHOOK_NAME), None)


def _find_trigger(client: ZendeskClient) -> dict[str, Any] | None:
    body = client.transport.get("/api/v2/triggers", {"active": "true"})
    return next((t for t in body.get("triggers") or [] if t.get("title") == TRIGGER_TITLE),
                None)


def _delete(client: ZendeskClient, path: str) -> None:
    with contextlib.suppress(NotFound):
        client.transport.request("DELETE", path)
