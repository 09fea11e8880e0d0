"""Ticket writes as Zendesk applies them: pure functions from a ticket and a request to a ticket.

They refuse what Zendesk refuses: an update of a closed ticket (422), a value outside a field's
choices (422), and a safe update whose `updated_stamp` is not the ticket's `updated_at` (409).
The store dates the result; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from integrations.sandbox.clock import iso, parse_iso
from integrations.sandbox.errors import ApiError, bad_request, classic, record_invalid

Record = dict[str, Any]
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
TYPES = ("problem", "incident", "question", "task")
CHOICES = {"status": STATUSES, "priority": (*PRIORITIES, None), "type": (*TYPES, None)}
PLAIN_FIELDS = ("subject", "external_id", "due_at", "custom_fields", "collaborator_ids",
                "sharing_agreement_ids", "problem_id")
ID_FIELDS = ("requester_id", "submitter_id", "assignee_id", "group_id", "organization_id",
             "brand_id", "ticket_form_id")
TRUE_TEXTS = ("true", "1")
CONFLICT = ("Safe Update prevented the update due to outdated ticket data. "
            "Please fetch the latest ticket data and try again.")
CLOSED = "Status: closed prevents ticket update"
NO_TIMES = {"calendar": None, "business": None}


def tag_list(value: Any, field: str = "tags") -> list[str]:
    """Tags from a request, as Zendesk stores them: whitespace splits a tag in two."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise record_invalid(field, f"{field} must be a list of strings")
    return list(dict.fromkeys(part for tag in value for part in tag.split()))


def check_safe_update(ticket: Record, request: Record) -> None:
    """Raises 409 UpdateConflict when a safe update's stamp is not the ticket's updated_at."""
    if str(request.get("safe_update", "")).lower() not in TRUE_TEXTS:
        return
    stamp = request.get("updated_stamp")
    if not isinstance(stamp, str):
        raise bad_request("updated_stamp is required when safe_update is true")
    try:
        matches = parse_iso(stamp) == parse_iso(ticket["updated_at"])
    except ValueError:
        raise bad_request(f"updated_stamp {stamp!r} is not an ISO 8601 time") from None
    if not matches:
        raise ApiError(409, {"error": "UpdateConflict", "description": CONFLICT})


def check_open(ticket: Record) -> None:
    """Raises 422 for a closed ticket: Zendesk keeps closed tickets as they are."""
    if ticket.get("status") == "closed":
        raise record_invalid("status", CLOSED)


def with_tags(ticket: Record, add: Iterable[str] = (), remove: Iterable[str] = (),
              replace: list[str] | None = None) -> Record:
    """The ticket with its tags replaced, added to and removed from (in that order)."""
    tags = list(ticket.get("tags") or []) if replace is None else list(replace)
    removed = set(remove)
    tags = [tag for tag in dict.fromkeys([*tags, *add]) if tag not in removed]
    return {**ticket, "tags": tags}


def updated(ticket: Record, changes: Record) -> Record:
    """The ticket after a `{"ticket": changes}` update (PUT /tickets/{id} or update_many)."""
    check_safe_update(ticket, changes)
    check_open(ticket)
    result = dict(ticket)
    for field, choices in CHOICES.items():
        if field in changes:
            if changes[field] not in choices:
                raise record_invalid(field, f"{field}: {changes[field]!r} is not valid")
            result[field] = changes[field]
    for field in ID_FIELDS:
        if field in changes:
            if changes[field] is not None and not isinstance(changes[field], int):
                raise record_invalid(field, f"{field} must be an id")
            result[field] = changes[field]
    result.update({field: changes[field] for field in PLAIN_FIELDS if field in changes})
    if "subject" in changes:
        result["raw_subject"] = changes["subject"]
    return with_tags(
        result,
        add=tag_list(changes.get("additional_tags", []), "additional_tags"),
        remove=tag_list(changes.get("remove_tags", []), "remove_tags"),
        replace=tag_list(changes["tags"]) if "tags" in changes else None)


