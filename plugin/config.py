"""The app's configuration, read in one place: defaults, then the instance folder's
`config.py`, then the environment (or, in tests, the defaults and a `test_config`).

The web app (`create_app`) and every command read it through `load`, so both see the same
database, keys and accounts given the same instance folder (CUSTOMER_VALUE_INSTANCE, else
./instance) and environment.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Config

from plugin.storage.schema import with_driver

DATABASE_FILE = "customer-value.db"
SECRET_FILE = "secret_key"
SECRET_BYTES = 32
MIN_REQUEUE_SECONDS = 1.0
"""The shortest wait before the sweep queues an unfinished webhook delivery again: below it,
every sweep would queue again the jobs still running or waiting in the queue."""
MIN_CLAIM_SECONDS = 3.0
"""The shortest sync claim: renewed every third of it, so at least once a second."""
MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key at least as long as the SHA-256 output. A shorter SECRET_KEY is
refused at start-up rather than failing every signed session later."""

DURATIONS: dict[str, tuple[float, str]] = {
    "REQUEUE_AFTER_SECONDS": (
        MIN_REQUEUE_SECONDS, "how long a webhook delivery may stay unfinished before the sweep "
                             "queues its job again; 600 by default, and it cannot be switched off"),
    "SYNC_CLAIM_SECONDS": (
        MIN_CLAIM_SECONDS, "how long an account's periodic sync stays claimed by a worker that "
                           "stopped renewing it; 600 by default"),
    "VALUE_FRESH_SECONDS": (
        1.0, "how long a computed value is served before a background refresh; 60 by default"),
    "ZENDESK_READ_TIMEOUT": (1.0, "how long the web path waits for a Zendesk answer; 30 by "
                                  "default"),
}
"""Duration settings, each read strictly (`seconds`): its minimum, and what it means for the
message that refuses a bad value."""

DEFAULTS: Mapping[str, Any] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "DEMO_MODE": False,
    "VALUE_FRESH_SECONDS": 60.0,
    "ZENDESK_BASE_URL": "", "ZENDESK_SUBDOMAIN": "", "ZENDESK_EMAIL": "",
    "ZENDESK_API_TOKEN": "", "ZENDESK_APP_ID": "", "ZENDESK_INSTALLATION_ID": "",
    "ENCRYPTION_KEY": None,
    "WEBHOOK_SECRET": None,
    "REDIS_URL": None,
    "QUEUE_PATH": None,
    "ZENDESK_READ_TIMEOUT": 30.0,
    "METRICS_TOKEN": None,
    "TRUSTED_PROXIES": 0,
    "CRM_ALLOW_PRIVATE_HOSTS": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "TAG_ALWAYS": False,
    "ZENDESK_OAUTH_CLIENT_ID": "", "ZENDESK_OAUTH_CLIENT_SECRET": "",
    "PUBLIC_URL": "",
    "SETUP_TOKEN_ENTRY": False,
    "SETUP_BASE_URL": "",
    "SYNC_INTERVAL_SECONDS": 300.0,
    "REQUEUE_AFTER_SECONDS": 600.0,
    "SYNC_CLAIM_SECONDS": 600.0,
}
PLAIN_ENVIRONMENT = ("DATABASE_URL", "REDIS_URL", "ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN",
                     "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_APP_ID",
                     "ZENDESK_INSTALLATION_ID", "ZENDESK_OAUTH_CLIENT_ID",
                     "ZENDESK_OAUTH_CLIENT_SECRET")
"""Read from the environment under their own names; every other setting as CUSTOMER_VALUE_*."""
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """A setting the app cannot start with; the message names it and what it accepts."""


def flag(name: str, value: object) -> bool:
    """A yes/no setting read strictly: true/false, yes/no, on/off, 1/0 (any case), or a
    boolean; anything else is refused rather than guessed (a non-empty "False" is not true)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ConfigError(f"{name} must be true or false (yes/no, on/off, 1/0), not {value!r}")


def seconds(name: str, value: object, *, minimum: float, meaning: str = "") -> float:
    """A duration setting read strictly: a finite number of seconds of at least `minimum`
    (from the environment, `10` or `2.5`); anything else is refused with what it accepts,
    never replaced by the default."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: refused below, as it was given
            value = float(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name} must be a number of seconds, at least {minimum:g}, not "
                          f"{value!r}" + (f" ({meaning})" if meaning else ""))
    return float(value)


