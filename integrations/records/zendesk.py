"""Zendesk's JSON records read into domain values, each one checked.

The dataset reader, the history store's sync and the live refresh all read the same records
(Zendesk's User, Organization, Ticket, Ticket Metric, Satisfaction Rating and CSAT survey
response objects), so they share these functions. A bad value raises `Invalid` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from integrations.records.values import Invalid, amount, parse_time
from plugin.core.domain import Organization, Profile, Satisfaction, Ticket

DEFAULT_SPEND_FIELD = "lifetime_spend"
NOT_RATED = frozenset({"offered", "unoffered"})
RATING_SCORES = {"good": 1, "bad": 0, "good_with_comment": 1, "good_without_comment": 1,
                 "bad_with_comment": 0, "bad_without_comment": 0}
PRIORITIES = frozenset({"urgent", "high", "normal", "low"})


def parse_organization(r: dict, spend_field: str = DEFAULT_SPEND_FIELD) -> Organization:
    """An organization record."""
    return Organization(id=_id(r, "id"), name=_text(r, "name"), tags=_tags(r),
                        fields=parse_fields(r, "organization_fields", spend_field))

def parse_user(r: dict, orgs: Mapping[int, Organization],
               spend_field: str = DEFAULT_SPEND_FIELD) -> Profile:
    """A user record, linked to its organization when `orgs` has it."""
    org_id = _optional_id(r, "organization_id")
    return Profile(
        id=_id(r, "id"), name=_text(r, "name"), email=_text(r, "email") or None,
        created_at=_time(r, "created_at"), tags=_tags(r),
        organization=orgs.get(org_id) if org_id is not None else None,
        fields=parse_fields(r, "user_fields", spend_field),
    )

def parse_fields(r: dict, key: str, spend_field: str) -> Mapping[str, object]:
    """Custom fields, with the spend field checked as an amount."""
    values = r.get(key) or {}
    if not isinstance(values, dict):
        raise Invalid(f"{key}: expected an object")
    spend = values.get(spend_field)
    if spend is not None and spend != "":
        amount(spend, f"{key}.{spend_field}")
    return MappingProxyType(dict(values))

def parse_ticket(r: dict) -> tuple[int, Ticket]:
    """A ticket record as (requester id, ticket), with its embedded rating if any."""
    priority = r.get("priority") or "normal"
    if priority not in PRIORITIES:
        raise Invalid(f"priority: unknown value {priority!r} (expected urgent, high, "
                      "normal, low or null)")
    via = r.get("via") or {}
    channel = via.get("channel") if isinstance(via, dict) else None
    created_at = _time(r, "created_at")
    ticket = Ticket(
        id=_id(r, "id"), created_at=created_at, status=_text(r, "status") or "open",
        priority=priority, channel=str(channel or "unknown"), subject=_text(r, "subject"),
        tags=_tags(r),
    )
    embedded = r.get("satisfaction_rating")
    if embedded is not None:
        if not isinstance(embedded, dict):
            raise Invalid("satisfaction_rating: expected an object or null")
        when = _optional_time(r, "updated_at") or created_at
        rating = _binary_rating(embedded, when, "satisfaction_rating")
        if rating is not None:
            ticket = replace(ticket, satisfaction=rating)
    return _id(r, "requester_id"), ticket

def parse_metric(r: dict) -> tuple[int, dict[str, Any]]:
    """A ticket metric record as (ticket id, the Ticket fields it fills)."""
    return _id(r, "ticket_id"), {
        "solved_at": _optional_time(r, "solved_at"),
        "replies": _count(r, "replies"),
        "reopens": _count(r, "reopens") or 0,
        "first_reply_minutes": _minutes(r, "reply_time_in_minutes"),
        "resolution_minutes": _minutes(r, "full_resolution_time_in_minutes"),
    }

def parse_rating(r: dict) -> tuple[int, Satisfaction | None]:
    """A satisfaction rating record; None for offered or unoffered."""
    return _id(r, "ticket_id"), _binary_rating(r, _time(r, "created_at"), "")

def parse_survey(r: dict) -> tuple[int | None, Satisfaction | None]:
    """A CSAT survey response (1–5) as (rated ticket id, rating)."""
    ticket_ids = [s.get("id") for s in r.get("subjects") or []
                  if isinstance(s, dict) and s.get("type") == "ticket"]
    answers = [a for a in r.get("answers") or [] if isinstance(a, dict)]
    scale = next((a for a in answers if a.get("type") == "rating_scale"), None)
    if scale is None:
        return None, None
    score = scale.get("rating")
    if isinstance(score, bool) or not isinstance(score, int | float) or score != int(score) \
            or not 1 <= score <= 5:
        raise Invalid(f"answers: rating must be a whole number from 1 to 5, not {score!r}")
    comment = next((str(a.get("value") or "") for a in answers
                    if a.get("type") == "open_ended"), "")
    ticket_id = _int_like(ticket_ids[0]) if ticket_ids else None
    return ticket_id, Satisfaction(scale=5, score=int(score), comment=comment.strip(),
                                   rated_at=_time(scale, "created_at"))



def with_metrics(ticket: Ticket, metric: dict[str, Any] | None) -> Ticket:
    return replace(ticket, **metric) if metric else ticket


def _binary_rating(r: dict, when: datetime, prefix: str) -> Satisfaction | None:
    score = r.get("score")
    name = f"{prefix}.score" if prefix else "score"
    if score is None or score in NOT_RATED:
        return None
    if score not in RATING_SCORES:
        raise Invalid(f"{name}: unknown rating {score!r} (expected good, bad, offered or "
                      "unoffered)")
    comment = r.get("comment") or ""
    if not isinstance(comment, str):
        raise Invalid(f"{prefix + '.' if prefix else ''}comment: expected text")
    return Satisfaction(scale=2, score=RATING_SCORES[score], comment=comment.strip(),
                        rated_at=when)


def _id(r: dict, key: str) -> int:
    value = r.get(key)
    if value is None:
        raise Invalid(f"{key}: missing")
    number = _int_like(value)
    if number is None or number <= 0:
        raise Invalid(f"{key}: expected a positive whole number, not {value!r}")
    return number


def _optional_id(r: dict, key: str) -> int | None:
    return None if r.get(key) is None else _id(r, key)


def _int_like(value: Any) -> int | None:
    """Zendesk ids are numbers, but placeholders and subjects carry them as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(r: dict, key: str) -> str:
    value = r.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{key}: expected text, not {value!r}")
    return value


def _tags(r: dict) -> tuple[str, ...]:
    tags = r.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Invalid("tags: expected a list of text")
    return tuple(tags)


def _time(r: dict, key: str) -> datetime:
    value = r.get(key)
    if value is None:
        raise Invalid(f"{key}: missing (a timestamp is required)")
    return parse_time(value, key)


def _optional_time(r: dict, key: str) -> datetime | None:
    value = r.get(key)
    return None if value is None else parse_time(value, key)


def _count(r: dict, key: str) -> int | None:
    value = r.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"{key}: expected a whole number of at least 0, not {value!r}")
    return value


def _minutes(r: dict, key: str) -> float | None:
    value = r.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{key}: expected an object with calendar and business minutes")
    calendar = value.get("calendar")
    if calendar is None:
        return None
    if isinstance(calendar, bool) or not isinstance(calendar, int | float) \
            or not math.isfinite(calendar) or calendar < 0:
        raise Invalid(f"{key}.calendar: expected minutes (a number of at least 0), "
                      f"not {calendar!r}")
    return float(calendar)
