"""The app's services, built once per app and hung on `app.extensions["customer_value"]`.

Views call `Services.value(...)`; tests pass fakes for the Zendesk client and the clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.core.assessment import assess, to_json
from plugin.core.model import CRM_NAMES, Cutoffs, absolute_cutoffs, account_cutoffs
from plugin.core.settings import Settings
from plugin.service_layer.crm import CrmConnector
from plugin.service_layer.live import current_history
from plugin.service_layer.values import CachedValue, ValueCache
from plugin.storage.history import (
    HistoryStore,
    account_id,
    accounts,
    failed_jobs,
    webhook_deliveries,
)
from plugin.storage.installations import Registry
from plugin.storage.secrets import AccountSecrets
from plugin.storage.versions import SettingsVersions

SETTINGS_SECONDS = 5.0
"""How long an account's current settings are reused before the database is asked again."""
CUTOFFS_SECONDS = 600.0
"""How long percentile tier cutoffs of an account are reused before being recomputed."""
SNAPSHOT_INTERVAL = timedelta(hours=1)
"""At most one trend point an hour per customer while the value stays the same."""


@dataclass
class Services:
    engine: Engine
    zendesk: ZendeskConfig | None
    registry: Registry | None = None
    settings: Settings = field(default_factory=Settings)
    cache: ValueCache = field(default_factory=ValueCache)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    client_factory: Callable[[ZendeskConfig], ZendeskClient] = (
        lambda config: ZendeskClient.connect(config, mode="web"))
    crm: CrmConnector = field(default_factory=CrmConnector)
    _clients: dict[str, ZendeskClient] = field(default_factory=dict)
    _accounts: dict[str, int] = field(default_factory=dict)
    _cutoffs: dict[tuple, tuple[Cutoffs, datetime]] = field(default_factory=dict)
    _settings: dict[int, tuple[Settings, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, account_key: str) -> HistoryStore:
        with self._lock:
            if account_key not in self._accounts:
                self._accounts[account_key] = account_id(self.engine, account_key, self.clock())
            return HistoryStore(self.engine, self._accounts[account_key])

    def client(self, config: ZendeskConfig) -> ZendeskClient:
        with self._lock:
            if config.base_url not in self._clients:
                client = self.client_factory(config)
                client.spend_field = self.settings.spend_field
                self._clients[config.base_url] = client
            return self._clients[config.base_url]

    def value(self, config: ZendeskConfig, user_id: int, ticket_id: int | None = None, *,
              refresh: bool = False, mode: str = "web") -> CachedValue:
        """The customer's assessment (the score contract's JSON), through the cache.

        `mode` says who waits: `web` (an agent: the CRM is asked with short timeouts and no
        waiting) or `background` (a job: the CRM's rate limits are waited out). A warm cached
        value asks neither Zendesk nor the CRM."""
        store = self.store(config.base_url)

        settings = self.settings_for(store)

        def compute() -> dict[str, Any]:
            stored = store.crm_deals(settings.spend_source) \
                if settings.spend_source in CRM_NAMES else None
            history = self.crm.history(
                current_history(store, self.client(config), user_id, fallback=True), settings,
                account=store.account, secrets=lambda name: self.secret(store, name), mode=mode,
                stored=stored, env_credentials=self.is_env_account(config))
            now = self.clock()
            result = assess(history, settings, now, ticket_id=ticket_id,
                            cutoffs=self.cutoffs(store, settings, now))
            store.record_snapshot(user_id, value=result.value.value, tier=result.value.tier,
                                  settings_version=result.value.settings_version, at=now,
                                  min_interval=SNAPSHOT_INTERVAL)
            return to_json(result)

        key = (config.base_url, user_id, ticket_id, settings.version)
        if refresh:
            self.cache.invalidate(key)
        return self.cache.get(key, compute)

    def secret(self, store: HistoryStore, name: str) -> str | None:
        """One of the account's saved secrets (the CRM credentials), or None."""
        if self.registry is None:
            return None
        return AccountSecrets(self.engine, store.account, self.registry.vault).get(name)

    def settings_for(self, store: HistoryStore) -> Settings:
        """The account's current settings: its latest saved version, else the app's default.

        Kept for SETTINGS_SECONDS: a save in this process shows at once (`settings_saved`),
        one in another process within that time.
        """
        with self._lock:
            cached = self._settings.get(store.account)
        if cached is not None and time.monotonic() - cached[1] < SETTINGS_SECONDS:
            return cached[0]
        saved = SettingsVersions(self.engine, store.account).history(limit=1)
        settings = saved[0].settings if saved else self.settings
        with self._lock:
            self._settings[store.account] = (settings, time.monotonic())
        return settings

    def settings_saved(self, store: HistoryStore) -> None:
        with self._lock:
            self._settings.pop(store.account, None)

    def versions(self, store: HistoryStore) -> SettingsVersions:
        return SettingsVersions(self.engine, store.account)

    def cutoffs(self, store: HistoryStore, settings: Settings, now: datetime) -> Cutoffs:
        """Tier cutoffs; in percentile mode, from every stored customer's value (with their
        stored CRM deals when spend comes from a CRM), recomputed at most every
        CUTOFFS_SECONDS per account."""
        if settings.tiers.mode == "absolute":
            return absolute_cutoffs(settings)
        key = (store.account, settings.version)
        with self._lock:
            cached = self._cutoffs.get(key)
        if cached is not None and (now - cached[1]).total_seconds() < CUTOFFS_SECONDS:
            return cached[0]
        cutoffs = account_cutoffs(store.histories(settings), settings, now)
        with self._lock:
            self._cutoffs[key] = (cutoffs, now)
        return cutoffs

    def is_env_account(self, config: ZendeskConfig) -> bool:
        """Whether `config` is the single-account set-up's own account (the ZENDESK_*
        environment's): the only one the environment's CRM credentials may serve."""
        return self.zendesk is not None and config.base_url == self.zendesk.base_url

    def config_for(self, account_key: str) -> ZendeskConfig:
        """The Zendesk account known by its base URL (the single account, or an installation)."""
        if self.zendesk is not None and self.zendesk.base_url == account_key:
            return self.zendesk
        installation = self.registry.by_base_url(account_key) if self.registry else None
        if installation is None:
            raise LookupError(f"no installation for {account_key}")
        return installation.zendesk

    def record_failed_job(self, account_key: str, job: str, arguments: list[Any],
                          error: BaseException | None) -> None:
        """Keep a job that ran out of retries where admins can see it."""
        store = self.store(account_key)
        with self.engine.begin() as conn:
            conn.execute(failed_jobs.insert().values(
                account_id=store.account, job=job, arguments=arguments,
                error=f"{type(error).__name__}: {error}"[:1000] if error else "unknown",
                failed_at=self.clock()))

    def finish_delivery(self, account_key: str, invocation: str) -> None:
        store = self.store(account_key)
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries).where(
                webhook_deliveries.c.account_id == store.account,
                webhook_deliveries.c.invocation_id == invocation).values(done_at=self.clock()))

    def unfinished_deliveries(self, older_than: timedelta) -> list[tuple[str, str, int, int]]:
        """Deliveries received before now − `older_than` whose job never finished, marked as
        received now so that the next sweep waits for the requeued job."""
        cutoff = self.clock() - older_than
        with self.engine.begin() as conn:
            rows = conn.execute(select(
                accounts.c.key, webhook_deliveries.c.account_id, webhook_deliveries.c.invocation_id,
                webhook_deliveries.c.ticket_id, webhook_deliveries.c.requester_id).join(
                accounts, accounts.c.id == webhook_deliveries.c.account_id).where(
                webhook_deliveries.c.done_at.is_(None),
                webhook_deliveries.c.received_at < cutoff)).all()
            for row in rows:
                conn.execute(update(webhook_deliveries).where(
                    webhook_deliveries.c.account_id == row.account_id,
                    webhook_deliveries.c.invocation_id == row.invocation_id).values(
                    received_at=self.clock()))
        return [(row.key, row.invocation_id, row.ticket_id, row.requester_id) for row in rows]

    def account_keys(self) -> list[str]:
        """Every account the database knows, by key (base URL)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(accounts.c.key).order_by(accounts.c.id)).scalars())

    def failed_jobs(self, account_key: str) -> list[dict[str, Any]]:
        store = self.store(account_key)
        with self.engine.connect() as conn:
            rows = conn.execute(select(failed_jobs).where(
                failed_jobs.c.account_id == store.account).order_by(failed_jobs.c.id)).all()
        return [dict(row._mapping) for row in rows]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self.crm.close()
        self.engine.dispose()
