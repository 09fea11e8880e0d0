"""Zendesk webhook signatures and payloads, checked before anything is trusted.

Zendesk signs each call as base64(HMAC-SHA256(signing secret, timestamp + raw body)) and sends
the signature and the timestamp in `X-Zendesk-Webhook-Signature` and
`X-Zendesk-Webhook-Signature-Timestamp` ("Verifying webhook authenticity",
https://developer.zendesk.com/documentation/webhooks/verifying/). A timestamp far from now is
refused too, so a captured call cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from plugin.web.ids import parse_id

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
FRESHNESS = timedelta(minutes=5)
FUTURE_SKEW = timedelta(seconds=60)
"""How far ahead of the app's clock a call may be signed (clock drift, not a pre-signed call)."""
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
"""The secret Zendesk signs test calls with ("Test webhook" in Admin Center and the API)."""
MAX_BODY = 64 * 1024


class WebhookRefused(Exception):
    """A call that must not be acted on; the message says why."""


class MissingSignature(WebhookRefused):
    pass


class BadSignature(WebhookRefused):
    pass


class StaleCall(WebhookRefused):
    pass


class BadPayload(WebhookRefused):
    pass


@dataclass(frozen=True, slots=True)
class TicketEvent:
    ticket_id: int
    requester_id: int


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Zendesk's signature of a call: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, body: bytes, signature: str | None, timestamp: str | None, *,
           now: datetime, freshness: timedelta = FRESHNESS,
           future_skew: timedelta = FUTURE_SKEW) -> None:
    """Raise a `WebhookRefused` unless the call is signed with `secret` and fresh: signed at
    most `freshness` ago and at most `future_skew` ahead."""
    if not signature or not timestamp:
        raise MissingSignature("the call has no Zendesk signature")
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("the signature is not base64") from None
    expected = base64.b64decode(sign(secret, timestamp, body))
    if not hmac.compare_digest(given, expected):
        raise BadSignature("the signature does not match this app's signing secret")
    sent = _moment(timestamp)
    if now - sent > freshness or sent - now > future_skew:
        raise StaleCall(f"the call was signed at {timestamp}, too far from now to accept")


def signature_digest(signature: str) -> str:
    """A fixed-size key of a call's signature (it covers the timestamp and body): the same
    signed call replayed under another invocation id has the same digest."""
    return hashlib.sha256(signature.strip().encode()).hexdigest()


def parse_event(body: bytes) -> TicketEvent:
    """The ticket and requester named by the trigger's JSON body (Zendesk fills placeholders
    in as strings: {"ticket_id": "{{ticket.id}}", "requester_id": "{{ticket.requester.id}}"})."""
    if len(body) > MAX_BODY:
        raise BadPayload(f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadPayload("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadPayload("the body must be a JSON object")
    return TicketEvent(ticket_id=_id(data, "ticket_id"), requester_id=_id(data, "requester_id"))


def _id(data: dict, key: str) -> int:
    value = data.get(key)
    try:
        return parse_id(value.strip() if isinstance(value, str) else value, key)
    except ValueError:
        raise BadPayload(f"{key} must be a Zendesk id, not {str(value)[:40]!r}") from None


def _moment(timestamp: str) -> datetime:
    try:
        if timestamp.isdigit():
            return datetime.fromtimestamp(int(timestamp), UTC)
        moment = datetime.fromisoformat(timestamp)
    except (ValueError, OverflowError):
        raise StaleCall(f"the signature timestamp {timestamp!r} is not a time") from None
    if moment.tzinfo is None:
        raise StaleCall(f"the signature timestamp {timestamp!r} has no time zone")
    return moment
