"""The webhook and trigger through which Zendesk tells the app about ticket changes.

What triggers what: the trigger calls the webhook when a ticket is created, when its
requester changes, and when its status, priority or satisfaction score changes (each of which
moves the requester's value: a reopen, an escalation, a bad rating); the job then scores the
requester and writes the ticket's tier tag. The app's own updates only add or remove tags,
none of those, so they never call the webhook again. Changes Zendesk's triggers cannot see
(a new deal in the CRM, a customer's other tickets) reach the tags through the server's
periodic sync, which re-tags the open tickets of every customer whose data it brought in.

Provisioning is idempotent: each object is looked up by its name among all of them (every
page, the trigger also when switched off) before it is created, so running it again changes
nothing and an inactive trigger of the app is switched back on and brought up to date rather
than duplicated; removing deletes both. Zendesk generates the webhook's signing secret; the
app reads it once and keeps it (sealed) to verify the calls.
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


CHANGES = ("requester_id", "status", "priority", "satisfaction_score")
"""Ticket fields whose change fires the trigger (Zendesk's conditions reference: each takes
the `changed` operator); a tag is not among them."""


def trigger_body(webhook_id: str) -> dict[str, Any]:
    """Fire when a ticket is created, or its requester, status, priority or satisfaction
    score changes. The app's own updates only add or remove tags, which is none of these, so
    they never call the webhook again."""
    return {"trigger": {
        "title": TRIGGER_TITLE, "active": True,
        "conditions": {"all": [], "any": [
            {"field": "update_type", "operator": "is", "value": "Create"},
            *({"field": field, "operator": "changed"} for field in CHANGES),
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
    wanted = trigger_body(webhook["id"])
    if trigger is None:
        trigger = http.request("POST", "/api/v2/triggers", json=wanted)["trigger"]
    elif _outdated(trigger, wanted["trigger"]):
        # Switched off by someone, or from an older version of the app: bring it back.
        trigger = http.request("PUT", f"/api/v2/triggers/{trigger['id']}",
                               json=wanted)["trigger"]
    return Provisioned(str(webhook["id"]), int(trigger["id"]), str(secret["secret"]))


def _outdated(trigger: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the stored trigger is off or differs from what the app wants (conditions
    compared as Zendesk answers them: a `changed` condition comes back with a null value)."""
    def conditions(body: dict[str, Any]) -> dict[str, list[tuple]]:
        given = body.get("conditions") or {}
        return {group: sorted((c.get("field"), c.get("operator"), c.get("value"))
                              for c in given.get(group) or []) for group in ("all", "any")}
    return (not trigger.get("active") or conditions(trigger) != conditions(wanted)
            or trigger.get("actions") != wanted["actions"])


FIELD_KINDS = ("user_fields", "organization_fields")


def provision_fields(client: ZendeskClient, wanted: dict[str, tuple[str, str]]) -> list[str]:
    """Create the user and organization fields the app writes (`key → (type, title)`) where
    missing; the `kind/key` of each one created. Existing fields are left as they are (an
    admin may have renamed or reordered them)."""
    created = []
    for kind in FIELD_KINDS:
        existing = {f.get("key") for f in client.list_all(f"/api/v2/{kind}", kind)}
        for key, (field_type, title) in wanted.items():
            if key in existing:
                continue
            client.transport.request("POST", f"/api/v2/{kind}", json={kind[:-1]: {
                "key": key, "type": field_type, "title": title,
                "description": "Written by the Customer Value app; edits are overwritten."}})
            created.append(f"{kind}/{key}")
    return created


def missing_fields(client: ZendeskClient, wanted: dict[str, tuple[str, str]]) -> list[str]:
    """The `kind/key` of each field the app writes (`provision_fields`' `wanted`) that the
    account does not have: what the set-up checklist waits for."""
    missing = []
    for kind in FIELD_KINDS:
        existing = {f.get("key") for f in client.list_all(f"/api/v2/{kind}", kind)}
        missing += [f"{kind}/{key}" for key in wanted if key not in existing]
    return missing


def unprovision(client: ZendeskClient) -> None:
    """Delete the trigger and the webhook, whichever exist."""
    trigger = _find_trigger(client)
    if trigger is not None:
        _delete(client, f"/api/v2/triggers/{trigger['id']}")
    webhook = _find_webhook(client)
    if webhook is not None:
        _delete(client, f"/api/v2/webhooks/{webhook['id']}")


def _find_webhook(client: ZendeskClient) -> dict[str, Any] | None:
    found = client.list_all("/api/v2/webhooks", "webhooks",
                            {"filter[name_contains]": WEBHOOK_NAME})
    return next((w for w in found if w.get("name") == WEBHOOK_NAME), None)


def _find_trigger(client: ZendeskClient) -> dict[str, Any] | None:
    """The app's trigger among all the account's triggers, active or not, on every page."""
    return next((t for t in client.list_all("/api/v2/triggers", "triggers")
                 if t.get("title") == TRIGGER_TITLE), None)


def _delete(client: ZendeskClient, path: str) -> None:
    with contextlib.suppress(NotFound):
        client.transport.request("DELETE", path)
