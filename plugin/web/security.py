"""Headers every response carries.

The Content-Security-Policy lets only Zendesk's own domains frame the app, allows scripts only
from the app itself or with the request's nonce, and nothing inline without it.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g

FRAME_ANCESTORS = "https://*.zendesk.com https://*.zendesk-staging.com"


def init_app(app: Flask) -> None:
    app.before_request(_nonce)
    app.after_request(_headers)


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
