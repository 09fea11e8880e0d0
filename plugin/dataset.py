"""Reads a dataset folder (Zendesk's list endpoints saved as JSON; see docs/dataset.md) into
domain histories.

Every record is checked as it is read. Problems are collected, not raised one at a time, so
one run names everything wrong with a folder; `skip_invalid=True` drops the bad records instead
and keeps their descriptions as warnings.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .domain import CustomerHistory, Organization, Profile, Satisfaction, Ticket

REQUIRED_FILES = ("users", "tickets")
OPTIONAL_FILES = ("organizations", "ticket_metrics", "satisfaction_ratings", "survey_responses")
NOT_RATED = frozenset({"offered", "unoffered"})
RATING_SCORES = {"good": 1, "bad": 0, "good_with_comment": 1, "good_without_comment": 1,
                 "bad_with_comment": 0, "bad_without_comment": 0}
PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
MAX_AMOUNT = 1e12
MAX_SHOWN = 20


class DatasetError(Exception):
    """A dataset folder that cannot be read; `problems` lists each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(f"  - {p}" for p in shown)
        if more:
            text += f"\n  ... and {more} more"
        super().__init__(f"the dataset has {len(problems)} problem(s):\n{text}")


class Invalid(ValueError):
    """One bad value in one record."""


@dataclass
class Dataset:
    profiles: dict[int, Profile]
    tickets: dict[int, list[Ticket]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def history(self, user_id: int) -> CustomerHistory:
        profile = self.profiles.get(user_id)
        if profile is None:
            raise KeyError(user_id)
        return CustomerHistory(profile=profile, tickets=tuple(self.tickets.get(user_id, ())))

    def histories(self) -> Iterator[CustomerHistory]:
        for user_id in self.profiles:
            yield self.history(user_id)


def load(folder: Path, *, spend_field: str = "lifetime_spend",
         skip_invalid: bool = False) -> Dataset:
    """Read a dataset folder; raise `DatasetError` naming every problem unless `skip_invalid`."""
    return _Loader(Path(folder), spend_field, skip_invalid).load()


class _Loader:
    def __init__(self, folder: Path, spend_field: str, skip_invalid: bool):
        self.folder = folder
        self.spend_field = spend_field
        self.skip_invalid = skip_invalid
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def load(self) -> Dataset:
        if not self.folder.is_dir():
            raise DatasetError([f"{self.folder}: not a folder"])
        raw = {name: self.read_file(name, required=True) for name in REQUIRED_FILES}
        raw |= {name: self.read_file(name, required=False) for name in OPTIONAL_FILES}
        if self.problems:
            raise DatasetError(self.problems)
        orgs = {o.id: o for o in self.records("organizations", raw, self.organization)}
        profiles = {p.id: p for p in self.records("users", raw, lambda r: self.user(r, orgs))}
        metrics = {tid: row for tid, row in self.records("ticket_metrics", raw, self.metric)}
        tickets: dict[int, Ticket] = {}
        owners: dict[int, int] = {}
        for requester, ticket in self.records("tickets", raw, self.ticket):
            if requester not in profiles:
                self.warn(f"tickets.json: ticket {ticket.id} has an unknown requester {requester}")
                continue
            tickets[ticket.id] = _with_metrics(ticket, metrics.get(ticket.id))
            owners[ticket.id] = requester
        for ticket_id, rating in self.records("satisfaction_ratings", raw, self.rating):
            self.attach(tickets, ticket_id, rating, "satisfaction_ratings.json")
        for ticket_id, rating in self.records("survey_responses", raw, self.survey):
            self.attach(tickets, ticket_id, rating, "survey_responses.json")
        if self.problems and not self.skip_invalid:
            raise DatasetError(self.problems)
        by_user: dict[int, list[Ticket]] = defaultdict(list)
        for ticket_id, ticket in tickets.items():
            by_user[owners[ticket_id]].append(ticket)
        return Dataset(profiles, dict(by_user), self.warnings + self.problems)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def read_file(self, name: str, required: bool) -> list[Any]:
        path = self.folder / f"{name}.json"
        if not path.exists():
            if required:
                self.problems.append(f"{path.name}: missing (a dataset needs "
                                     f"{' and '.join(n + '.json' for n in REQUIRED_FILES)})")
            return []
        try:
            with path.open("rb") as handle:
                data = json.load(handle)
        except json.JSONDecodeError as error:
            self.problems.append(f"{path.name}: not valid JSON (line {error.lineno} "
                                 f"column {error.colno}: {error.msg})")
            return []
        except (OSError, UnicodeDecodeError) as error:
            self.problems.append(f"{path.name}: cannot be read ({error})")
            return []
        if not isinstance(data, dict) or not isinstance(data.get(name), list):
            self.problems.append(f'{path.name}: expected an object with a "{name}" list')
            return []
        return data[name]

    def records(self, name: str, raw: Mapping[str, list[Any]], parse) -> Iterator[Any]:
        for index, record in enumerate(raw[name]):
            where = f"{name}.json: record {index + 1}"
            if isinstance(record, dict) and "id" in record:
                where += f" (id {record['id']})"
            if not isinstance(record, dict):
                self.problems.append(f"{where}: not an object")
                continue
            try:
                yield parse(record)
            except Invalid as error:
                self.problems.append(f"{where}: {error}")

    def organization(self, r: dict) -> Organization:
        return Organization(id=_id(r, "id"), name=_text(r, "name"), tags=_tags(r),
                            fields=self.fields(r, "organization_fields"))

    def user(self, r: dict, orgs: Mapping[int, Organization]) -> Profile:
        org_id = _optional_id(r, "organization_id")
        return Profile(
            id=_id(r, "id"), name=_text(r, "name"), email=_text(r, "email") or None,
            created_at=_time(r, "created_at"), tags=_tags(r),
            organization=orgs.get(org_id) if org_id is not None else None,
            fields=self.fields(r, "user_fields"),
        )

    def fields(self, r: dict, key: str) -> Mapping[str, object]:
        values = r.get(key) or {}
        if not isinstance(values, dict):
            raise Invalid(f"{key}: expected an object")
        spend = values.get(self.spend_field)
        if spend is not None and spend != "":
            _amount(spend, f"{key}.{self.spend_field}")
        return MappingProxyType(dict(values))

    def ticket(self, r: dict) -> tuple[int, Ticket]:
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

    def metric(self, r: dict) -> tuple[int, dict[str, Any]]:
        return _id(r, "ticket_id"), {
            "solved_at": _optional_time(r, "solved_at"),
            "replies": _count(r, "replies"),
            "reopens": _count(r, "reopens") or 0,
            "first_reply_minutes": _minutes(r, "reply_time_in_minutes"),
            "resolution_minutes": _minutes(r, "full_resolution_time_in_minutes"),
        }

    def rating(self, r: dict) -> tuple[int, Satisfaction | None]:
        return _id(r, "ticket_id"), _binary_rating(r, _time(r, "created_at"), "")

    def survey(self, r: dict) -> tuple[int | None, Satisfaction | None]:
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

    def attach(self, tickets: dict[int, Ticket], ticket_id: int | None,
               rating: Satisfaction | None, source: str) -> None:
        if rating is None:
            return
        ticket = tickets.get(ticket_id) if ticket_id is not None else None
        if ticket is None:
            self.warn(f"{source}: a rating of unknown ticket {ticket_id} was left out")
            return
        tickets[ticket.id] = replace(ticket, satisfaction=rating)


def _with_metrics(ticket: Ticket, metric: dict[str, Any] | None) -> Ticket:
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
    return _parse_time(value, key)


def _optional_time(r: dict, key: str) -> datetime | None:
    value = r.get(key)
    return None if value is None else _parse_time(value, key)


def _parse_time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise Invalid(f"{key}: expected an ISO 8601 timestamp, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{key}: not an ISO 8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise Invalid(f"{key}: timestamp {value!r} has no time zone (add Z for UTC)")
    return moment


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


def _amount(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise Invalid(f"{key}: expected an amount, not {value!r}")
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{key}: expected an amount, not {value!r}") from None
    if not math.isfinite(amount):
        raise Invalid(f"{key}: expected a finite amount, not {value!r}")
    if amount < 0:
        raise Invalid(f"{key}: negative amount {value!r}")
    if amount > MAX_AMOUNT:
        raise Invalid(f"{key}: amount {value!r} is implausibly large (over 10^12)")
    return amount