def new_ticket(request: Record, ticket_id: int, stamp: int, api: str,
               requester: Record | None, default_requester: int) -> Record:
    """A TicketObject for POST /tickets; 422 without a description (`comment.body`)."""
    comment = request.get("comment") if isinstance(request.get("comment"), dict) else {}
    description = comment.get("body") or comment.get("html_body") or request.get("description")
    if not description:
        raise record_invalid("description", "Description: cannot be blank", "BlankValue")
    requester_id = request.get("requester_id") or default_requester
    subject = request.get("subject") or str(description)[:60]
    status = request.get("status") or ("open" if request.get("assignee_id") else "new")
    base = {
        "url": f"{api}/tickets/{ticket_id}.json", "id": ticket_id, "external_id": None,
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(stamp), "updated_at": iso(stamp), "generated_timestamp": stamp,
        "type": None, "subject": subject, "raw_subject": subject, "description": description,
        "priority": None, "status": "new", "recipient": None, "requester_id": requester_id,
        "submitter_id": requester_id, "assignee_id": None,
        "organization_id": (requester or {}).get("organization_id"), "group_id": None,
        "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None,
        "problem_id": None, "has_incidents": False, "is_public": comment.get("public", True),
        "due_at": None, "tags": [], "custom_fields": [],
        "satisfaction_rating": {"score": "unoffered", "id": None, "comment": None},
        "sharing_agreement_ids": [], "followup_ids": [], "ticket_form_id": None,
        "brand_id": None, "allow_channelback": False, "allow_attachments": True,
        "from_messaging_channel": False,
    }
    fields = {key: value for key, value in request.items()
              if key not in ("comment", "description", "safe_update", "updated_stamp")}
    return updated(base, {**fields, "status": status})


def new_metric(ticket: Record, metric_id: int, api: str) -> Record:
    """The TicketMetricObject Zendesk starts for a new ticket."""
    created = ticket["created_at"]
    return {
        "url": f"{api}/ticket_metrics/{metric_id}.json", "id": metric_id,
        "ticket_id": ticket["id"], "created_at": created, "updated_at": created,
        "group_stations": 0, "assignee_stations": 0, "reopens": 0, "replies": 0,
        "assignee_updated_at": None, "requester_updated_at": created,
        "status_updated_at": created, "initially_assigned_at": None, "assigned_at": None,
        "solved_at": None, "latest_comment_added_at": created,
        "custom_status_updated_at": created, "reply_time_in_minutes": NO_TIMES,
        "reply_time_in_seconds": {"calendar": None},
        "first_resolution_time_in_minutes": NO_TIMES,
        "full_resolution_time_in_minutes": NO_TIMES,
        "agent_wait_time_in_minutes": NO_TIMES, "requester_wait_time_in_minutes": NO_TIMES,
        "on_hold_time_in_minutes": NO_TIMES,
    }


def bulk_tasks(ids: list[int], body: Record, limit: int) -> list[tuple[int, Record]]:
    """(ticket id, changes) of an update_many: one change for `?ids=`, or `{"tickets": [...]}`."""
    if ids:
        changes = body.get("ticket")
        if not isinstance(changes, dict):
            raise bad_request('expected {"ticket": {...}} with ?ids=')
        tasks = [(ticket_id, changes) for ticket_id in ids]
    else:
        items = body.get("tickets")
        if not isinstance(items, list) or not all(
                isinstance(item, dict) and isinstance(item.get("id"), int) for item in items):
            raise bad_request('expected ?ids= or {"tickets": [{"id": ..., ...}]}')
        tasks = [(item["id"], item) for item in items]
    if not tasks or len(tasks) > limit:
        raise classic(400, "InvalidValue", f"update_many takes 1 to {limit} tickets, "
                      f"not {len(tasks)}")
    return tasks


def job_result(ticket_id: int, error: ApiError | None) -> Record:
    """One result of a bulk update job: UpdateResourceResult or FailedResult."""
    if error is None:
        return {"id": ticket_id, "action": "update", "success": True, "status": "Updated"}
    details = error.body.get("details")
    text = next(iter(details.values()))[0]["description"] if details else \
        error.body.get("description", "")
    code = {404: "TicketNotFound", 409: "UpdateConflict"}.get(error.status, "TicketUpdateFailed")
    return {"id": ticket_id, "action": "update", "success": False, "error": code,
            "details": text}
