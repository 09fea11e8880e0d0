"""The demo: an index of sample tickets, each opened beside the sidebar inside a harness page
that plays Zendesk's part (it hosts the sidebar in an iframe and shows what the sidebar asked
Zendesk to do). Only served in demo mode."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, render_template, request

from plugin.web.ids import optional_id

bp = Blueprint("demo", __name__)

DEMO_TICKETS = 12


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
    return render_template("demo/ticket.html", ticket_id=ticket_id, requester_id=requester,
                           locale=request.args.get("locale", "en"))


@bp.get("/demo/new-account")
def new_account():
    """Zendesk's part for an account that just installed the app: its signed loads of the
    app's page (as its admin) and of a ticket sidebar (as an agent)."""
    signer = current_app.extensions.get("demo_signer")
    if not current_app.config["DEMO_MODE"] or signer is None:
        abort(404)
    return render_template("demo/new_account.html", admin_token=signer.token(),
                           agent_token=signer.token(user_id=1))
