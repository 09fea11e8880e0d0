"""The app's services: what the views, the jobs and the commands ask of the app's world.

Built once by the composition root (`plugin.bootstrap.build_services`) and hung on
`app.extensions["customer_value"]`; tests build them with fakes for the Zendesk client and the
clock. Everything here works on domain objects: the JSON contract is made at the web and
command-line edges.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from integrations.errors import AuthFailed
from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.core.assessment import Assessment, assess
from plugin.core.domain import CRM_NAMES, CustomerHistory
from plugin.core.health import HealthFacts, Problem, problems
from plugin.core.lifetime import LifetimeModel
from plugin.core.model import Cutoffs, absolute_cutoffs, account_cutoffs
from plugin.core.norms import account_norms
from plugin.core.overrides import TierOverride, applicable
from plugin.core.settings import Settings
from plugin.core.signals import Norms
from plugin.service_layer.crm import CrmConnector, SecretReader
from plugin.service_layer.lifetime import fit_lifetime
from plugin.service_layer.live import current_history
from plugin.service_layer.values import CachedValue, ValueCache
from plugin.storage.deliveries import Deliveries, Delivery
from plugin.storage.history import HistoryStore, crm_stream
from plugin.storage.installations import Installation, Registry
from plugin.storage.overrides import OverrideStore
from plugin.storage.schema import account_id, accounts
from plugin.storage.secrets import AccountSecrets
from plugin.storage.versions import SettingsVersions

SETTINGS_SECONDS = 5.0
"""How long an account's current settings are reused before the database is asked again."""
CUTOFFS_SECONDS = 600.0
"""How long percentile tier cutoffs of an account are reused before being recomputed."""
LIFETIME_SECONDS = 6 * 3600.0
"""How long an account's fitted lifetime model is reused: a refit reads every stored
customer, and a few hours of new purchases barely move four population parameters."""
STAMP_SECONDS = 1.0
"""How long an agent's value read reuses the account's overrides stamp: a pin made in another
process shows in the sidebar within this time (in this process at once); jobs read it fresh,
so tagging and alerts obey a pin from the moment it is saved."""
SNAPSHOT_INTERVAL = timedelta(hours=1)
"""At most one trend point an hour per customer while the value stays the same."""


def subdomain_of(base_url: str) -> str:
    """The account's name in its base URL (`acme` of https://acme.zendesk.com)."""
    return (urlsplit(base_url).hostname or "").split(".")[0]


def _connected(installation: Installation) -> ZendeskConfig:
    """The installation's Zendesk; AuthFailed when Zendesk refused its tokens for good."""
    if installation.needs_reconnect:
        raise AuthFailed(f"Zendesk no longer accepts the app's access to "
                         f"{installation.subdomain}; an admin needs to reconnect it on the "
                         "app's page", status=401)
    return installation.zendesk


def utc_now() -> datetime:
    """The wall clock, the default of every `clock` the composition root injects."""
    return datetime.now(UTC)


