"""Tokens as Zendesk and the app issue them: RS256 signed loads, the app's session tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.web.auth import issue_app_token

SECRET = "x" * 40
"""The app's secret key in tests that build an app."""
ACME_TOKEN = "acme-api-token-1234567890"
"""The single account's Zendesk API token in the `app` fixture."""
INSTALLATION = 4242
APP_ID = 777


def key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    """A fresh RSA key and its public PEM, as Zendesk keeps per app."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def zendesk_token(private, *, now: datetime | None = None, **changes) -> str:
    """Zendesk's signed-load JWT for acme's installation, user 123, valid five minutes."""
    now = now or datetime.now(UTC)
    claims = {"iss": "acme.zendesk.com", "sub": "123",
              "aud": f"https://acme.zendesk.com/api/v2/apps/installations/{INSTALLATION}.json",
              "iat": now, "exp": now + timedelta(minutes=5), **changes}
    return jwt.encode(claims, private, algorithm="RS256")


def session(account="demo", user_id=1, role="agent", *, secret: str = SECRET,
            now: datetime | None = None) -> dict[str, str]:
    """The Authorization header of an app session issued at `now` (the app's clock)."""
    token = issue_app_token(secret.encode(), account=account, user_id=user_id, role=role,
                            now=now or datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}
