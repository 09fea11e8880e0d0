"""Customer Value for Zendesk: the Flask app and the domain code it serves."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

SECRET_BYTES = 32


def create_app(test_config: dict[str, Any] | None = None):
    """Build the app: defaults, then the instance config, then the environment (or, in tests,
    `test_config`); then its services and blueprints."""
    from flask import Flask

    from plugin import observability
    from plugin.config import instance_folder
    from plugin.resources import resource_dir
    from plugin.service_layer.jobs import make_queue
    from plugin.web import admin, api, demo, security, sidebar
    from plugin.web import webhook as hooks

    app = Flask(__name__, instance_path=str(instance_folder()), instance_relative_config=True,
                template_folder=str(resource_dir("templates")))
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=None,
        DEMO_MODE=False,
        VALUE_FRESH_SECONDS=60.0,
        ZENDESK_BASE_URL="", ZENDESK_SUBDOMAIN="", ZENDESK_EMAIL="", ZENDESK_API_TOKEN="",
        ZENDESK_APP_ID="", ZENDESK_INSTALLATION_ID="",
        ENCRYPTION_KEY=None,
        WEBHOOK_SECRET=None,
        REDIS_URL=None,
        QUEUE_PATH=None,
        ZENDESK_READ_TIMEOUT=30.0,
        METRICS_TOKEN=None,
        TRUSTED_PROXIES=0,
        CRM_ALLOW_PRIVATE_HOSTS=False,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name in ("DATABASE_URL", "REDIS_URL", "ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN",
                     "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_APP_ID",
                     "ZENDESK_INSTALLATION_ID"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        app.config.from_prefixed_env("CUSTOMER_VALUE")
    else:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N proxies, take the client's address, scheme and host from their X-Forwarded-*
        # headers, so links the app hands Zendesk (the webhook's URL) say https and the host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    observability.init_app(app)
    security.init_app(app)
    api.init_app(app)
    sidebar.init_app(app, app.extensions["customer_value"].registry)
    demo.init_app(app)
    admin.init_app(app)
    hooks.init_app(app)
    if not app.config["QUEUE_PATH"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["QUEUE_PATH"] = str(Path(app.instance_path) / "queue.db")
    app.extensions["queue"] = make_queue(app)
    return app


def _instance_secret(folder: Path) -> str:
    """A random secret kept in the instance folder, so every worker of one deployment signs
    and reads the same session tokens. Set CUSTOMER_VALUE_SECRET_KEY to manage it yourself."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES))
    return path.read_text().strip()
