"""The settings page (Zendesk's nav_bar location) and its API: admins only.

Zendesk loads the page with a signed POST; the app then asks Zendesk for the user's role (never
trusting what a browser says) and gives admins a session token with the admin role. Agents get
a clear 403 page. Every API call carries that token as a Bearer header, so there is no ambient
cookie for a cross-site request to ride on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)

from integrations.automation import provision, provision_fields, unprovision
from integrations.errors import IntegrationError
from plugin.core.backtest import as_dict, lift_svg
from plugin.core.domain import CustomerHistory
from plugin.core.preview import TIERS, histogram_svg, preview
from plugin.core.settings import (
    BENEFIT_SIGNALS,
    COST_SIGNALS,
    DEFAULT_SUGGESTIONS,
    PLACEHOLDERS,
    Settings,
    SettingsError,
    label,
)
from plugin.core.tagging import record_fields
from plugin.core.times import zulu
from plugin.service_layer.account_sync import sync_status
from plugin.service_layer.backtest import run_backtest, suggest
from plugin.storage.secrets import SECRETS, WEBHOOK_SECRET, AccountSecrets
from plugin.storage.versions import VersionConflict, diff
from plugin.web.i18n import catalog, pick_locale
from plugin.web.overview import AGENT, LEAD, actor_name
from plugin.web.overview import page as overview_page
from plugin.web.pages import signed_only
from plugin.web.session import (
    DEMO_ACCOUNT,
    DEMO_USER_ID,
    account,
    new_session,
    services,
    session_from_form,
    verified_load,
)
from plugin.web.setup import intercept

bp = Blueprint("admin", __name__)

ADMIN = "admin"
PREVIEW_SAMPLE = 300
BACKTEST_HORIZON = timedelta(days=90)
"""The settings page's backtest: customers of the norms' sample (up to 2,000) scored 90 days
ago, against the 90 days since."""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.post("/settings")
def signed_load():
    """Zendesk's nav_bar load: admins get the settings, team leads and agents the overview
    (leads to manage, agents to read); the tab bar comes back here with the app's session."""
    if "app_session" in request.form:
        session = session_from_form()
        if session.role != ADMIN:
            return render_template("admin/forbidden.html", locale="en"), 403
        return _page(request.form["app_session"])
    setup = intercept("settings")
    if setup is not None:
        return setup
    claims = verified_load()
    installation = services().registry.get(claims.account)
    if installation is None:
        abort(403, "this app is not installed for this Zendesk account")
    try:
        role, _ = services().client(installation.zendesk).staff(claims.user_id)
    except IntegrationError:
        abort(503, "Zendesk could not confirm your role; try again in a moment")
    if role == ADMIN:
        return _page(new_session(claims.account, claims.user_id, ADMIN))
    if role in (LEAD, AGENT):
        return overview_page(new_session(claims.account, claims.user_id, role), role)
    return render_template("admin/forbidden.html", locale="en"), 403


@bp.get("/settings")
def demo_load():
    if not current_app.config["DEMO_MODE"]:
        return signed_only("settings page", "the app from Zendesk's navigation bar")
    return _page(new_session(DEMO_ACCOUNT, DEMO_USER_ID, ADMIN))


def _page(session_token: str):
    locale = pick_locale(request.args.get("locale") or "en")
    return render_template(
        "admin/settings.html", session_token=session_token, locale=locale,
        strings=catalog(locale), benefits=BENEFIT_SIGNALS, costs=COST_SIGNALS,
        signals={**BENEFIT_SIGNALS, **COST_SIGNALS},
        suggestions=DEFAULT_SUGGESTIONS, placeholders=sorted(PLACEHOLDERS), secrets=SECRETS)


def _admin():
    store, session, _ = _admin_account()
    return store, session


def _admin_account():
    """The admin's store, session and Zendesk account, or a 403 for anyone else."""
    config, session = account()
    if session.role != ADMIN:
        abort(403, "only Zendesk admins can change Customer Value settings")
    return services().store(config.base_url), session, config


