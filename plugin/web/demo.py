"""The demo: an index of sample tickets, each opened beside the sidebar inside a harness page
that plays Zendesk's part (it hosts the sidebar in an iframe and shows what the sidebar asked
Zendesk to do). Only served in demo mode."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)

from plugin.web.ids import optional_id

bp = Blueprint("demo", __name__)

DEMO_TICKETS = 12
DEMO_AGENT_ID = 1


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
def index():
    if not current_app.config["DEMO_MODE"]:
        return render_template("demo/about.html")
    store = current_app.extensions["customer_value"]
    config = store.zendesk
    if config is None:
        abort(503, "no Zendesk account is configured")
    tickets = store.store(config.base_url).recent_tickets(DEMO_TICKETS)
    return render_template("demo/index.html", tickets=tickets)


@bp.get("/demo/ticket/<zid:ticket_id>")
def ticket(ticket_id: int):
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    requester = optional_id(request.args.get("requester_id"), "requester_id")
    if requester is None:
        abort(400, "requester_id is required")
    locale = request.args.get("locale", "en")
    return _harness(f"Ticket #{ticket_id}", "ticket_sidebar", url_for("sidebar.demo_load"), {
        "ticket.id": ticket_id, "ticket.requester.id": requester,
        "ticket.requester.locale": request.args.get("reply_locale", locale)}, locale)


@bp.get("/demo/user/<zid:user_id>")
def user(user_id: int):
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    locale = request.args.get("locale", "en")
    return _harness(f"User #{user_id}", "user_sidebar",
                    url_for("sidebar.demo_people_load", page="user"),
                    {"user.id": user_id, "user.locale": locale}, locale)


@bp.get("/demo/organization/<zid:organization_id>")
def organization(organization_id: int):
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    locale = request.args.get("locale", "en")
    return _harness(f"Organization #{organization_id}", "organization_sidebar",
                    url_for("sidebar.demo_people_load", page="organization"),
                    {"organization.id": organization_id}, locale)


def _harness(title: str, location: str, app_url: str, data: dict, locale: str):
    """The host page: what Zendesk would answer the sidebar's ZAF calls with. `sign` (a path
    of this app) hands the host a signed-load token, so the sidebar is POSTed as Zendesk does;
    `app_reload=0` makes the host refuse the `app.reload` action as an unknown one (Zendesk
    documents no such action: see docs/architecture.md, "An expired session")."""
    sign = request.args.get("sign", "")
    host = {"location": location, "app_url": app_url, "locale": locale,
            "sign": sign if sign.startswith("/") and not sign.startswith("//") else "",
            "app_reload": request.args.get("app_reload") != "0",
            "data": {**data, "currentUser.id": DEMO_AGENT_ID, "currentUser.locale": locale}}
    return render_template("demo/ticket.html", title=title, location=location, host=host)


@bp.get("/demo/new-account")
def new_account():
    """Zendesk's part for an account that just installed the app: its signed loads of the
    app's page (as its admin) and of a ticket sidebar (as an agent); once it is connected and
    synced, its tickets, each opened beside the sidebar as Zendesk loads it (signed)."""
    signer = _signer()
    services = current_app.extensions["customer_value"]
    installation = services.registry.get(signer.account)
    connected = installation is not None and not installation.needs_reconnect
    tickets = services.store(installation.base_url).recent_tickets(DEMO_TICKETS) \
        if connected else []
    return render_template("demo/new_account.html", admin_token=signer.token(),
                           agent_token=signer.token(user_id=DEMO_AGENT_ID),
                           account=signer.account, tickets=tickets, connected=connected,
                           sign=url_for("demo.new_account_sign"))


@bp.get("/demo/new-account/sign")
def new_account_sign():
    """A fresh signed load of the new account's agent, for the harness to POST the sidebar
    with (as Zendesk signs each load)."""
    response = Response(_signer().token(user_id=DEMO_AGENT_ID), mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _signer():
    signer = current_app.extensions.get("demo_signer")
    if not current_app.config["DEMO_MODE"] or signer is None:
        abort(404)
    return signer
