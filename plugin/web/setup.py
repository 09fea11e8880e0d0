"""Set-up from inside Zendesk: the first signed load of an account the server does not know.

Zendesk signs every load of the app's pages (`signedUrls`); for an unknown account the JWT is
verified against the app's public key at that account (the app id: ZENDESK_APP_ID, else the
JWT's own `cnf.jku`, which must name the issuing account's host) and its audience must be an
installation of that same account. Then:

- the ticket sidebar (any agent) shows "An admin needs to finish set-up";
- the app's page (nav bar) shows the set-up page: "Connect with Zendesk" opens Zendesk's own
  authorization page in a new window (it cannot be framed), or, where the operator allows it,
  an admin's API token is typed once. The page then follows a checklist until the first sync
  is done.

The page carries a set-up ticket (signed, 15 minutes) naming the account, the installation and
the user; the OAuth window gets a first-party cookie the state is bound to.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from integrations.automation import missing_fields
from integrations.errors import AuthFailed, IntegrationError
from plugin.core.settings import Settings
from plugin.core.tagging import record_fields
from plugin.service_layer import setup as service
from plugin.storage.installations import Installation
from plugin.storage.secrets import WEBHOOK_SECRET
from plugin.storage.setups import PendingSetup, SetupStates, StateRefused
from plugin.web.auth import (
    APP_ID_IN_JKU,
    INSTALLATION_ID_IN_AUD,
    ZENDESK_TOKEN_FORM_FIELD,
    AuthError,
    PublicKeyCache,
    ZendeskClaims,
    account_from_issuer,
    verify_zendesk_token,
)
from plugin.web.errors import error_body
from plugin.web.i18n import pick_locale
from plugin.web.session import services, session_from_request

bp = Blueprint("setup", __name__)

TICKET_SECONDS = 15 * 60
TICKET_SALT = "customer-value/setup-ticket"
COOKIE = "cv_setup"


class _AnyAccount(dict):
    """The app id of every account: the one the operator configured, or the token's own."""

    def __init__(self, app_id: int):
        super().__init__()
        self.app_id = app_id

    def __contains__(self, account: object) -> bool:
        return isinstance(account, str)

    def __getitem__(self, account: str) -> int:
        return self.app_id


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(AuthFailed, _auth_failed)


def _options() -> service.SetupOptions:
    return service.SetupOptions.from_config(current_app.config)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TICKET_SALT)


# --- the signed loads of an account not (yet, or no longer) connected ----------------------

def intercept(page: str) -> Any | None:
    """The set-up answer to a signed load of `page` ("sidebar" or "settings") when its
    account is unknown or must reconnect; None when the load goes on as usual."""
    token = request.form.get(ZENDESK_TOKEN_FORM_FIELD, "")
    try:
        account = account_from_issuer(jwt.decode(token, options={"verify_signature": False})
                                      .get("iss"))
    except (jwt.PyJWTError, AuthError):
        return None  # the usual verification refuses it with its precise reason
    installation = services().registry.get(account)
    if installation is not None and not installation.needs_reconnect:
        return None
    claims = _verified_setup_load(token, installation)
    locale = pick_locale(request.args.get("locale") or "en")
    reconnect = installation is not None
    if page == "sidebar":
        return render_template("setup/pending.html", locale=locale, reconnect=reconnect)
    pending = PendingSetup(claims.account, claims.app_id or _configured_app_id(),
                           claims.installation_id)
    ticket = _serializer().dumps({"acc": pending.subdomain, "app": pending.app_id,
                                  "inst": pending.installation_id, "user": claims.user_id})
    options = _options()
    return render_template("setup/setup.html", locale=locale, ticket=ticket,
                           reconnect=reconnect, account=claims.account,
                           oauth=options.oauth is not None, token_entry=options.token_entry)


def _configured_app_id() -> int | None:
    raw = str(current_app.config.get("ZENDESK_APP_ID") or "").strip()
    return int(raw) if raw.isdigit() else None


def _verified_setup_load(token: str, installation: Installation | None) -> ZendeskClaims:
    unverified = jwt.decode(token, options={"verify_signature": False})
    account = account_from_issuer(unverified.get("iss"))
    app_id = (installation.app_id if installation else None) or _configured_app_id()
    if app_id is None:
        cnf = unverified.get("cnf") if isinstance(unverified.get("cnf"), dict) else {}
        jku = cnf.get("jku") if isinstance(cnf.get("jku"), str) else ""
        found = APP_ID_IN_JKU.search(jku)
        if found is None or not jku.startswith(f"https://{account}.zendesk.com/"):
            abort(401, "the signed load names no app key of this account")
        app_id = int(found["id"])
    audience = unverified.get("aud") if isinstance(unverified.get("aud"), str) else ""
    if INSTALLATION_ID_IN_AUD.search(audience) is None:
        abort(401, "the signed load names no installation of the app")
    keys = PublicKeyCache(current_app.extensions["customer_value_fetch"], _AnyAccount(app_id))
    now = services().clock()
    try:
        return verify_zendesk_token(token, key_for=keys.key_for(now), now=now,
                                    audience=audience)
    except AuthError as error:
        abort(401, f"the signed load was refused: {error}")


