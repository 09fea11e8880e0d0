"""Headers every response carries, and errors translated at the edge into one JSON shape.

The Content-Security-Policy lets only Zendesk's own domains frame the app, allows scripts only
from the app itself or with the request's nonce, and nothing inline without it.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from integrations.errors import AuthFailed, IntegrationError, NotFound, RateLimited

log = logging.getLogger(__name__)

FRAME_ANCESTORS = "https://*.zendesk.com https://*.zendesk-staging.com"


def init_app(app: Flask) -> None:
    app.before_request(_nonce)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IntegrationError, _integration_error)


def nonce() -> str:
    """This request's script nonce, for templates: `<script nonce="{{ csp_nonce() }}">`."""
    return g.csp_nonce


def _nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _headers(response):
    script = f"'self' 'nonce-{g.get('csp_nonce', '')}'"
    # The demo's harness page frames the sidebar itself, standing in for Zendesk.
    ancestors = FRAME_ANCESTORS + (" 'self'" if current_app.config["DEMO_MODE"] else "")
    response.headers["Content-Security-Policy"] = "; ".join([
        "default-src 'self'", f"script-src {script}", "style-src 'self'",
        "img-src 'self' data: blob:", "connect-src 'self'", "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", f"frame-ancestors {ancestors}",
    ])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_body(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _http_error(error: HTTPException):
    return error_body(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                      error.description or "")


def _integration_error(error: IntegrationError):
    if isinstance(error, NotFound):
        return error_body(404, "not_found", str(error))
    if isinstance(error, RateLimited):
        response, status = error_body(503, "rate_limited", str(error),
                                      retry_after=error.retry_after)
        response.headers["Retry-After"] = str(int(error.retry_after))
        return response, status
    if isinstance(error, AuthFailed):
        return error_body(502, "credentials_rejected", str(error))
    log.warning("%s on %s: %s", type(error).__name__, request.path, error)
    return error_body(503, "unavailable", str(error))
