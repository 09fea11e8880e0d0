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
from plugin.core.domain import (
    RATING_CATEGORIES,
    SURVEY_SCALES,
    Organization,
    Profile,
    Satisfaction,
    Ticket,
)

DEFAULT_SPEND_FIELD = "lifetime_spend"
NOT_RATED = frozenset({"offered", "unoffered"})
RATING_SCORES = {"good": 1, "bad": 0, "good_with_comment": 1, "good_without_comment": 1,
                 "bad_with_comment": 0, "bad_without_comment": 0}
PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
DELETED = "deleted"
"""The status the incremental ticket export gives a deleted ticket."""
TICKET_ZRN = "zen:ticket:"
"""How a survey response names its ticket in `subject_zrns`."""


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
    """A CSAT survey response as (rated ticket id, rating), on the question's own scale.

    The shapes follow Zendesk's "CSAT Survey Responses" reference (developer.zendesk.com,
    api-reference/ticketing/ticket-management/csat_survey_responses): the ticket is named in
    `subjects` (`{"type": "ticket", "id": "99"}`) or only in `subject_zrns` (`zen:ticket:99`);
    the rating answer (`type: rating_scale`) carries `rating` and `rating_category` (good,
    neutral or bad), and its question (`rating_scale_emoji`, `_numeric` or `_custom_text`)
    lists the scale's `options`, one per point (2, 3 or 5). A 2-point answer is read as the
    classic good/bad rating, which it is.
    """
    answers = [a for a in r.get("answers") or [] if isinstance(a, dict)]
    answer = next((a for a in answers if a.get("type") == "rating_scale"), None)
    if answer is None:
        return _survey_ticket(r), None
    rating = answer.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int | float) or rating != int(rating):
        raise Invalid(f"answers: rating must be a whole number, not {rating!r}")
    points = _scale_points(answer.get("question"), int(rating))
    category = answer.get("rating_category")
    if category is not None and category not in RATING_CATEGORIES:
        raise Invalid(f"answers: rating_category must be good, neutral or bad, not {category!r}")
    position = points.index(int(rating))
    scale = len(points)
    score = position if scale == 2 else position + 1
    comment = next((str(a.get("value") or "") for a in answers
                    if a.get("type") == "open_ended"), "")
    return _survey_ticket(r), Satisfaction(
        scale=scale, score=score, comment=comment.strip(), rated_at=_time(answer, "created_at"),
        category=category or "")


def _scale_points(question: Any, rating: int) -> list[int]:
    """The ratings a survey question offers, lowest first: its options' `rating`s, or 1..5
    where the question lists none (the scale Zendesk's CSAT starts with)."""
    options = question.get("options") if isinstance(question, dict) else None
    points = sorted({o.get("rating") for o in options or [] if isinstance(o, dict)
                     and isinstance(o.get("rating"), int) and not isinstance(o.get("rating"),
                                                                             bool)})
    if not points:
        points = list(range(1, 6))
    if len(points) not in SURVEY_SCALES:
        raise Invalid(f"answers: a rating scale of {len(points)} points (Zendesk offers 2, 3 "
                      "or 5)")
    if rating not in points:
        raise Invalid(f"answers: rating {rating} is not one of the question's options "
                      f"{points}")
    return points


def _survey_ticket(r: dict) -> int | None:
    """The rated ticket: a `subjects` entry of type ticket, else a `zen:ticket:N` name."""
    for subject in r.get("subjects") or []:
        if isinstance(subject, dict) and subject.get("type") == "ticket":
            return _int_like(subject.get("id"))
    for zrn in r.get("subject_zrns") or []:
        if isinstance(zrn, str) and zrn.startswith(TICKET_ZRN):
            return _int_like(zrn.removeprefix(TICKET_ZRN))
    return None


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
