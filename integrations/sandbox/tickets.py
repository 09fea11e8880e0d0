"""Tickets, their metrics and tags, bulk updates and job statuses (Zendesk's Tickets, Ticket
Metrics, Tags and Job Statuses APIs).

Reads honour archiving: lists and metrics leave archived tickets out, show and show_many keep
them. Every write goes through `Store.edit_ticket`, which dates it and moves the ticket to the
end of the incremental export.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any

from flask import Blueprint, Response, request

from integrations.sandbox import editing, listings
from integrations.sandbox.context import (
    api_base,
    id_list,
    paged,
    raw_reply,
    reply,
    request_body,
    services,
)
from integrations.sandbox.errors import ApiError, not_found, record_invalid
from integrations.sandbox.paging import render
from integrations.sandbox.people import ADMIN_ID

Record = dict[str, Any]
SHOW_MANY_MAX = 100
UPDATE_MANY_MAX = 100

blueprint = Blueprint("tickets", __name__, url_prefix="/api/v2")


@blueprint.get("/tickets")
def list_tickets() -> Response:
    store = services().store
    return paged("tickets", listings.tickets(store.archive_cutoff(), request.args.get("sort")))


@blueprint.get("/users/<int:user_id>/tickets/requested")
def requested_tickets(user_id: int) -> Response:
    store = services().store
    if store.body("users", user_id) is None:
        raise not_found()
    return paged("tickets", listings.tickets(store.archive_cutoff(), request.args.get("sort"),
                                             requester_id=user_id))


@blueprint.get("/tickets/<int:ticket_id>")
def show_ticket(ticket_id: int) -> Response:
    return raw_reply(f'{{"ticket":{_ticket_text(ticket_id)}}}')


@blueprint.get("/tickets/show_many")
def show_many_tickets() -> Response:
    ids = id_list("ids", SHOW_MANY_MAX)
    return raw_reply(render({"tickets": services().store.bodies("tickets", ids)}))


@blueprint.get("/tickets/<int:ticket_id>/metrics")
def ticket_metric(ticket_id: int) -> Response:
    text = services().store.metric_of(ticket_id)
    if text is None:
        raise not_found()
    return raw_reply(f'{{"ticket_metric":{text}}}')


@blueprint.get("/ticket_metrics")
def list_ticket_metrics() -> Response:
    return paged("ticket_metrics", listings.ticket_metrics(services().store.archive_cutoff()))


@blueprint.post("/tickets")
def create_ticket() -> Response:
    changes = _ticket_changes(request_body())
    store, api = services().store, api_base()
    requester_id = changes.get("requester_id")
    requester = store.body("users", requester_id) if isinstance(requester_id, int) else None

    def build(ticket_id: int, metric_id: int, stamp: int) -> tuple[Record, Record]:
        ticket = editing.new_ticket(changes, ticket_id, stamp, api,
                                    json.loads(requester) if requester else None, ADMIN_ID)
        return ticket, editing.new_metric(ticket, metric_id, api)

    ticket = store.create_ticket(build)
    return reply({"ticket": ticket}, 201,
                 {"Location": f"{api}/tickets/{ticket['id']}.json"})


@blueprint.put("/tickets/<int:ticket_id>")
def update_ticket(ticket_id: int) -> Response:
    changes = _ticket_changes(request_body())
    comment = _comment(changes.get("comment"))
    ticket = _edit(ticket_id, lambda record: editing.updated(record, changes))
    if comment is not None:
        kept = services().comments.setdefault(ticket_id, [])
        kept.append({**comment, "id": ticket_id * 1000 + len(kept) + 1,
                     "created_at": ticket["updated_at"]})
    return reply({"ticket": ticket})


@blueprint.delete("/tickets/<int:ticket_id>")
def delete_ticket(ticket_id: int) -> Response:
    """Zendesk's "Delete Ticket": 204; the ticket leaves the lists and show, and the
    incremental export reports it once more with `status: "deleted"`."""
    _ticket_text(ticket_id)
    _edit(ticket_id, lambda record: {**record, "status": "deleted"})
    return Response(status=204)


@blueprint.get("/tickets/<int:ticket_id>/comments")
def list_comments(ticket_id: int) -> Response:
    """The comments added through the API (the dataset's own conversations are not kept)."""
    _ticket_text(ticket_id)
    found = services().comments.get(ticket_id, [])
    return reply({"comments": found, "next_page": None, "previous_page": None,
                  "count": len(found)})


def _comment(value: Any) -> Record | None:
    """A CommentObject from an update's `comment` (public unless `public` is false); 422
    without a body."""
    if value is None:
        return None
    if not isinstance(value, dict) or not (value.get("body") or value.get("html_body")):
        raise record_invalid("comment", "Comment: cannot be blank", "BlankValue")
    public = value.get("public", True)
    if not isinstance(public, bool):
        raise record_invalid("comment", "public must be true or false")
    body = str(value.get("body") or value.get("html_body"))
    return {"type": "Comment", "author_id": value.get("author_id") or ADMIN_ID, "body": body,
            "html_body": f"<p>{escape(body)}</p>", "plain_body": body, "public": public,
            "attachments": [], "audit_id": None, "via": {"channel": "api", "source": {}},
            "metadata": {}}


@blueprint.put("/tickets/update_many")
def update_many() -> Response:
    tasks = editing.bulk_tasks(id_list("ids", UPDATE_MANY_MAX), request_body(), UPDATE_MANY_MAX)
    board = services().jobs
    job = board.submit(tasks, services().traffic.config.job_seconds)
    return reply({"job_status": board.view(job, _job_url(job.id))})


@blueprint.get("/job_statuses/<job_status_id>")
def show_job(job_status_id: str) -> Response:
    board = services().jobs
    job = board.get(job_status_id)
    if job is None:
        raise not_found()
    return reply({"job_status": board.view(job, _job_url(job.id))})


@blueprint.get("/job_statuses")
def list_jobs() -> Response:
    board = services().jobs
    return reply({"job_statuses": [board.view(job, _job_url(job.id)) for job in board.all()]})


@blueprint.get("/tickets/<int:ticket_id>/tags")
def list_tags(ticket_id: int) -> Response:
    return reply({"tags": json.loads(_ticket_text(ticket_id)).get("tags") or []})


@blueprint.post("/tickets/<int:ticket_id>/tags")
def set_tags(ticket_id: int) -> Response:
    return _tag(ticket_id, 201, lambda record, tags: editing.with_tags(record, replace=tags))


@blueprint.put("/tickets/<int:ticket_id>/tags")
def add_tags(ticket_id: int) -> Response:
    return _tag(ticket_id, 200, lambda record, tags: editing.with_tags(record, add=tags))


@blueprint.delete("/tickets/<int:ticket_id>/tags")
def remove_tags(ticket_id: int) -> Response:
    return _tag(ticket_id, 204, lambda record, tags: editing.with_tags(record, remove=tags))


def run_due_jobs() -> None:
    """Carries out the bulk update jobs whose time has come (see `jobs`)."""
    board, store = services().jobs, services().store
    for job in board.due():
        results = [_job_task(ticket_id, changes) for ticket_id, changes in job.tasks]
        finished = datetime.fromtimestamp(store.clock.now(), UTC)
        board.finish(job, results, finished.strftime("%Y-%m-%d %H:%M:%S +0000"))


def _job_task(ticket_id: int, changes: Record) -> Record:
    try:
        _edit(ticket_id, lambda record: editing.updated(record, changes))
    except ApiError as error:
        return editing.job_result(ticket_id, error)
    return editing.job_result(ticket_id, None)


def _ticket_text(ticket_id: int) -> str:
    text = services().store.body("tickets", ticket_id)
    if text is None or json.loads(text).get("status") == "deleted":
        raise not_found()
    return text


def _ticket_changes(body: Record) -> Record:
    changes = body.get("ticket")
    if not isinstance(changes, dict):
        raise record_invalid("ticket", 'expected {"ticket": {...}}')
    return changes


def _edit(ticket_id: int, edit: Callable[[Record], Record]) -> Record:
    ticket = services().store.edit_ticket(ticket_id, edit)
    if ticket is None:
        raise not_found()
    return ticket


def _tag(ticket_id: int, status: int, change: Callable[[Record, list[str]], Record]) -> Response:
    """POST (set), PUT (add) and DELETE (remove) of /tickets/{id}/tags, safe updates included."""
    body = request_body()
    tags = editing.tag_list(body.get("tags"))

    def edit(record: Record) -> Record:
        editing.check_safe_update(record, body)
        editing.check_open(record)
        return change(record, tags)

    ticket = _edit(ticket_id, edit)
    return Response(status=204) if status == 204 else reply({"tags": ticket["tags"]}, status)


def _job_url(job_id: str) -> str:
    return f"{api_base()}/job_statuses/{job_id}.json"