@bp.get("/api/settings")
def current_settings():
    store, _, config = _admin_account()
    settings = services().settings_for(store)
    versions = services().versions(store).history()
    names: dict[int, str] = {}
    for v in versions:
        if not v.author_name and v.author_id not in names:
            names[v.author_id] = actor_name(config, v.author_id)
    return jsonify({"settings": settings.to_dict(), "version": settings.version,
                    "secrets": _secrets(store).which_are_set(),
                    "sync": _sync(config.base_url),
                    "versions": [{"version": v.version, "author_id": v.author_id,
                                  "author": v.author_name or names[v.author_id],
                                  "current": v.version == settings.version,
                                  "note": v.note, "created_at": zulu(v.created_at)}
                                 for v in versions],
                    "health": [{"key": p.key, "title": p.title, "detail": p.detail,
                                "fix": p.fix} for p in services().health(config)]})


@bp.post("/api/settings/preview")
def preview_settings():
    store, _ = _admin()
    draft = _draft(store)
    current = services().settings_for(store)
    sample = _sample(store, draft if draft.spend_source != "fields" else current)
    now = services().clock()
    result = preview(sample, current, draft, now, services().norms(store, current, now))
    return jsonify({
        "customers": result.customers, "changed_tier": result.changed_tier,
        "tiers": list(TIERS),
        "moves": [{"from": a, "to": b, "customers": n} for (a, b), n in result.moves.items()],
        "examples": [{"user_id": m.user_id, "name": m.name, "before": m.before,
                      "after": m.after, "tier_before": m.tier_before,
                      "tier_after": m.tier_after} for m in result.examples],
        "histogram_svg": histogram_svg(
            result.histogram_current, result.histogram_draft,
            lines=(draft.tiers.high, draft.tiers.low) if draft.tiers.mode == "absolute"
            else None),
    })


@bp.post("/api/settings/backtest")
def backtest_settings():
    """Does the value predict? The current and the draft settings backtested on the account's
    sample: scored 90 days ago from only what was known then, against the 90 days since."""
    store, _ = _admin()
    draft = _draft(store)
    current = services().settings_for(store)
    sample = store.sample(draft if draft.spend_source != "fields" else current)
    at = services().clock() - BACKTEST_HORIZON
    now = run_backtest(lambda: iter(sample), current, at, BACKTEST_HORIZON)
    then = run_backtest(lambda: iter(sample), draft, at, BACKTEST_HORIZON)
    return jsonify({"at": zulu(at), "horizon_days": BACKTEST_HORIZON.days,
                    "current": as_dict(now)["overall"], "draft": as_dict(then)["overall"],
                    "lift_svg": lift_svg(now.overall.deciles, then.overall.deciles)})


@bp.post("/api/settings/suggest-weights")
def suggest_weights():
    """Weights fitted on the 90 days before the last 90 and checked on the last 90, from the
    current settings; the page puts them in the draft only when proposed (never saved)."""
    store, _ = _admin()
    current = services().settings_for(store)
    sample = store.sample(current)
    at = services().clock() - BACKTEST_HORIZON
    return jsonify(suggest(lambda: iter(sample), current, at, BACKTEST_HORIZON).as_dict())


@bp.put("/api/settings")
def save_settings():
    store, session, config = _admin_account()
    body = _body()
    before = services().settings_for(store)
    data = _settings_data(body, before)
    try:
        Settings.from_dict({**data, "version": 1})
    except SettingsError as error:
        return _invalid(error)
    wanted = bool(data["tagging_enabled"])
    if wanted != before.tagging_enabled:
        _switch_tagging(store, wanted)
    if wanted and data.get("tag_user") and (
            not (before.tagging_enabled and before.tag_user)
            or (data.get("value_user_field"), data.get("tier_user_field"))
            != (before.value_user_field, before.tier_user_field)):
        _create_fields(Settings.from_dict({**data, "version": 1}))
    try:
        saved = services().versions(store).save(
            data, author_id=session.user_id, now=services().clock(),
            note=_note(body), base_version=body.get("base_version"),
            author_name=actor_name(config, session.user_id))
    except SettingsError as error:
        return _invalid(error)
    except VersionConflict as error:
        abort(409, str(error))
    services().settings_saved(store)
    return jsonify({"version": saved.version, "settings": saved.settings.to_dict()})


