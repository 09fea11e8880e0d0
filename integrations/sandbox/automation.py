"""Webhooks and triggers (Zendesk's Webhooks and Triggers APIs), stored for later reading.

The sandbox keeps what an app installs and answers as Zendesk does; it does not fire them.
Webhook answers hide the credentials of `authentication` and the signing secret, which only
`/webhooks/{id}/signing_secret` reveals.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from flask import Blueprint, Response, request

from integrations.sandbox import listings
from integrations.sandbox.clock import iso
from integrations.sandbox.context import (
    PAGE_MAX,
    api_base,
    link,
    paged,
    reply,
    request_body,
    services,
)
from integrations.sandbox.errors import ApiError, listed, not_found, record_invalid
from integrations.sandbox.paging import cursor_links, cursor_request
from integrations.sandbox.people import ADMIN_ID

Record = dict[str, Any]
WEBHOOK_REQUIRED = ("name", "endpoint", "http_method", "request_format", "status")
WEBHOOK_CHOICES = {"http_method": ("GET", "POST", "PUT", "PATCH", "DELETE"),
                   "request_format": ("json", "xml", "form_encoded"),
                   "status": ("active", "inactive")}
WEBHOOK_FIELDS = (*WEBHOOK_REQUIRED, "description", "subscriptions", "authentication",
                  "custom_headers", "external_source")
TRIGGER_FIELDS = ("title", "conditions", "actions", "active", "description", "position",
                  "category_id")
TRIGGER_ID_BASE = 360_100_000
SECRET_BYTES = 32
SIGNING_ALGORITHM = "SHA256"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

blueprint = Blueprint("automation", __name__, url_prefix="/api/v2")


@blueprint.post("/webhooks")
def create_webhook() -> Response:
    clone_of = request.args.get("clone_webhook_id")
    fields = _stored_webhook(clone_of) if clone_of else _webhook_fields(required=True)
    stamp = iso(services().store.clock.stamp())
    webhook = {**{k: v for k, v in fields.items() if k in WEBHOOK_FIELDS}, "id": _ulid(),
               "created_at": stamp, "created_by": str(ADMIN_ID), "updated_at": stamp,
               "updated_by": str(ADMIN_ID), "signing_secret": _secret()}
    services().store.save("webhooks", webhook)
    return reply({"webhook": _shown(webhook)}, 201)


@blueprint.get("/webhooks")
def list_webhooks() -> Response:
    args = request.args
    listing = listings.webhooks(args.get("filter[name_contains]"), args.get("filter[status]"),
                                args.get("sort"))
    page = services().store.page(listing, cursor_request(args, listing.order, PAGE_MAX,
                                                         PAGE_MAX))
    return reply({"webhooks": [_shown(json.loads(text)) for text in page.items],
                  **cursor_links(page, listing.order, link)})


@blueprint.get("/webhooks/<webhook_id>")
def show_webhook(webhook_id: str) -> Response:
    return reply({"webhook": _shown(_stored_webhook(webhook_id))})


@blueprint.put("/webhooks/<webhook_id>")
def update_webhook(webhook_id: str) -> Response:
    return _change_webhook(webhook_id, _webhook_fields(required=True), replace=True)


@blueprint.patch("/webhooks/<webhook_id>")
def patch_webhook(webhook_id: str) -> Response:
    return _change_webhook(webhook_id, _webhook_fields(required=False), replace=False)


@blueprint.delete("/webhooks/<webhook_id>")
def delete_webhook(webhook_id: str) -> Response:
    if not services().store.forget("webhooks", webhook_id):
        raise _webhook_not_found(webhook_id)
    return Response(status=204)


@blueprint.get("/webhooks/<webhook_id>/signing_secret")
def show_signing_secret(webhook_id: str) -> Response:
    return reply({"signing_secret": _stored_webhook(webhook_id)["signing_secret"]})


@blueprint.post("/webhooks/<webhook_id>/signing_secret")
def reset_signing_secret(webhook_id: str) -> Response:
    webhook = {**_stored_webhook(webhook_id), "signing_secret": _secret()}
    services().store.save("webhooks", webhook)
    return reply({"signing_secret": webhook["signing_secret"]}, 201)


@blueprint.get("/triggers")
def list_triggers() -> Response:
    active = request.args.get("active")
    return paged("triggers", listings.triggers(None if active is None else active == "true"))


@blueprint.post("/triggers")
def create_trigger() -> Response:
    fields, api = _trigger_fields(required=True), api_base()
    stamp = iso(services().store.clock.stamp())

    def build(trigger_id: int) -> Record:
        return {"url": f"{api}/triggers/{trigger_id}.json", "id": trigger_id, "active": True,
                "default": False, "description": None,
                "position": trigger_id - TRIGGER_ID_BASE, **fields,
                "raw_title": fields["title"], "created_at": stamp, "updated_at": stamp}

    return reply({"trigger": services().store.add_trigger(TRIGGER_ID_BASE, build)}, 201)


@blueprint.get("/triggers/<int:trigger_id>")
def show_trigger(trigger_id: int) -> Response:
    return reply({"trigger": _stored_trigger(trigger_id)})


@blueprint.put("/triggers/<int:trigger_id>")
def update_trigger(trigger_id: int) -> Response:
    trigger = {**_stored_trigger(trigger_id), **_trigger_fields(required=False)}
    trigger["raw_title"] = trigger["title"]
    trigger["updated_at"] = iso(services().store.clock.stamp())
    services().store.save("triggers", trigger)
    return reply({"trigger": trigger})


@blueprint.delete("/triggers/<int:trigger_id>")
def delete_trigger(trigger_id: int) -> Response:
    if not services().store.forget("triggers", trigger_id):
        raise not_found()
    return Response(status=204)


def _webhook_fields(required: bool) -> Record:
    """The `webhook` object of a request, checked against the Webhook schema's rules (400)."""
    fields = request_body().get("webhook")
    if not isinstance(fields, dict):
        raise listed(400, "InvalidInput", 'expected {"webhook": {...}}')
    missing = [name for name in WEBHOOK_REQUIRED if required and not fields.get(name)]
    if missing:
        raise listed(400, "InvalidInput", f"{', '.join(missing)} required")
    for name, choices in WEBHOOK_CHOICES.items():
        if name in fields and fields[name] not in choices:
            raise listed(400, "InvalidInput", f"{name} must be one of {', '.join(choices)}")
    return {key: value for key, value in fields.items() if key in WEBHOOK_FIELDS}


