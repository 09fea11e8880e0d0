"""What every command shares: the click group, timestamps, failing with a message, and the
app's services built by the composition root from the one configuration."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from integrations.errors import AuthFailed
from integrations.zendesk import ZendeskConfig
from plugin import config as configuration
from plugin.bootstrap import build_services, single_account
from plugin.service_layer.services import Services

BAR_WIDTH = 20
PROGRESS_SECONDS = 1.0


class Timestamp(click.ParamType):
    """An ISO 8601 timestamp with a time zone."""

    name = "timestamp"

    def convert(self, value: Any, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 timestamp (e.g. 2024-05-01T12:00:00Z)",
                      param, ctx)
        if moment.tzinfo is None:
            self.fail(f"{value!r} has no time zone; add Z for UTC", param, ctx)
        return moment


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="customer-value-zendesk")
def main() -> None:
    """Customer Value for Zendesk: each customer's value, its reasons, and what to do next."""


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def read_json_file(path: Path, name: str) -> Any:
    """The JSON in a file the operator named, or a one-line error naming it (`name`)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {name}: {error.strerror or error}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        fail(f"{name} is not valid JSON: {error}")


def account_services(zendesk_mode: str, *, subdomain: str | None = None) -> Services:
    """The app's services for a command acting on one Zendesk account: the installation
    `subdomain` names, else the configured one (the ZENDESK_* settings), with clients that
    fail fast (`web`) or wait rate limits out (`background`); a clear error when the account,
    the keys or the database are not there."""
    try:
        config = configuration.load()
        if subdomain is None:
            single_account(config)
    except ValueError as error:
        fail(str(error))
    try:
        return build_services(config, zendesk_mode=zendesk_mode)
    except configuration.ConfigError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"cannot open the database: {type(error).__name__}: {str(error).splitlines()[0]}")


def account_target(zendesk_mode: str, subdomain: str | None
                   ) -> tuple[Services, ZendeskConfig]:
    """The services and the Zendesk account a command acts on: the installation `subdomain`
    names, else the ZENDESK_* one."""
    services = account_services(zendesk_mode, subdomain=subdomain)
    if subdomain is None:
        return services, services.zendesk
    try:
        return services, services.account_config(subdomain)
    except (LookupError, AuthFailed) as error:  # unknown, or waiting for a reconnect
        services.close()
        fail(str(error).strip("'\""))


def built_app():
    """`create_app()` for a command, or a clear error (a setting it cannot start with: keys
    that do not match, a naming clash; a database it cannot open) instead of a traceback."""
    from plugin import create_app

    try:
        return create_app()
    except configuration.ConfigError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"cannot open the database: {type(error).__name__}: {str(error).splitlines()[0]}")
