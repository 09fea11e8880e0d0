"""Customer Value for Zendesk: the Flask app and the domain code it serves.

Read top down: `cli` (commands) → `demo` (the demo and the sample-data generator) → `create_app`
(here) and `bootstrap` (the composition root) → `web` (views) → `service_layer` (what views,
jobs and commands ask for) → `storage` (the database) → `integrations` (Zendesk, the CRMs, the
sandbox) → `core` (the pure model). Each layer imports only those below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def create_app(test_config: Mapping[str, Any] | None = None, *, services=None,
               fetch_key=None):
    """Build the app: its configuration (`plugin.config.load`), its services (built by
    `plugin.bootstrap.build_services`, or the `services` a test hands in), its queue and its
    blueprints. `fetch_key`: how Zendesk's public keys are fetched (tests pass a fake)."""
    from flask import Flask

    from plugin import config as configuration
    from plugin.bootstrap import build_services, check_demo_mode
    from plugin.resources import resource_dir
    from plugin.service_layer.jobs import make_queue
    from plugin.web import (
        admin,
        alerts,
        api,
        demo,
        errors,
        ids,
        limits,
        observability,
        overview,
        security,
        setup,
        sidebar,
        webhook,
    )

    app = Flask(__name__, instance_path=str(configuration.instance_folder()),
                template_folder=str(resource_dir("templates")))
    app.config.update(configuration.load(test_config))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = configuration.instance_secret(Path(app.instance_path))
        app.config["SECRET_KEY_FROM_FILE"] = True
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N proxies, take the client's address, scheme and host from their X-Forwarded-*
        # headers, so links the app hands Zendesk (the webhook's URL) say https and the host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.extensions["customer_value"] = services or build_services(app.config)
    check_demo_mode(app.config, app.extensions["customer_value"].registry)
    limits.init_app(app)
    ids.init_app(app)
    observability.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    sidebar.init_app(app, fetch_key)
    demo.init_app(app)
    admin.init_app(app)
    setup.init_app(app)
    overview.init_app(app)
    alerts.init_app(app)
    webhook.init_app(app)
    if not app.config["QUEUE_PATH"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["QUEUE_PATH"] = str(Path(app.instance_path) / "queue.db")
    app.extensions["queue"] = make_queue(app)
    return app
