"""`customer-value install` still registers an installation for operators who script it, and
the set-up flow then treats the account as known."""

import pytest

from plugin.bootstrap import build_services
from plugin.config import load
from tests.commands import cli

pytestmark = pytest.mark.slow  # a subprocess


def test_install_registers_the_account_with_its_token_sealed(tmp_path):
    env = {"CUSTOMER_VALUE_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "CUSTOMER_VALUE_SECRET_KEY": "k" * 40, "CUSTOMER_VALUE_INSTANCE": str(tmp_path),
           "ZENDESK_API_TOKEN": "scripted-token-123"}
    done = cli("install", "--subdomain", "acme", "--app-id", "12", "--installation-id", "34",
               "--email", "ops@acme.example", env=env)
    assert done.returncode == 0, done.stderr
    assert "Installed for acme: app 12, installation 34." in done.stdout
    services = build_services(load({"DATABASE_URL": env["DATABASE_URL"],
                                    "SECRET_KEY": "k" * 40}))
    try:
        found = services.registry.get("acme")
    finally:
        services.close()
    assert (found.app_id, found.installation_id, found.email, found.token, found.auth_kind,
            found.needs_reconnect) == (12, 34, "ops@acme.example", "scripted-token-123",
                                       "token", False)
