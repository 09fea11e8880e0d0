"""Secrets at rest: Zendesk and CRM credentials are stored encrypted, never in clear.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with a key from
CUSTOMER_VALUE_ENCRYPTION_KEY, or derived from the app's secret key with HKDF-SHA256 (RFC 5869)
so a deployment that manages one secret gets both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DERIVATION_INFO = b"customer-value credentials v1"
FINGERPRINT_LABEL = b"customer-value key fingerprint v1"


class VaultError(Exception):
    """A stored secret cannot be read with this key (wrong key, or tampered with)."""


class Vault:
    def __init__(self, key: str | bytes):
        self._fernet = Fernet(key)
        self._key = key.encode() if isinstance(key, str) else key

    @property
    def fingerprint(self) -> str:
        """HMAC-SHA256 of a fixed label under the key: the same key gives the same
        fingerprint, and the fingerprint tells nothing about the key."""
        return hmac.new(self._key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()

    @classmethod
    def from_secret(cls, secret: str) -> Vault:
        """A vault keyed by HKDF-SHA256 of the app's secret key."""
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=DERIVATION_INFO).derive(secret.encode())
        return cls(base64.urlsafe_b64encode(derived))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise VaultError("a stored secret cannot be decrypted with this key") from error


def configured_vault(config: Mapping[str, Any]) -> Vault | None:
    """The app's vault from its configuration: ENCRYPTION_KEY, else one derived from
    SECRET_KEY; None when neither is set (nothing can have been sealed)."""
    if config.get("ENCRYPTION_KEY"):
        return Vault(config["ENCRYPTION_KEY"])
    if config.get("SECRET_KEY"):
        return Vault.from_secret(config["SECRET_KEY"])
    return None