def instance_folder(env: Mapping[str, str] | None = None) -> Path:
    """Where the app keeps its own files (SQLite database, secret key, instance config):
    CUSTOMER_VALUE_INSTANCE, else ./instance."""
    env = os.environ if env is None else env
    return Path(env.get("CUSTOMER_VALUE_INSTANCE", "").strip() or "instance").resolve()


def load(test_config: Mapping[str, Any] | None = None) -> Config:
    """The configuration: defaults, then the instance config, then the environment; with a
    `test_config`, the defaults and it alone. Yes/no settings are read strictly (`flag`), so
    `CUSTOMER_VALUE_DEMO_MODE=False` means false, and `maybe` stops the app; so does a
    duration below its minimum (REQUEUE_AFTER_SECONDS, SYNC_CLAIM_SECONDS, VALUE_FRESH_SECONDS,
    ZENDESK_READ_TIMEOUT: 0 would otherwise read as "no wait" or as the default). The secret key,
    unless set, is the instance folder's `secret_key` file if there is one (`create_app`
    makes it when missing)."""
    folder = instance_folder()
    config = Config(str(folder), dict(DEFAULTS))
    if test_config is None:
        config.from_pyfile("config.py", silent=True)
        for name in PLAIN_ENVIRONMENT:
            if os.environ.get(name):
                config[name] = os.environ[name]
        config.from_prefixed_env("CUSTOMER_VALUE")
    else:
        config.update(test_config)
    for name, default in DEFAULTS.items():
        if isinstance(default, bool):
            config[name] = flag(name, config[name])
    for name, (minimum, meaning) in DURATIONS.items():
        config[name] = seconds(name, config[name], minimum=minimum, meaning=meaning)
    config["SECRET_KEY_FROM_FILE"] = False
    if not config["SECRET_KEY"] and (folder / SECRET_FILE).exists():
        config["SECRET_KEY"] = (folder / SECRET_FILE).read_text().strip()
        config["SECRET_KEY_FROM_FILE"] = True
    check_secret_key(config["SECRET_KEY"])
    return config


def check_secret_key(key: object) -> None:
    """ConfigError unless the secret key is unset (the instance folder's is made) or text of
    at least MIN_SECRET_BYTES bytes."""
    if key is None or key == "":
        return
    if not isinstance(key, str) or len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes of text; "
                          "leave it unset for a random one kept in the instance folder")


def key_variable(config: Mapping[str, Any]) -> str:
    """The setting that gives this process the key sealing stored credentials."""
    if config.get("ENCRYPTION_KEY"):
        return "CUSTOMER_VALUE_ENCRYPTION_KEY"
    return "CUSTOMER_VALUE_SECRET_KEY (or CUSTOMER_VALUE_ENCRYPTION_KEY)"


def require_shared_keys(config: Mapping[str, Any], url: str) -> None:
    """On PostgreSQL several processes on several machines share one database, so a key
    generated into one machine's instance folder would differ on the next: refuse to start
    unless the secret key is configured (environment or instance config.py)."""
    if not url.startswith("postgresql"):
        return
    if not config.get("SECRET_KEY") or config.get("SECRET_KEY_FROM_FILE"):
        raise ConfigError(
            "with PostgreSQL (DATABASE_URL) every process must share one key: set "
            "CUSTOMER_VALUE_SECRET_KEY (at least 32 bytes, the same everywhere; optionally "
            "CUSTOMER_VALUE_ENCRYPTION_KEY for the stored credentials) instead of relying "
            f"on a generated {SECRET_FILE} file")


def database_url(config: Mapping[str, Any]) -> str:
    """The configured DATABASE_URL (e.g. postgresql://...), else a SQLite file in the
    instance folder."""
    url = str(config.get("DATABASE_URL") or "").strip()
    if url:
        return with_driver(url)
    folder = instance_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DATABASE_FILE}"


def instance_secret(folder: Path) -> str:
    """A random secret kept in the instance folder, so every worker of one deployment signs
    and reads the same session tokens. Set CUSTOMER_VALUE_SECRET_KEY to manage it yourself."""
    path = folder / SECRET_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES))
    return path.read_text().strip()