def _change_webhook(webhook_id: str, fields: Record, replace: bool) -> Response:
    stored = _stored_webhook(webhook_id)
    kept = {key: stored[key] for key in ("id", "created_at", "created_by", "signing_secret")}
    base = kept if replace else stored
    services().store.save("webhooks", {
        **base, **fields, "updated_at": iso(services().store.clock.stamp()),
        "updated_by": str(ADMIN_ID)})
    return Response(status=204)


def _stored_webhook(webhook_id: str) -> Record:
    webhook = services().store.saved("webhooks", webhook_id)
    if webhook is None:
        raise _webhook_not_found(webhook_id)
    return webhook


def _webhook_not_found(webhook_id: str) -> ApiError:
    return listed(404, "RecordNotFound", "Webhook not found", f"No webhook {webhook_id}")


def _shown(webhook: Record) -> Record:
    """A webhook as answered: no signing secret, and authentication without credentials."""
    shown = {key: value for key, value in webhook.items() if key != "signing_secret"}
    if isinstance(shown.get("authentication"), dict):
        shown["authentication"] = {key: value for key, value in shown["authentication"].items()
                                   if key != "data"}
    return shown


def _trigger_fields(required: bool) -> Record:
    """The `trigger` object of a request, checked as Zendesk does (422 RecordInvalid)."""
    fields = request_body().get("trigger")
    if not isinstance(fields, dict):
        raise record_invalid("trigger", 'expected {"trigger": {...}}')
    for name in ("title", "conditions", "actions"):
        if required and not fields.get(name):
            raise record_invalid(name, f"{name.capitalize()}: cannot be blank", "BlankValue")
    conditions = fields.get("conditions", {})
    if not isinstance(conditions, dict) or not all(
            isinstance(conditions.get(group, []), list) for group in ("all", "any")):
        raise record_invalid("conditions", 'conditions must be {"all": [...], "any": [...]}')
    if not isinstance(fields.get("actions", []), list):
        raise record_invalid("actions", "actions must be a list")
    return {key: value for key, value in fields.items() if key in TRIGGER_FIELDS}


def _stored_trigger(trigger_id: int) -> Record:
    trigger = services().store.saved("triggers", trigger_id)
    if trigger is None:
        raise not_found()
    return trigger


def _secret() -> Record:
    token = base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
    return {"algorithm": SIGNING_ALGORITHM, "secret": token}


def _ulid() -> str:
    """A ULID, the shape of Zendesk's webhook ids: milliseconds, then 80 random bits."""
    value = time.time_ns() // 1_000_000 << 80 | secrets.randbits(80)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
