"""`POST /webhooks/zendesk`: Zendesk's trigger calls, verified, de-duplicated and queued.

The view does only what must happen before answering: check the signature, read the two ids,
note the invocation id and the signature (Zendesk may deliver a call more than once; a
replayed call under a new or no invocation id is refused too), enqueue the tagging job,
and answer 202. Everything slow happens in the worker.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, jsonify, request

from plugin.storage.secrets import WEBHOOK_SECRET
from plugin.web import limits
from plugin.web.observability import set_account
from plugin.web.signature import (
    INVOCATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BadPayload,
    WebhookRefused,
    parse_event,
    signature_digest,
    verify,
)

MAX_INVOCATION = 128
"""The invocation id's column width; Zendesk's ids are far shorter."""

bp = Blueprint("hooks", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.post("/webhooks/zendesk")
def zendesk_webhook():
    services = current_app.extensions["customer_value"]
    if services.zendesk is None:
        abort(503, "no Zendesk account is configured")
    secret = current_app.config.get("WEBHOOK_SECRET") or _provisioned_secret(services)
    if not secret:
        abort(503, "webhooks are not configured: switch tagging on in the settings, or set "
                   "CUSTOMER_VALUE_WEBHOOK_SECRET")
    body = limits.body()
    now = services.clock()
    try:
        verify(secret, body, request.headers.get(SIGNATURE_HEADER),
               request.headers.get(TIMESTAMP_HEADER), now=now)
        event = parse_event(body)
    except BadPayload as error:
        abort(400, str(error))
    except WebhookRefused as error:
        abort(401, str(error))
    account_key = services.zendesk.base_url
    set_account(account_key)
    invocation = request.headers.get(INVOCATION_HEADER, "").strip()
    if not invocation or len(invocation) > MAX_INVOCATION:
        abort(400, f"the call needs an {INVOCATION_HEADER} header of at most "
                   f"{MAX_INVOCATION} characters")
    if not services.first_delivery(account_key, invocation, ticket_id=event.ticket_id,
                                   requester_id=event.requester_id,
                                   signature_digest=signature_digest(
                                       request.headers[SIGNATURE_HEADER])):
        return jsonify({"status": "duplicate"}), 200
    current_app.extensions["queue"].tag_ticket(account_key, event.ticket_id, event.requester_id,
                                               invocation)
    return jsonify({"status": "queued"}), 202


def _provisioned_secret(services) -> str | None:
    return services.secret(services.store(services.zendesk.base_url), WEBHOOK_SECRET)
