"""Headers every response carries, and no cookie session.

The Content-Security-Policy lets only Zendesk's own domains frame the app, allows scripts only
from the app itself or with the request's nonce, and nothing inline without it. The nonce is
drawn when a page first asks for it: an answer that rendered no nonced script (JSON, most of
the traffic) carries the same policy without one, so scripts from the app itself only.

The app keeps no Flask cookie session: its sessions are Bearer tokens (`plugin.web.session`),
dependable inside Zendesk's third-party iframe where cookies are not. So no request reads or
writes a session cookie, and code that reaches for `flask.session` by mistake gets an error
saying so instead of a cookie (and the cost of a signing serializer on every request).
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g
from flask.sessions import SecureCookieSession, SessionInterface

FRAME_ANCESTORS = "https://*.zendesk.com https://*.zendesk-staging.com"


def init_app(app: Flask) -> None:
    app.session_interface = NoCookieSessions()
    app.after_request(_headers)


def nonce() -> str:
    """This request's script nonce, for templates: `<script nonce="{{ csp_nonce() }}">`."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def csp_around_nonce(ancestors: str) -> tuple[str, str]:
    """The policy's text before and after the request's nonce (the rest never changes)."""
    rest = ["style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
            "object-src 'none'", "base-uri 'none'", "form-action 'self'",
            f"frame-ancestors {ancestors}"]
    return "default-src 'self'; script-src 'self' 'nonce-", "'; " + "; ".join(rest)


def without_nonce(policy: tuple[str, str]) -> str:
    """The policy for an answer that asked for no nonce: scripts from the app itself only."""
    return policy[0].removesuffix(" 'nonce-") + policy[1].removeprefix("'")


POLICIES = {False: csp_around_nonce(FRAME_ANCESTORS),
            True: csp_around_nonce(FRAME_ANCESTORS + " 'self'")}
"""By demo mode: the demo's harness page frames the sidebar itself, standing in for Zendesk."""
FIXED = {demo: without_nonce(policy) for demo, policy in POLICIES.items()}


def _headers(response):
    demo = bool(current_app.config["DEMO_MODE"])
    drawn = g.get("csp_nonce")
    response.headers["Content-Security-Policy"] = \
        FIXED[demo] if drawn is None else f"{POLICIES[demo][0]}{drawn}{POLICIES[demo][1]}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class NoSession(SecureCookieSession):
    """What `flask.session` is here: empty, and any write is an error."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("this app keeps no cookie session; sessions are Bearer tokens "
                           "(plugin.web.session)")

    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = _refuse


class NoCookieSessions(SessionInterface):
    """Flask's session interface with no cookie: nothing is read, signed or set."""

    def open_session(self, app, request):
        return NoSession()

    def save_session(self, app, session, response) -> None:
        return None
