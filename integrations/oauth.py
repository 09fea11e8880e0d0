"""Zendesk's OAuth authorization-code flow, from the app's side: where to send the admin, and
the token endpoint's two grants (a code, a refresh token) and revocation.

Relied on: "Create Token for Grant Type" (`POST /oauth/tokens`, JSON with `grant_type`
`authorization_code` or `refresh_token`, `client_id`, `client_secret`, `redirect_uri`,
`scope`; 201 with `access_token`, `refresh_token`, `expires_in`) and "Revoke Token"
(`DELETE /api/v2/oauth/tokens/current`) in Zendesk's OpenAPI description
(`../shared/reference/zendesk-support-openapi.yaml`), and "Using OAuth authentication with
your application" (support.zendesk.com, article 4408845965210) for
`/oauth/authorizations/new?response_type=code&redirect_uri&client_id&scope&state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests

from integrations.errors import AuthFailed, BadResponse
from integrations.http import Transport

SCOPE = "read write"
"""What the app needs: read the history, write tags, the webhook and the trigger."""


@dataclass(frozen=True)
class Grant:
    """Tokens Zendesk granted; `repr` shows neither."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_in: int | None = None


@dataclass(frozen=True)
class OAuthClient:
    """The operator's (global) OAuth client; `repr` never shows the secret."""

    client_id: str
    client_secret: str = field(repr=False)


class ZendeskOAuth:
    """One account's OAuth endpoints, for one client and redirect address."""

    def __init__(self, base_url: str, client: OAuthClient, redirect_uri: str, *,
                 session: requests.Session | None = None, mode: str = "web"):
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.redirect_uri = redirect_uri
        self.transport = Transport(base_url=self.base_url, session=session or requests.Session(),
                                   mode=mode)

    def authorize_url(self, state: str) -> str:
        """The account's authorization page, where the admin allows the app."""
        return f"{self.base_url}/oauth/authorizations/new?" + urlencode({
            "response_type": "code", "redirect_uri": self.redirect_uri,
            "client_id": self.client.client_id, "scope": SCOPE, "state": state})

    def exchange(self, code: str) -> Grant:
        """The tokens for an authorization code (good once, for 120 seconds)."""
        return self._grant({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": self.redirect_uri, "scope": SCOPE})

    def refresh(self, refresh_token: str) -> Grant:
        """New tokens for a refresh token (which is spent); AuthFailed once it is refused."""
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, access_token: str) -> None:
        """Revoke an access token (the app leaves the account)."""
        self.transport.session.request(
            "DELETE", f"{self.base_url}/api/v2/oauth/tokens/current",
            headers={"Authorization": f"Bearer {access_token}"}, timeout=self.transport.timeout)

    def _grant(self, body: dict[str, str]) -> Grant:
        try:
            answer = self.transport.request("POST", "/oauth/tokens", json={
                **body, "client_id": self.client.client_id,
                "client_secret": self.client.client_secret})
        except BadResponse as error:
            # 400 invalid_grant: the code or refresh token is spent, expired or revoked.
            raise AuthFailed(f"Zendesk refused the grant: {error}") from None
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise BadResponse("Zendesk granted no access token")
        refresh = answer.get("refresh_token")
        expires = answer.get("expires_in")
        return Grant(token, refresh if isinstance(refresh, str) else "",
                     expires if isinstance(expires, int) else None)


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer` with an OAuth access token; `repr` never shows it."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BearerAuth) and other._token == self._token

    def __hash__(self) -> int:
        return hash(self._token)

    def __repr__(self) -> str:
        return "BearerAuth(****)"