@bp.put("/api/settings/secrets")
def save_secrets():
    """Set or clear CRM credentials. The answer says which are set, never what they are. The
    account's CRM answers, failures, outages and computed values are forgotten, and clients
    built for the old credentials closed: the next lookup uses the new ones."""
    store, _, config = _admin_account()
    secrets = _secrets(store)
    body = _body()
    old = [secrets.get(name) or "" for name in SECRETS if name in body]
    try:
        secrets.update(body, services().clock(),
                       allow_private_hosts=services().crm.allow_private_hosts)
    except SettingsError as error:
        return _invalid(error)
    services().crm.forget(store.account, old)
    services().cache.forget(config.base_url)  # values computed with the old credentials
    return jsonify({"secrets": secrets.which_are_set()})


def _switch_tagging(store, enabled: bool) -> None:
    """Create (or remove) the webhook and trigger in Zendesk before the switch is saved, so a
    failure leaves both the settings and Zendesk as they were."""
    config, _ = account()
    client = services().client(config)
    try:
        if enabled:
            done = provision(client, url_for("hooks.zendesk_webhook", _external=True))
            _secrets(store).update({WEBHOOK_SECRET: done.signing_secret}, services().clock(),
                                   internal=True)
        else:
            unprovision(client)
    except IntegrationError as error:
        abort(502, f"Zendesk did not accept the webhook and trigger: {error}")


def _sync(base_url: str) -> dict[str, Any]:
    """The account's periodic sync as the page shows it (times in Zendesk's Z form)."""
    status = sync_status(services(), base_url, services().clock())
    return {**status, **{key: zulu(status[key]) if status[key] else None
                         for key in ("last_run", "last_success")}}


def _create_fields(settings: Settings) -> None:
    """Create the user and organization fields the app writes the value and tier into, where
    missing, before the settings that write them are saved."""
    config, _ = account()
    try:
        provision_fields(services().client(config), record_fields(settings))
    except IntegrationError as error:
        abort(502, f"Zendesk did not accept the customer value fields: {error}")


def _secrets(store) -> AccountSecrets:
    return AccountSecrets(services().engine, store.account, services().registry.vault)


@bp.get("/api/settings/diff/<int:before>/<int:after>")
def version_diff(before: int, after: int):
    store, _ = _admin()
    versions = services().versions(store)
    old, new = versions.settings_of(before), versions.settings_of(after)
    if old is None or new is None:
        abort(404, "no such version")
    return jsonify({"changes": [{"setting": path, "label": label(path), "before": a,
                                 "after": b} for path, a, b in diff(old, new)]})


@bp.post("/api/settings/versions/<int:version>/rollback")
def rollback(version: int):
    store, session, config = _admin_account()
    try:
        saved = services().versions(store).rollback(
            version, author_id=session.user_id, now=services().clock(),
            author_name=actor_name(config, session.user_id))
    except KeyError:
        abort(404, "no such version")
    services().settings_saved(store)
    return jsonify({"version": saved.version, "settings": saved.settings.to_dict()})


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send a JSON object")
    return body


def _settings_data(body: dict[str, Any], saved: Settings) -> dict[str, Any]:
    """The request's settings over the `saved` ones (without the version): what a request
    leaves out keeps its saved value, so a page that does not show a setting never resets it."""
    data = body.get("settings")
    if not isinstance(data, dict):
        abort(400, 'send the settings as an object under "settings"')
    return {key: value for key, value in {**saved.to_dict(), **data}.items()
            if key != "version"}


def _draft(store) -> Settings:
    current = services().settings_for(store)
    data = _settings_data(_body(), current)
    try:
        return Settings.from_dict({**data, "version": current.version})
    except SettingsError as error:
        abort(_invalid(error))


MAX_NOTE = 500
"""A saved version's note, in characters."""


def _note(body: dict[str, Any]) -> str:
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        abort(_invalid(SettingsError({"note": f"must be text of at most {MAX_NOTE} "
                                               "characters"})))
    return note


def _invalid(error: SettingsError):
    response = make_response(jsonify({"error": {
        "code": "invalid_settings", "message": str(error), "fields": error.errors}}), 422)
    return response


def _sample(store, settings: Settings) -> list[CustomerHistory]:
    """The customers with the most recent tickets: the ones agents will meet next, with the
    CRM deals the store synced when `settings` take spend from a CRM."""
    found = (store.history(user_id, settings)
             for user_id in store.recent_requesters(PREVIEW_SAMPLE))
    return [history for history in found if history is not None]