@dataclass
class Services:
    engine: Engine
    zendesk: ZendeskConfig | None
    """The single-account set-up's own account (the ZENDESK_* variables), if any."""
    registry: Registry
    deliveries: Deliveries
    settings: Settings = field(default_factory=Settings)
    cache: ValueCache = field(default_factory=ValueCache)
    clock: Callable[[], datetime] = utc_now
    client_factory: Callable[[ZendeskConfig], ZendeskClient] = (
        lambda config: ZendeskClient.connect(config, mode="web"))
    crm: CrmConnector = field(default_factory=CrmConnector)
    patient_factory: Callable[[ZendeskConfig], ZendeskClient] | None = None
    """Clients that wait rate limits out, for the periodic sync (default: `client_factory`)."""
    alert_check: Callable[..., Any] | None = None
    """`plugin.service_layer.alerts.after_value`, hung here by the composition root."""
    _clients: dict[str, ZendeskClient] = field(default_factory=dict)
    _patient: dict[str, ZendeskClient] = field(default_factory=dict)
    _accounts: dict[str, int] = field(default_factory=dict)
    _cutoffs: dict[tuple, tuple[Any, datetime]] = field(default_factory=dict)
    """Cutoffs and norms per account, with when they were computed."""
    _settings: dict[int, tuple[Settings, float]] = field(default_factory=dict)
    _reads: dict[tuple, tuple[Any, float]] = field(default_factory=dict)
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

    def forget_client(self, base_url: str) -> None:
        """Drop the account's cached clients (its credentials changed)."""
        with self._lock:
            clients = [self._clients.pop(base_url, None), self._patient.pop(base_url, None)]
        for client in clients:
            if client is not None:
                client.close()

    def patient_client(self, config: ZendeskConfig) -> ZendeskClient:
        """A client of the account for work nobody waits on (the periodic sync)."""
        with self._lock:
            if config.base_url not in self._patient:
                client = (self.patient_factory or self.client_factory)(config)
                client.spend_field = self.settings.spend_field
                self._patient[config.base_url] = client
            return self._patient[config.base_url]

    def account_config(self, subdomain: str) -> ZendeskConfig:
        """The Zendesk account installed as `subdomain`, or the single-account set-up's own
        (when `subdomain` is its subdomain); LookupError naming it otherwise, AuthFailed when
        it waits for an admin to reconnect it (nothing may call Zendesk for it until then)."""
        installation = self.registry.get(subdomain)
        if installation is not None:
            return _connected(installation)
        if self.zendesk is not None and subdomain == subdomain_of(self.zendesk.base_url):
            return self.zendesk
        raise LookupError(f"no installation for the subdomain {subdomain!r} "
                          "(see `customer-value install`)")

    def installed_accounts(self) -> dict[str, ZendeskConfig]:
        """Every account the app serves, by subdomain: the installations and the
        single-account set-up's own."""
        found = {}
        if self.zendesk is not None:
            found[subdomain_of(self.zendesk.base_url)] = self.zendesk
        for subdomain in self.registry.subdomains():
            installation = self.registry.get(subdomain)
            if installation is not None:
                found[subdomain] = installation.zendesk
        return found

    def history(self, config: ZendeskConfig, user_id: int, settings: Settings, *,
                mode: str = "web", fallback: bool = False,
                secrets: SecretReader | None = None) -> CustomerHistory:
        """The customer's history as of now: the store topped up from Zendesk, with the CRM's
        deals when the settings take spend from one. `mode` says who waits on the CRM (`web`:
        an agent; `background`: a job or a command); with `fallback`, a customer the store
        knows is scored from it when Zendesk cannot be reached."""
        store = self.store(config.base_url)
        stored = store.crm_deals(settings.spend_source) \
            if settings.spend_source in CRM_NAMES else None
        return self.crm.history(
            current_history(store, self.client(config), user_id, fallback=fallback), settings,
            account=store.account, secrets=secrets or (lambda name: self.secret(store, name)),
            mode=mode, stored=stored, env_credentials=self.is_env_account(config))

    def value(self, config: ZendeskConfig, user_id: int, ticket_id: int | None = None, *,
              refresh: bool = False, mode: str = "web") -> CachedValue:
        """The customer's `Assessment` as of now, through the cache (its `result`).

        `mode` says who waits: `web` (an agent: the CRM is asked with short timeouts and no
        waiting) or `background` (a job: the CRM's rate limits are waited out). A warm cached
        value asks neither Zendesk nor the CRM. Values are kept under the account's overrides
        stamp (one indexed read; an agent's read reuses it for STAMP_SECONDS): a pin, change
        or end made in this process is seen by the next read, one made in another process by
        a job's next read at once and by an agent's within STAMP_SECONDS."""
        store = self.store(config.base_url)
        settings = self.settings_for(store)

        def compute() -> Assessment:
            history = self.history(config, user_id, settings, mode=mode, fallback=True)
            now = self.clock()
            norms = self.norms(store, settings, now)
            result = assess(history, settings, now, ticket_id=ticket_id, norms=norms,
                            cutoffs=self.cutoffs(store, settings, now),
                            lifetime=self.lifetime(store, settings, now),
                            pin=self._pin(store, history, now))
            store.record_snapshot(user_id, value=result.value.value,
                                  tier=result.value.model_tier or result.value.tier,
                                  settings_version=result.value.settings_version, at=now,
                                  min_interval=SNAPSHOT_INTERVAL)
            return result

        key = (config.base_url, user_id, ticket_id, settings.version,
               self._overrides_stamp(store, fresh=refresh or mode != "web"))
        if refresh:
            self.cache.invalidate(key)
        return self.cache.get(key, compute)

    def health(self, config: ZendeskConfig) -> list[Problem]:
        """The account's set-up problems, with what to do about each."""
        store = self.store(config.base_url)
        settings = self.settings_for(store)
        kind = settings.spend_source
        currencies, duplicates, credential, crm_synced = {}, 0, False, None
        if kind in CRM_NAMES:
            currencies, duplicates = store.crm_health(kind)
            credential = bool(self.crm.credential(
                kind, lambda name: self.secret(store, name),
                env_credentials=self.is_env_account(config))[0])
            crm_synced = store.state(crm_stream(kind)).synced_through
        facts = HealthFacts(deal_currencies=currencies, duplicate_contacts=duplicates,
                            crm_credential=credential, crm_synced_at=crm_synced,
                            zendesk_synced_at=store.state("tickets").synced_through,
                            failed_jobs=len(self.failed_jobs(config.base_url)))
        return problems(settings, facts, self.clock())

    def cached(self, key: tuple, read: Callable[[], Any], *,
               seconds: float = SETTINGS_SECONDS, fresh: bool = False) -> Any:
        """`read()`, reused for `seconds` (what a job asks on every run: the alert rules; what
        an agent's value read asks: the overrides stamp), so a change shows within that time;
        `fresh` reads it again now and keeps that."""
        if not fresh:
            with self._lock:
                found = self._reads.get(key)
            if found is not None and time.monotonic() - found[1] < seconds:
                return found[0]
        value = read()
        with self._lock:
            self._reads[key] = (value, time.monotonic())
        return value

    def forget_cached(self, key: tuple) -> None:
        with self._lock:
            self._reads.pop(key, None)

    def overrides(self, store: HistoryStore) -> OverrideStore:
        """The account's pins; a change through it is seen by this process's next read."""
        key = ("overrides_stamp", store.account)
        return OverrideStore(self.engine, store.account,
                             changed=lambda: self.forget_cached(key))

    def _overrides_stamp(self, store: HistoryStore, *, fresh: bool) -> int:
        overrides = self.overrides(store)
        return self.cached(("overrides_stamp", store.account), overrides.stamp,
                           seconds=STAMP_SECONDS, fresh=fresh)

    def _pin(self, store: HistoryStore, history: CustomerHistory, now: datetime
             ) -> TierOverride | None:
        """The tier a person pinned for the customer (or their organization) that applies
        now, if any."""
        organization = history.profile.organization
        organization_id = organization.id if organization is not None else None
        user_id = history.profile.id
        return applicable(self.overrides(store).for_customer(user_id, organization_id, now),
                          user_id, organization_id, now)

    def check_alerts(self, config: ZendeskConfig, value: Any, ticket_id: int) -> None:
        """Evaluate the account's alert rules for a value just computed (a tagging job):
        what the composition root hung on `alert_check`."""
        if self.alert_check is not None:
            self.alert_check(self, config, value, ticket_id)

    def overrides_changed(self, config: ZendeskConfig) -> None:
        """Forget the account's computed values: they are out of date under the new overrides
        stamp anyway (every process sees the stamp move); this frees their memory here."""
        self.cache.forget(config.base_url)

    def secret(self, store: HistoryStore, name: str) -> str | None:
        """One of the account's saved secrets (the CRM credentials), or None (also when the
        app has no key to open them with: then nothing can have been saved)."""
        if self.registry.vault is None:
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

    def norms(self, store: HistoryStore, settings: Settings, now: datetime) -> Norms:
        """What is typical in the account (`plugin.core.norms`), from a sample of its stored
        customers, recomputed at most every CUTOFFS_SECONDS per account and settings version;
        the defaults while the store is empty."""
        key = ("norms", store.account, settings.version)
        with self._lock:
            cached = self._cutoffs.get(key)
        if cached is not None and (now - cached[1]).total_seconds() < CUTOFFS_SECONDS:
            return cached[0]
        norms = account_norms(store.sample(settings), settings, now)
        with self._lock:
            self._cutoffs[key] = (norms, now)
        return norms

    def lifetime(self, store: HistoryStore, settings: Settings, now: datetime
                 ) -> LifetimeModel | None:
        """The account's lifetime model from its stored purchases (`fit_lifetime`) of the
        norms' sample (up to 2,000 customers, read without loading the others: four
        population parameters need no more; CDNOW's are read from 2,357), refitted
        at most every LIFETIME_SECONDS per account and settings version; None behind the
        data gate (too few repeat buyers or too short a purchase history) and when spend comes
        from fields (which carry no purchases)."""
        if settings.spend_source not in CRM_NAMES:
            return None  # the store records purchases only as a CRM's deals
        key = ("lifetime", store.account, settings.version)
        with self._lock:
            cached = self._cutoffs.get(key)
        if cached is not None and (now - cached[1]).total_seconds() < LIFETIME_SECONDS:
            return cached[0]
        model, _ = fit_lifetime(store.sample(settings), settings, now)
        with self._lock:
            self._cutoffs[key] = (model, now)
        return model

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
        cutoffs = account_cutoffs(store.histories(settings), settings, now,
                                  self.norms(store, settings, now))
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
        installation = self.registry.by_base_url(account_key)
        if installation is None:
            raise LookupError(f"no installation for {account_key}")
        return _connected(installation)

    # --- the tagging queue's durable record (`plugin.storage.deliveries`) ------------------

    def first_delivery(self, account_key: str, invocation: str, *, ticket_id: int,
                       requester_id: int, signature_digest: str | None = None) -> bool:
        """Record a webhook delivery before its job is queued; False if seen before (by its
        invocation id or its signature's digest)."""
        return self.deliveries.first(self.store(account_key).account, invocation,
                                     ticket_id=ticket_id, requester_id=requester_id,
                                     now=self.clock(), signature_digest=signature_digest)

    def finish_delivery(self, account_key: str, invocation: str) -> None:
        self.deliveries.finish(self.store(account_key).account, invocation, self.clock())

    def unfinished_deliveries(self, older_than: timedelta) -> list[Delivery]:
        return self.deliveries.unfinished(older_than, self.clock())

    def record_failed_job(self, account_key: str, job: str, arguments: list[Any],
                          error: BaseException | None) -> None:
        """Keep a job that ran out of retries where admins can see it."""
        self.deliveries.record_failure(self.store(account_key).account, job, arguments, error,
                                       self.clock())

    def failed_jobs(self, account_key: str) -> list[dict[str, Any]]:
        return self.deliveries.failures(self.store(account_key).account)

    def account_keys(self) -> list[str]:
        """Every account the database knows, by key (base URL)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(accounts.c.key).order_by(accounts.c.id)).scalars())

    def close(self) -> None:
        for client in [*self._clients.values(), *self._patient.values()]:
            client.close()
        self.crm.close()
        self.engine.dispose()
