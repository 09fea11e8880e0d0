"""The sandbox's Flask app: Zendesk's API over a loaded dataset, plus `/_sandbox/*` controls.

Every `/api/v2` request passes one gate, in Zendesk's order of events: it is counted, delayed
by the configured latency, possibly replaced by an injected fault, authenticated, and charged
against the rate limits; then due bulk jobs run and the view answers. Errors of any view become
Zendesk's JSON in one place (`ApiError`). `/_sandbox/*` (stats, config, reset, clock) is
neither counted, limited, faulted nor authenticated.
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from integrations.sandbox import apps, automation, crm, exports, fields, oauth, people, tickets
from integrations.sandbox.clock import iso
from integrations.sandbox.config import ConfigError, SandboxConfig
from integrations.sandbox.context import API_PREFIX, Services, reply, services
from integrations.sandbox.data import Store
from integrations.sandbox.errors import ApiError, classic, invalid_endpoint
from integrations.sandbox.faults import Admission, Traffic

CONTROL_PREFIX = "/_sandbox"
UNAUTHORIZED = {"error": "Couldn't authenticate you"}
RATE_LIMITED = {
    False: "Number of allowed API requests per minute exceeded",
    True: "Number of allowed incremental export API requests per minute exceeded",
}
GATEWAY_PAGES = {
    502: "<html><body><h1>502 Bad Gateway</h1>The server returned an invalid or incomplete "
         "response.</body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this "
         "request.</body></html>",
}
RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
NAMED_ID = r"{\1}"
"""Flask's `<int:ticket_id>` as the OpenAPI's `{ticket_id}`."""

control = Blueprint("sandbox_control", __name__, url_prefix=CONTROL_PREFIX)


def create_app(data: Store, config: SandboxConfig | None = None) -> Flask:
    """The sandbox app over a loaded `data` store, with `config`'s knobs (defaults if None)."""
    app = Flask(__name__, static_folder=None)
    app.wsgi_app = _without_json_suffix(app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["sandbox"] = Services(data, Traffic(config or SandboxConfig()))
    for blueprint in (tickets.blueprint, people.blueprint, exports.blueprint,
                      automation.blueprint, fields.blueprint, apps.blueprint, crm.blueprint,
                      oauth.blueprint, control):
        app.register_blueprint(blueprint)
    app.before_request(_gate)
    app.after_request(_rate_headers)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _without_json_suffix(wsgi: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Routes `/api/v2/tickets/1.json` as `/api/v2/tickets/1`: the suffix is optional."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PREFIX) and path.endswith(".json"):
            environ["PATH_INFO"] = path.removesuffix(".json")
        return wsgi(environ, start_response)

    return app


def endpoint_key(method: str, rule: str | None) -> str:
    """The stats key of a request: method and route pattern with named ids."""
    if rule is None:
        return f"{method} (unknown endpoint)"
    return f"{method} {RULE_PARAMETER.sub(NAMED_ID, rule)}"


def _gate() -> Response | None:
    """Counts, delays, faults, authenticates and rate-limits an API request (see the module
    docstring); an answer here replaces the view's."""
    if not request.path.startswith(API_PREFIX):
        return None
    parts = services()
    rule = request.url_rule.rule if request.url_rule is not None else None
    parts.stats.count(endpoint_key(request.method, rule))
    traffic = parts.traffic
    traffic.delay()
    fault = traffic.fault()
    if fault is not None:
        answer = _inject(fault, traffic.config.slow_seconds)
        if answer is not None:
            return answer
    if not _authenticated(request.headers.get("Authorization", ""), traffic.config,
                          parts.oauth.knows):
        return reply(UNAUTHORIZED, 401, {"WWW-Authenticate": 'Basic realm="Web Password"'})
    admission = traffic.admit(export=request.endpoint in exports.EXPORT_ENDPOINTS)
    g.admission = admission
    if not admission.allowed:
        return reply({"error": "APIRateLimitExceeded",
                      "description": RATE_LIMITED[admission.export]}, 429,
                     {"Retry-After": str(admission.retry_after)})
    tickets.run_due_jobs()
    return None


INJECTED_RETRY_AFTER = 1
"""Seconds an injected 429 asks the client to wait (short, so fault tests stay quick)."""


def _inject(fault: str, slow_seconds: float) -> Response | None:
    """The answer of an injected fault; None when the request goes on (after a slow wait)."""
    if fault == "slow":
        time.sleep(slow_seconds)
        return None
    if fault == "drop":
        return _drop_connection()
    if fault == "429":
        return reply({"error": "APIRateLimitExceeded", "description": RATE_LIMITED[False]}, 429,
                     {"Retry-After": str(INJECTED_RETRY_AFTER)})
    status = int(fault)
    if status in GATEWAY_PAGES:
        return Response(GATEWAY_PAGES[status], status, mimetype="text/html")
    return reply({"error": "InternalServerError",
                  "description": "Something went wrong on our side"}, status)


def _drop_connection() -> Response:
    """Closes the client's connection without an answer (the server's write then fails)."""
    connection = request.environ.get("werkzeug.socket")
    if connection is None:
        raise ConnectionResetError("the sandbox dropped this connection (fault injection)")
    connection.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def _authenticated(header: str, config: SandboxConfig,
                   issued: Callable[[str], bool | None]) -> bool:
    """Basic or Bearer credentials; with a configured token, they must carry it. An OAuth
    access token the sandbox issued passes until it is revoked."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        known = issued(credentials)
        if known is not None:
            return known
        return config.token is None or credentials == config.token
    if scheme.lower() != "basic" or not credentials:
        return False
    try:
        user, _, password = base64.b64decode(credentials).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if config.token is None:
        return bool(user)
    expected_user = f"{config.email}/token" if config.email else None
    return password == config.token and (
        user == expected_user if expected_user else user.endswith("/token"))


def _rate_headers(response: Response) -> Response:
    admission: Admission | None = g.get("admission")
    if admission is not None and admission.limit:
        response.headers["X-Rate-Limit"] = str(admission.limit)
        response.headers["X-Rate-Limit-Remaining"] = str(admission.remaining)
    return response


def _api_error(error: ApiError) -> Response:
    return reply(error.body, error.status, error.headers)


def _http_error(error: HTTPException) -> Response:
    """Routing errors (unknown path, wrong method) in Zendesk's shape."""
    if error.code == 404:
        return _api_error(invalid_endpoint())
    status = error.code or 500
    return _api_error(classic(status, error.name.replace(" ", ""), error.description or ""))


@control.get("/stats")
def stats() -> Response:
    return reply(services().stats.snapshot())


@control.post("/reset")
def reset() -> Response:
    """Zeroes the stats and forgets the requests counted against the rate limits."""
    services().stats.reset()
    services().traffic.reset()
    crm.bucket().reset()
    return reply(services().stats.snapshot())


@control.post("/oauth/revoke_all")
def revoke_all() -> Response:
    """Revokes every OAuth token issued so far (an admin removing the app's access)."""
    return reply({"revoked": services().oauth.revoke_all()})


@control.get("/config")
def show_config() -> Response:
    return reply(services().traffic.config.public())


@control.post("/config")
def change_config() -> Response:
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        return reply({"error": "InvalidJSON", "description": "expected a JSON object"}, 400)
    try:
        config = services().traffic.reconfigure(changes)
    except ConfigError as error:
        return reply({"error": "InvalidValue", "description": str(error)}, 400)
    return reply(config.public())


@control.get("/clock")
def clock() -> Response:
    """The sandbox's present, and where archiving starts."""
    store = services().store
    return reply({"now": iso(store.clock.now()), "epoch": store.clock.now(),
                  "archived_before": iso(store.archive_cutoff())})
