"""One record per Zendesk account the app is installed in: where it is, which app installation,
and the API credentials (encrypted at rest). Sessions name their account; the registry is how a
request finds that account's credentials and nothing of any other's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from integrations.zendesk import ZendeskConfig
from plugin.core.times import as_utc
from plugin.storage.schema import account_id, accounts, installations, metadata, upsert_rows
from plugin.storage.vault import Vault


@dataclass(frozen=True)
class Installation:
    subdomain: str
    base_url: str
    app_id: int | None
    installation_id: int | None
    email: str
    token: str = field(repr=False)
    auth_kind: str = "token"
    """`token` (an API token) or `oauth` (an access token, refreshed with `refresh_token`)."""
    refresh_token: str = field(default="", repr=False)
    needs_reconnect: bool = False
    """Zendesk refused the OAuth tokens and the refresh: an admin must connect again."""

    @property
    def zendesk(self) -> ZendeskConfig:
        return ZendeskConfig(base_url=self.base_url, email=self.email, token=self.token,
                             kind=self.auth_kind)


class InstallationConflict(ValueError):
    """The Zendesk account is installed under another subdomain already."""


class Registry:
    def __init__(self, engine: Engine, vault: Vault):
        self.engine = engine
        self.vault = vault

    def save(self, installation: Installation, now: datetime) -> None:
        """Register or update an installation; InstallationConflict when its base URL is
        installed under another subdomain (one account, one installation)."""
        account = account_id(self.engine, installation.base_url, now)
        holder = self._subdomain_of(account)
        if holder is not None and holder != installation.subdomain:
            raise self._conflict(installation, holder)
        try:
            with self.engine.begin() as conn:
                upsert_rows(conn, installations, [{
                    "subdomain": installation.subdomain, "account_id": account,
                    "base_url": installation.base_url, "app_id": installation.app_id,
                    "installation_id": installation.installation_id,
                    "email": installation.email,
                    "token_sealed": self.vault.seal(installation.token),
                    "updated_at": as_utc(now), "auth_kind": installation.auth_kind,
                    "refresh_sealed": self.vault.seal(installation.refresh_token)
                    if installation.refresh_token else None,
                    "needs_reconnect": installation.needs_reconnect}])
        except IntegrityError as error:  # another process installed it in between
            raise self._conflict(installation, self._subdomain_of(account) or "?") from error

    def _subdomain_of(self, account: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(installations.c.subdomain).where(
                installations.c.account_id == account)).scalar()

    @staticmethod
    def _conflict(installation: Installation, holder: str) -> InstallationConflict:
        return InstallationConflict(
            f"{installation.base_url} is already installed as {holder!r}, not "
            f"{installation.subdomain!r}: run `customer-value uninstall --subdomain {holder}` "
            "first, or use that subdomain")

    def subdomains(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(installations.c.subdomain)
                                     .order_by(installations.c.subdomain)).scalars())

    def purge(self, subdomain: str) -> bool:
        """Delete the installation and everything stored for its account (history, settings,
        credentials, deliveries, sync runs), in one transaction; False if not installed."""
        with self.engine.begin() as conn:
            account = conn.execute(select(installations.c.account_id).where(
                installations.c.subdomain == subdomain)).scalar()
            if account is None:
                return False
            for table in reversed(metadata.sorted_tables):
                if table is not accounts and "account_id" in table.c:
                    conn.execute(delete(table).where(table.c.account_id == account))
            conn.execute(delete(accounts).where(accounts.c.id == account))
        return True

    def get(self, subdomain: str) -> Installation | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(installations).where(
                installations.c.subdomain == subdomain)).first()
        if row is None:
            return None
        return Installation(subdomain=row.subdomain, base_url=row.base_url, app_id=row.app_id,
                            installation_id=row.installation_id, email=row.email,
                            token=self.vault.open(row.token_sealed), auth_kind=row.auth_kind,
                            refresh_token=self.vault.open(row.refresh_sealed)
                            if row.refresh_sealed else "",
                            needs_reconnect=bool(row.needs_reconnect))

    def mark_reconnect(self, subdomain: str, now: datetime) -> None:
        """Zendesk refused the account's OAuth tokens for good: ask an admin to reconnect."""
        with self.engine.begin() as conn:
            conn.execute(update(installations).where(installations.c.subdomain == subdomain)
                         .values(needs_reconnect=True, updated_at=as_utc(now)))

    def awaiting_reconnect(self) -> set[str]:
        """The subdomains whose OAuth tokens Zendesk refused for good (see `mark_reconnect`)."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(installations.c.subdomain).where(
                installations.c.needs_reconnect.is_(True))).scalars())

    def get_base_url(self, subdomain: str) -> str | None:
        """The installation's base URL, without opening its credentials."""
        with self.engine.connect() as conn:
            return conn.execute(select(installations.c.base_url).where(
                installations.c.subdomain == subdomain)).scalar()

    def by_base_url(self, base_url: str) -> Installation | None:
        with self.engine.connect() as conn:
            subdomain = conn.execute(select(installations.c.subdomain).where(
                installations.c.base_url == base_url)).scalar()
        return self.get(subdomain) if subdomain else None

    def app_ids(self) -> Mapping[str, int]:
        """Subdomain → app id, read live: the signed-load key cache's list of known accounts."""
        return _AppIds(self)


class _AppIds(Mapping[str, int]):
    def __init__(self, registry: Registry):
        self.registry = registry

    def __getitem__(self, subdomain: str) -> int:
        found = self.registry.get(subdomain)
        if found is None or found.app_id is None:
            raise KeyError(subdomain)
        return found.app_id

    def __iter__(self) -> Iterator[str]:
        with self.registry.engine.connect() as conn:
            yield from conn.execute(select(installations.c.subdomain)).scalars()

    def __len__(self) -> int:
        return sum(1 for _ in self)