def _ticket() -> PendingSetup:
    raw = request.args.get("ticket") or request.headers.get("X-Setup-Ticket") or ""
    try:
        data = _serializer().loads(raw, max_age=TICKET_SECONDS)
    except SignatureExpired:
        abort(401, "the set-up page has expired; open the app again from Zendesk")
    except BadSignature:
        abort(401, "a valid set-up ticket is required")
    return PendingSetup(data["acc"], data.get("app"), data.get("inst"))


# --- connecting ---------------------------------------------------------------------------

@bp.get("/setup/oauth/start")
def oauth_start():
    """Opened in its own window from the set-up page: a fresh state bound to this browser,
    then Zendesk's authorization page."""
    pending = _ticket()
    session_key = secrets.token_urlsafe(32)
    try:
        url = service.begin_oauth(_options(), SetupStates(services().engine), pending,
                                  session_key=session_key, public_url=request.host_url,
                                  now=services().clock())
    except service.SetupRefused as error:
        abort(409, str(error))
    response = redirect(url, 302)
    response.set_cookie(COOKIE, session_key, max_age=600, httponly=True, samesite="Lax",
                        secure=not current_app.config["DEMO_MODE"], path="/setup/oauth")
    return response


@bp.get(service.CALLBACK_PATH)
def oauth_callback():
    """Zendesk sends the admin back here with `code` and `state` (or `error`)."""
    locale = pick_locale(request.args.get("locale") or "en")
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if request.args.get("error") or not code:
        return render_template("setup/done.html", locale=locale, ok=False,
                               message="Zendesk access was not allowed. Close this window "
                                       "and choose Connect again when you are ready."), 400
    now = services().clock()
    try:
        installation = service.finish_oauth(
            _options(), SetupStates(services().engine), services().registry,
            services().client_factory, state=state[:200], code=code[:200],
            session_key=request.cookies.get(COOKIE, ""), public_url=request.host_url, now=now)
    except (StateRefused, service.SetupRefused) as error:
        return render_template("setup/done.html", locale=locale, ok=False,
                               message=str(error)), 400
    except IntegrationError:
        return render_template("setup/done.html", locale=locale, ok=False,
                               message="Zendesk did not complete the connection; close this "
                                       "window and choose Connect again."), 502
    _connected(installation)
    response = current_app.make_response(render_template(
        "setup/done.html", locale=locale, ok=True,
        message="Connected. You can close this window; the set-up page shows the first sync."))
    response.delete_cookie(COOKIE, path="/setup/oauth")
    return response


@bp.post("/setup/token")
def token_entry():
    pending = _ticket()
    body = request.get_json(silent=True) or {}
    try:
        installation = service.connect_with_token(
            _options(), services().registry, services().client_factory, pending,
            email=str(body.get("email") or ""), token=str(body.get("token") or ""),
            now=services().clock())
    except service.SetupRefused as error:
        return error_body(400, "setup_refused", str(error))
    _connected(installation)
    return jsonify(_status(pending.subdomain))


@bp.get("/setup/status")
def status():
    return jsonify(_status(_ticket().subdomain))


def _connected(installation: Installation) -> None:
    services().forget_client(installation.base_url)
    service.start_first_sync(current_app.extensions["queue"], installation.base_url)


def _status(subdomain: str) -> dict[str, Any]:
    installation = services().registry.get(subdomain)
    counts: dict[str, int] = {}
    streams = 0
    tagging = webhook = False
    fields = None
    if installation is not None:
        store = services().store(installation.base_url)
        counts = store.counts()
        streams = store.streams_done()
        settings = services().settings_for(store)
        tagging = settings.tagging_enabled
        webhook = bool(services().secret(store, WEBHOOK_SECRET))
        if not installation.needs_reconnect:
            fields = _fields(installation, settings)
    items = service.checklist(installation, counts, streams, tagging=tagging, webhook=webhook,
                              fields=fields)
    return {"items": [{"key": i.key, "done": i.done, "detail": i.detail} for i in items],
            "done": all(i.done for i in items)}


def _fields(installation: Installation, settings: Settings) -> service.FieldsState | None:
    """When the settings write values into the customer's records (`tag_user`): whether the
    account has the user and organization fields for them, as Zendesk says (asked at most
    every few seconds however often the page polls)."""
    wanted = record_fields(settings)
    if not (settings.tagging_enabled and settings.tag_user and wanted):
        return None
    keys = tuple(wanted)
    try:
        missing = services().cached(
            ("setup_fields", installation.base_url, keys),
            lambda: missing_fields(services().client(installation.zendesk), wanted))
    except IntegrationError:
        return service.FieldsState(keys, unknown=True)
    return service.FieldsState(keys, tuple(missing))


# --- a refused OAuth token: the client refreshed it once; what is left is a reconnect ----

def _auth_failed(error: AuthFailed):
    try:
        session = session_from_request()
    except HTTPException:  # no session (a job, a command): the generic answer below
        session = None
    installation = services().registry.get(session.account) if session else None
    if installation is not None and installation.needs_reconnect:
        return error_body(401, "reconnect", "Zendesk no longer accepts the app's access. "
                                            "An admin needs to reconnect it on the app's page.")
    return error_body(502, "credentials_rejected", str(error))
