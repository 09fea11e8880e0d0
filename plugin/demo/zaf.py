"""The demo's stand-in for Zendesk's signed loads of a newly installed app.

Zendesk signs each load of an app with `signedUrls` with the app's RSA key and serves the
public half at `https://{subdomain}.zendesk.com/api/v2/apps/{app_id}/public_key.pem`. The demo
has no Zendesk, so it holds such a key itself: `token` signs a load as ZAF would (iss, sub,
aud of the installation, cnf.jku), and `fetch` answers the app's key fetch for the demo's new
account only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

NEW_ACCOUNT = "newco"
APP_ID = 9001
INSTALLATION_ID = 4711
ADMIN_USER = 900_000
"""The sandbox's admin (`GET /users/me`)."""


class DemoSigner:
    account = NEW_ACCOUNT
    """The subdomain of the account it signs loads for."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def token(self, user_id: int = ADMIN_USER, *, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        host = f"https://{NEW_ACCOUNT}.zendesk.com"
        return jwt.encode({
            "iss": f"{NEW_ACCOUNT}.zendesk.com", "sub": str(user_id), "iat": now,
            "exp": now + timedelta(minutes=5),
            "aud": f"{host}/api/v2/apps/installations/{INSTALLATION_ID}.json",
            "cnf": {"jku": f"{host}/api/v2/apps/{APP_ID}/public_key.pem"}},
            self._key, algorithm="RS256")

    def fetch(self, url: str) -> str:
        if url != f"https://{NEW_ACCOUNT}.zendesk.com/api/v2/apps/{APP_ID}/public_key.pem":
            raise LookupError(f"the demo serves no key at {url}")
        return self.public_pem
