"""An account's secrets for outside services (the CRM credentials), sealed at rest and
write-only: the settings page can set or clear them and see whether each is set, never read
them back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, delete, select

from integrations.hosts import UnsafeUrl, check_public_url
from plugin.core.settings import SettingsError
from plugin.core.times import as_utc
from plugin.storage.schema import account_secrets, upsert_rows
from plugin.storage.vault import Vault

SECRETS: Mapping[str, str] = {
    "sell_token": "Zendesk Sell access token",
    "bitrix24_webhook_url": "Bitrix24 inbound webhook URL",
    "alert_signing_secret": "Alert webhook signing secret (at least 32 characters)",
}
ALERT_SECRET = "alert_signing_secret"
"""The secret alert webhooks are signed with (HMAC-SHA256): set by an admin, who gives it to
the team that receives them."""
MIN_ALERT_SECRET = 32
WEBHOOK_SECRET = "webhook_signing_secret"
"""Zendesk's signing secret of the app's webhook: set by provisioning, never by a person."""
MAX_SECRET = 1024
BITRIX_WEBHOOK = re.compile(r"^https?://[^\s/]+/rest/\d+/[A-Za-z0-9]+/?$")
"""The shape of an inbound webhook URL; where it may point is `integrations.hosts`' rule."""


class AccountSecrets:
    def __init__(self, engine: Engine, account: int, vault: Vault):
        self.engine = engine
        self.account = account
        self.vault = vault

    def which_are_set(self) -> dict[str, bool]:
        with self.engine.connect() as conn:
            names = set(conn.execute(select(account_secrets.c.name).where(
                account_secrets.c.account_id == self.account)).scalars())
        return {name: name in names for name in SECRETS}

    def get(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            sealed = conn.execute(select(account_secrets.c.sealed).where(
                account_secrets.c.account_id == self.account,
                account_secrets.c.name == name)).scalar()
        return self.vault.open(sealed) if sealed is not None else None

    def update(self, values: Mapping[str, object], now: datetime, *,
               internal: bool = False, allow_private_hosts: bool = False) -> None:
        """Set each given secret; an empty string clears it. Invalid input changes nothing.
        Only the app itself (`internal`) may set the webhook's signing secret. A Bitrix24
        webhook URL must point at a public https host (`integrations.hosts`) unless
        `allow_private_hosts` (the app's CRM_ALLOW_PRIVATE_HOSTS)."""
        errors = {}
        for name, value in values.items():
            if name not in SECRETS and not (internal and name == WEBHOOK_SECRET):
                errors[f"secrets.{name}"] = "unknown secret"
            elif not isinstance(value, str) or len(value) > MAX_SECRET:
                errors[f"secrets.{name}"] = f"must be text of at most {MAX_SECRET} characters"
            elif name == ALERT_SECRET and value and len(value) < MIN_ALERT_SECRET:
                errors[f"secrets.{name}"] = f"must be at least {MIN_ALERT_SECRET} characters"
            elif name == "bitrix24_webhook_url" and value and not BITRIX_WEBHOOK.match(value):
                errors[f"secrets.{name}"] = ("must be a Bitrix24 inbound webhook URL: "
                                             "https://your.bitrix24.com/rest/1/secret/")
            elif name == "bitrix24_webhook_url" and value:
                try:
                    check_public_url(value, allow_private=allow_private_hosts)
                except UnsafeUrl as error:
                    errors[f"secrets.{name}"] = f"not allowed: {error}"
        if errors:
            raise SettingsError(errors)
        with self.engine.begin() as conn:
            for name, value in values.items():
                if value:
                    upsert_rows(conn, account_secrets, [{
                        "account_id": self.account, "name": name,
                        "sealed": self.vault.seal(str(value)), "updated_at": as_utc(now)}])
                else:
                    conn.execute(delete(account_secrets).where(
                        account_secrets.c.account_id == self.account,
                        account_secrets.c.name == name))
