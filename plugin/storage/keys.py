"""The fingerprint of the key that seals the stored credentials, kept in the database.

Every process of a deployment must seal and open credentials with the same key; a process
started with another one (a fresh `instance/secret_key` in another folder, a forgotten
variable) would otherwise seal new credentials that the others cannot read, and fail to read
theirs. The first process to start records its key's fingerprint; later ones compare theirs
and refuse to start on a mismatch, naming the variable to set.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from plugin.core.times import as_utc
from plugin.storage.schema import key_fingerprints
from plugin.storage.vault import Vault

CREDENTIALS_KEY = "credentials"


class KeyMismatch(ValueError):
    """This process's key is not the one the database's credentials were sealed with."""


def check_key(engine: Engine, vault: Vault, now: datetime, *, variable: str) -> None:
    """Record the vault key's fingerprint on first use; KeyMismatch when another key's is
    recorded. `variable`: the setting that gives this process its key (for the message)."""
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(key_fingerprints).values(
            name=CREDENTIALS_KEY, fingerprint=vault.fingerprint, created_at=as_utc(now))
            .on_conflict_do_nothing(index_elements=["name"]))
        stored = conn.execute(select(key_fingerprints.c.fingerprint).where(
            key_fingerprints.c.name == CREDENTIALS_KEY)).scalar_one()
    if stored != vault.fingerprint:
        raise KeyMismatch(
            f"this database's credentials were sealed with another key (fingerprint "
            f"{stored[:12]}, this process has {vault.fingerprint[:12]}): set {variable} to "
            "the key the deployment's other processes use (or run from their instance "
            "folder, CUSTOMER_VALUE_INSTANCE)")
