"""The composition root: the one place the app's world is built from its configuration.

`create_app` and every command call `build_services(config)`; tests call it with fakes
(`client_factory`, `clock`, `crm`) or hand `create_app` services they built. Nothing else
connects to the database, builds the vault or the registry, or reads the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from integrations.http import CONNECT_TIMEOUT
from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.config import ConfigError, database_url, key_variable, require_shared_keys
from plugin.service_layer.alerts import after_value
from plugin.service_layer.crm import CrmConnector
from plugin.service_layer.services import Services, subdomain_of, utc_now
from plugin.service_layer.setup import SetupOptions, TokenRenewal
from plugin.service_layer.values import ValueCache
from plugin.storage.deliveries import Deliveries
from plugin.storage.installations import Installation, InstallationConflict, Registry
from plugin.storage.keys import KeyMismatch, check_key
from plugin.storage.migrations import upgrade
from plugin.storage.schema import connect
from plugin.storage.vault import configured_vault

ZENDESK_KEYS = ("ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")


def single_account(config: Mapping[str, Any]) -> ZendeskConfig:
    """The single-account set-up's Zendesk (the ZENDESK_* settings); ValueError naming what is
    missing when they are incomplete."""
    return ZendeskConfig.from_env({key: str(config.get(key) or "") for key in ZENDESK_KEYS})


def build_services(config: Mapping[str, Any], *,
                   client_factory: Callable[[ZendeskConfig], ZendeskClient] | None = None,
                   clock: Callable[[], datetime] = utc_now, crm: CrmConnector | None = None,
                   zendesk_mode: str = "web") -> Services:
    """Migrate and connect the database, and build the vault, the installation registry, the
    caches and the clients' factories. `zendesk_mode`: `web` for the app (fail fast while an
    agent waits), `background` for commands that wait rate limits out.

    ConfigError (naming what to set) when the keys cannot be trusted: on PostgreSQL without a
    configured secret key, or with a key whose fingerprint is not the one the database's
    credentials were sealed with; and when the single account's ZENDESK_* settings name an
    account installed under another subdomain."""
    url = database_url(config)
    require_shared_keys(config, url)
    upgrade(url)
    engine = connect(url)
    vault = configured_vault(config)
    if vault is not None:
        try:
            check_key(engine, vault, clock(), variable=key_variable(config))
        except KeyMismatch as error:
            engine.dispose()
            raise ConfigError(str(error)) from error
    registry = Registry(engine, vault)
    try:
        single: ZendeskConfig | None = single_account(config)
    except ValueError:
        single = None
    if single is not None and config.get("ZENDESK_APP_ID"):
        try:
            registry.save(Installation(
                subdomain=subdomain_of(single.base_url), base_url=single.base_url,
                app_id=int(config["ZENDESK_APP_ID"]),
                installation_id=int(config.get("ZENDESK_INSTALLATION_ID") or 0) or None,
                email=single.email, token=single.token), clock())
        except InstallationConflict as error:
            engine.dispose()
            raise ConfigError(f"{error} (ZENDESK_APP_ID and ZENDESK_SUBDOMAIN or "
                              "ZENDESK_BASE_URL register the single account)") from error
    # Imported here, not at the top: `serve` must point prometheus_client at its multiprocess
    # folder before the library is first imported (see `plugin.cli.server`).
    from plugin.service_layer.telemetry import watch_upstream

    watch_upstream()
    timeout = (CONNECT_TIMEOUT, config["ZENDESK_READ_TIMEOUT"])
    # Every client of an OAuth installation refreshes a refused token once, then stops.
    renewal = TokenRenewal(registry, SetupOptions.from_config(config), clock)
    return Services(
        engine=engine, zendesk=single, registry=registry, deliveries=Deliveries(engine),
        clock=clock,
        client_factory=client_factory or (lambda zendesk: ZendeskClient.connect(
            zendesk, mode=zendesk_mode, timeout=timeout, renew=renewal.hook(zendesk))),
        patient_factory=client_factory or (lambda zendesk: ZendeskClient.connect(
            zendesk, mode="background", timeout=timeout, renew=renewal.hook(zendesk))),
        cache=ValueCache(fresh_for=config["VALUE_FRESH_SECONDS"]),
        crm=crm or CrmConnector(allow_private_hosts=bool(
            config.get("CRM_ALLOW_PRIVATE_HOSTS") or config.get("DEMO_MODE"))),
        alert_check=after_value)


def check_demo_mode(config: Mapping[str, Any], registry: Registry) -> None:
    """Refuse demo mode (an admin session without sign-in, private CRM hosts) on a store that
    holds real installations: any account other than the one the configuration names."""
    if not config.get("DEMO_MODE"):
        return
    try:
        own = subdomain_of(single_account(config).base_url)
    except ValueError:
        own = None
    others = sorted(subdomain for subdomain in registry.app_ids() if subdomain != own)
    if others:
        raise ConfigError(f"DEMO_MODE is on, but the database holds installations of "
                          f"{len(others)} Zendesk account(s): demo mode is refused on a real "
                          "store (use a database of its own)")
