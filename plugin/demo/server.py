"""`customer-value demo`: a whole working app with no Zendesk account.

It generates a sample account, serves it from the built-in Zendesk sandbox, syncs the history
store from it, and runs the app on http://127.0.0.1:5000 in demo mode, where an index page lists
tickets and shows the sidebar beside each inside a harness that plays Zendesk's part.

When the account has Zendesk Sell files (the generator writes them), the demo takes spend from
the sandbox's Sell, as an admin would choose on the settings page: its settings say
`spend_source: sell` with exchange rates for EUR and GBP (CHF deals stay out, with a notice),
the sync copies Sell's contacts and deals into the store, and the app is pointed at the
sandbox's Sell through SELL_BASE_URL and SELL_ACCESS_TOKEN of this process.

A second, smaller generated account, `newco`, has just installed the app (`/demo/new-account`
plays Zendesk's part for it): it is served by a sandbox of its own, which the set-up reaches
(SETUP_BASE_URL), so connecting it, its first sync and its sidebar start from nothing.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests
from werkzeug.serving import make_server

from integrations.http import Transport
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin import create_app
from plugin.demo.generator import generate
from plugin.demo.zaf import NEW_ACCOUNT, DemoSigner
from plugin.service_layer.crm import CrmConnector
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect
from plugin.storage.versions import SettingsVersions

HOST = "127.0.0.1"
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "demo-token"
DEMO_SELL_TOKEN = "demo-sell-token"
DEMO_RATES = {"EUR": 1.08, "GBP": 1.27}
"""Exchange rates the demo's settings give (units of USD); CHF is left without one on purpose,
to show how a currency without a rate is named, not guessed."""
NEW_ACCOUNT_CUSTOMERS = 30
NEW_ACCOUNT_SEED = 11


def run_demo(customers: int, port: int, echo: Callable[[str], None], *,
             data: Path | None = None, now: datetime | None = None,
             sandbox_port: int = 0) -> None:
    """Build the demo (on `data`, or a generated account) and serve it until interrupted;
    the sandbox listens on `sandbox_port` (0: a free one)."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="customer-value-demo-") as scratch:
        folder = Path(scratch)
        account = data or folder / "account"
        if data is None:
            echo(f"Generating a sample account of {customers} customers ...")
            summary = generate(account, customers, seed=7, now=now)
            echo(f"  {summary.users:,} customers, {summary.tickets:,} tickets")
        newco = folder / NEW_ACCOUNT
        newco.mkdir()
        generate(newco, NEW_ACCOUNT_CUSTOMERS, seed=NEW_ACCOUNT_SEED, now=now)
        with running_sandbox(account, now=now, export_rate_limit=10_000,
                             port=sandbox_port) as base, \
                running_sandbox(newco, now=now, export_rate_limit=10_000) as newco_base:
            echo(f"Zendesk sandbox on {base}")
            echo(f"Zendesk sandbox of the new account {NEW_ACCOUNT} on {newco_base}")
            database = f"sqlite:///{folder / 'demo.db'}"
            sell = (account / "sell_contacts.json").exists()
            if sell:
                os.environ["SELL_BASE_URL"] = base
                os.environ["SELL_ACCESS_TOKEN"] = DEMO_SELL_TOKEN
            _sync(base, database, echo, sell=sell, now=now)
            # Here, not at the top: the queue's module imports the metrics library, which
            # `serve` must set up first (see `plugin.cli.server`).
            from plugin.service_layer.jobs import consumer_threads, keep_overviews

            signer = DemoSigner()
            app = create_app({
                "DEMO_MODE": True, "DATABASE_URL": database, "ZENDESK_BASE_URL": base,
                "ZENDESK_EMAIL": DEMO_EMAIL, "ZENDESK_API_TOKEN": DEMO_TOKEN,
                "SECRET_KEY": _secret(), "QUEUE_PATH": str(folder / "queue.db"),
                # The sandbox's own OAuth client, so the set-up of a new account runs here.
                "ZENDESK_OAUTH_CLIENT_ID": "customer_value",
                "ZENDESK_OAUTH_CLIENT_SECRET": "sandbox-oauth-secret",
                "SETUP_TOKEN_ENTRY": True, "SETUP_BASE_URL": newco_base,
            }, fetch_key=signer.fetch)
            app.extensions["demo_signer"] = signer
            keep_overviews(app.extensions["customer_value"])  # the worker's job, at once
            server = make_server(HOST, port, app, threaded=True)
            url = f"http://{HOST}:{server.server_port}/"
            echo(f"Customer Value demo on {url} (Ctrl-C to stop)")
            try:
                with consumer_threads(app.extensions["queue"], 1):
                    server.serve_forever()
            except KeyboardInterrupt:
                echo("Stopped.")
            finally:
                server.server_close()
                app.extensions["customer_value"].close()


def _sync(base_url: str, database: str, echo: Callable[[str], None], *, sell: bool,
          now: datetime) -> None:
    """Sync the store from the sandbox (and its Sell, with settings that take spend from it)."""
    upgrade(database)
    engine = connect(database)
    store = HistoryStore(engine, account_id(engine, base_url, datetime.now(UTC)))
    client = ZendeskClient(Transport(base_url=base_url, session=requests.Session(),
                                     auth=(f"{DEMO_EMAIL}/token", DEMO_TOKEN),
                                     mode="background"))
    crm = CrmConnector(allow_private_hosts=True)  # reads SELL_* as set above
    try:
        if sell:
            SettingsVersions(engine, store.account).save(
                {"spend_source": "sell", "exchange_rates": DEMO_RATES}, author_id=0, now=now,
                note="demo: spend from the sandbox's Zendesk Sell")
        report = sync(client, store, clock=lambda: datetime.now(UTC),
                      crm=crm.source("sell", lambda name: None, mode="background")
                      if sell else None)
    finally:
        client.close()
        crm.close()
        engine.dispose()
    echo(f"History store synced: {report.records:,} records in {report.api_calls} API calls"
         + (", and Zendesk Sell's contacts and deals" if sell else ""))


def _secret() -> str:
    return secrets.token_hex(32)
