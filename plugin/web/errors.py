"""Errors translated at the edge, in one place, into one JSON shape:
`{"error": {"code": ..., "message": ..., ...}}` with the HTTP status that says what went wrong.
An integration failure is never a 500 page: not found is a 404, rate limiting a 503 with
Retry-After, refused credentials a 502, anything else from Zendesk or a CRM a 503.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from integrations.errors import AuthFailed, IntegrationError, NotFound, RateLimited

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IntegrationError, _integration_error)


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
