"""How large a request may be: its headers at most 32 KiB in all (names and values; a sidebar's
are well under 2 KiB), its body MAX_CONTENT_LENGTH (about 1 MB) for every route and 64 KB for
Zendesk's webhook calls (a trigger's body is a few hundred bytes).

Headers over the bound are refused with a 431 (the server in front bounds them too, but only
loosely: granian refuses headers that outgrow its read buffer, which depends on how the bytes
arrive).

A body announced larger than its route's limit by Content-Length is refused with a 413 before
a byte of it is read; a body without a length (chunked, streamed) is read only up to the limit
(Werkzeug's limited input stream), and going past it is the same 413.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request

from plugin.web.signature import MAX_BODY

HEADER_BYTES = 32 * 1024
"""At most this many bytes of header names and values in one request."""
ROUTE_LIMITS = {"hooks.zendesk_webhook": MAX_BODY}
"""Endpoints with a tighter limit than the app's MAX_CONTENT_LENGTH, in bytes."""


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _limit)


def body() -> bytes:
    """The request's body, at most its route's limit: a streamed body that reaches the limit
    is refused (413) rather than handed on cut short."""
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit:
        abort(413, f"the request body may be at most {limit - 1} bytes when streamed")
    return data


def _limit() -> None:
    current = request._get_current_object()  # looked up once (each proxy use is a lookup)
    headers = sum(len(name) + len(value) for name, value in current.environ.items()
                  if name.startswith("HTTP_"))
    if headers > HEADER_BYTES:
        abort(431, f"the request's headers may be at most {HEADER_BYTES} bytes")
    limit = ROUTE_LIMITS.get(current.endpoint or "", current_app.config["MAX_CONTENT_LENGTH"])
    current.max_content_length = limit
    length = current.content_length
    if limit is not None and length is not None and length > limit:
        abort(413, f"the request body may be at most {limit} bytes")
