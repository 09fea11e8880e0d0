"""Customer Value for Zendesk: the Flask app and the domain code it serves."""

from __future__ import annotations

import os
from typing import Any


def create_app(test_config: dict[str, Any] | None = None):
    """Build the app: defaults, then the instance config, then the environment (or, in tests,
    `test_config`); then its services and blueprints."""
    from flask import Flask

    from . import api, security
    from .resources import resource_dir

    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(resource_dir("templates")))
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=None,
        DEMO_MODE=False,
        VALUE_FRESH_SECONDS=60.0,
        ZENDESK_BASE_URL="", ZENDESK_SUBDOMAIN="", ZENDESK_EMAIL="", ZENDESK_API_TOKEN="",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name in ("DATABASE_URL", "ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL",
                     "ZENDESK_API_TOKEN"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        app.config.from_prefixed_env("CUSTOMER_VALUE")
    else:
        app.config.from_mapping(test_config)
    security.init_app(app)
    api.init_app(app)
    return app
