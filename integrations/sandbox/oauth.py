"""Zendesk's OAuth authorization-code flow, as the sandbox's account answers it.

- `GET /oauth/authorizations/new` (response_type=code, client_id, redirect_uri, scope, state):
  the page where the signed-in user allows or denies the app ("Using OAuth authentication
  with your application", support.zendesk.com, article 4408845965210); the decision POSTs to
  `/oauth/authorizations` and the browser is sent back to `redirect_uri` with `code` and
  `state`, or `error=access_denied`.
- `POST /oauth/tokens` ("Create Token for Grant Type", `../shared/reference/
  zendesk-support-openapi.yaml`, CreateTokenForGrantType): JSON with `grant_type`
  `authorization_code` (a code is good once, for 120 seconds, with the same redirect_uri) or
  `refresh_token` (the old refresh token is spent); 201 with `access_token`, `token_type`,
  `scope`, `expires_in`, `refresh_token`, `refresh_token_expires_in`.
- `DELETE /api/v2/oauth/tokens/current` ("Revoke Token", RevokeOAuthToken): 204; the token is
  refused from then on (401), as is every token after `/_sandbox/oauth/revoke_all`.

The client is the one configured (`oauth_client_id`, `oauth_client_secret`).
"""

from __future__ import annotations

import secrets
from html import escape
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, request

from integrations.sandbox.context import reply, services

CODE_SECONDS = 120
"""How long an authorization code is good for (Zendesk: 120 seconds)."""

blueprint = Blueprint("oauth", __name__)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return reply({"error": error, "error_description": description}, status)


def _redirect_target(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@blueprint.get("/oauth/authorizations/new")
def authorize() -> Response:
    args, config = request.args, services().traffic.config
    if args.get("response_type") != "code":
        return _oauth_error(400, "unsupported_response_type", "response_type must be code")
    if args.get("client_id") != config.oauth_client_id:
        return _oauth_error(400, "invalid_client", "this OAuth client is not known here")
    uri = args.get("redirect_uri", "")
    if not _redirect_target(uri):
        return _oauth_error(400, "invalid_request", "redirect_uri must be an absolute URL")
    hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(args.get(name, ""))}">'
                     for name in ("redirect_uri", "state", "scope"))
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow access - Zendesk sandbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;
color:#2f3941}}button{{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem;border-radius:4px;
border:1px solid #1f73b7}}.allow{{background:#1f73b7;color:#fff}}.deny{{background:#fff;
color:#1f73b7}}</style></head><body><main>
<h1>Allow Customer Value to access your Zendesk account?</h1>
<p>It asks to <strong>{escape(args.get("scope") or "read")}</strong> on behalf of
{escape(config.email or "admin@example.com")} (the sandbox's admin).</p>
<form method="post" action="/oauth/authorizations">{hidden}
<button class="allow" name="decision" value="allow">Allow</button>
<button class="deny" name="decision" value="deny">Deny</button></form></main></body></html>"""
    return Response(page, mimetype="text/html")


@blueprint.post("/oauth/authorizations")
def decide() -> Response:
    form = request.form
    uri, state = form.get("redirect_uri", ""), form.get("state", "")
    if not _redirect_target(uri):
        return _oauth_error(400, "invalid_request", "redirect_uri must be an absolute URL")
    if form.get("decision") != "allow":
        answer = {"error": "access_denied", "state": state}
    else:
        code = secrets.token_urlsafe(18)
        board = services().oauth
        with board.lock:
            board.codes[code] = (uri, services().store.clock.now())
        answer = {"code": code, "state": state}
    return redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(answer)}", 302)


@blueprint.post("/oauth/tokens")
def tokens() -> Response:
    body = request.get_json(silent=True) or {}
    config, board = services().traffic.config, services().oauth
    if body.get("client_id") != config.oauth_client_id or \
            body.get("client_secret") != config.oauth_client_secret:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    grant = body.get("grant_type")
    with board.lock:
        if grant == "authorization_code":
            issued = board.codes.pop(str(body.get("code")), None)
            now = services().store.clock.now()
            if issued is None or now - issued[1] > CODE_SECONDS:
                return _oauth_error(400, "invalid_grant", "The authorization code is invalid "
                                                          "or expired")
            if body.get("redirect_uri") != issued[0]:
                return _oauth_error(400, "invalid_grant", "redirect_uri does not match")
        elif grant == "refresh_token":
            token = str(body.get("refresh_token"))
            if token not in board.refresh:
                return _oauth_error(400, "invalid_grant", "The refresh token is invalid")
            board.refresh.discard(token)
            board.revoked.add(token)
        else:
            return _oauth_error(400, "unsupported_grant_type",
                                "grant_type must be authorization_code or refresh_token")
        return reply(board.grant(), 201)


@blueprint.delete("/api/v2/oauth/tokens/current")
def revoke_current() -> Response:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    board = services().oauth
    with board.lock:
        if scheme.lower() == "bearer" and token in board.access:
            board.access.discard(token)
            board.revoked.add(token)
    return Response(status=204)
