"""Webhook signatures exactly as Zendesk signs them, and the trigger's payload.

The expected signatures were computed independently with OpenSSL:
    printf '%s' "$TIMESTAMP$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
"""

from datetime import UTC, datetime, timedelta

import pytest

from plugin.web.signature import (
    TEST_SECRET,
    BadPayload,
    BadSignature,
    MissingSignature,
    StaleCall,
    TicketEvent,
    parse_event,
    sign,
    verify,
)

STAMP = "2024-05-01T10:00:00Z"
NOW = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)
BODY = b'{"ticket_id":"35436","requester_id":"20978392"}'


@pytest.mark.parametrize(("secret", "timestamp", "body", "expected"), [
    (TEST_SECRET, STAMP, BODY, "xdMKCy5IRraEGIqqiPuYU1E2HphpAEWKwoLgP/KqaaQ="),
    (TEST_SECRET, STAMP, b"", "q5ShDDhU9H3NYbxR3D/ZGbj+Symo/NJ6lcRcUuQhtD4="),
    ("project-secret-Ω", "1714557600", b'{"a":1}', "QjKvkxUsX+K12MP0oRMb+XjabMEBYpbaVWXm9p3WcKk="),
])
def test_signatures_match_independently_computed_vectors(secret, timestamp, body, expected):
    assert sign(secret, timestamp, body) == expected


def test_a_genuine_fresh_call_passes():
    verify(TEST_SECRET, BODY, "xdMKCy5IRraEGIqqiPuYU1E2HphpAEWKwoLgP/KqaaQ=", STAMP, now=NOW)


@pytest.mark.parametrize(("signature", "timestamp", "body", "error"), [
    (None, STAMP, BODY, MissingSignature),
    ("xdMKCy5IRraEGIqqiPuYU1E2HphpAEWKwoLgP/KqaaQ=", None, BODY, MissingSignature),
    ("not base64!!", STAMP, BODY, BadSignature),
    ("xdMKCy5IRraEGIqqiPuYU1E2HphpAEWKwoLgP/KqaaQ=", STAMP, BODY + b" ", BadSignature),
    ("xdMKCy5IRraEGIqqiPuYU1E2HphpAEWKwoLgP/KqaaQ=", "2024-05-01T10:00:01Z", BODY, BadSignature),
    (sign("another secret", STAMP, BODY), STAMP, BODY, BadSignature),
])
def test_bad_calls_are_refused(signature, timestamp, body, error):
    with pytest.raises(error):
        verify(TEST_SECRET, body, signature, timestamp, now=NOW)


@pytest.mark.parametrize("late", [timedelta(minutes=6), timedelta(minutes=-6)])
def test_stale_or_future_calls_are_refused_even_when_signed(late):
    with pytest.raises(StaleCall):
        verify(TEST_SECRET, BODY, sign(TEST_SECRET, STAMP, BODY), STAMP,
               now=datetime(2024, 5, 1, 10, 0, tzinfo=UTC) + late)


def test_payload_ids_arrive_as_strings_or_numbers():
    assert parse_event(BODY) == TicketEvent(35436, 20978392)
    assert parse_event(b'{"ticket_id": 1, "requester_id": 2, "extra": true}') == TicketEvent(1, 2)


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'{"ticket_id": "1"}', b'{"ticket_id": "{{ticket.id}}", '
    b'"requester_id": "2"}', b'{"ticket_id": -1, "requester_id": 2}',
    b'{"ticket_id": true, "requester_id": 2}', b"\xff\xfe",
])
def test_malformed_payloads_are_named(body):
    with pytest.raises(BadPayload):
        parse_event(body)
