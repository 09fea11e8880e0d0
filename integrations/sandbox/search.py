"""Zendesk's search query language, for tickets, as SQL conditions over the sandbox's tables.

Supported: `type:ticket`; `requester:ID` (or `requester_id:`), `assignee:`, `organization:`,
`group:`; `status` and `priority` with `:`, `<`, `>`, `<=`, `>=` (in Zendesk's order);
`tags:` (or `tag:`); `created`/`updated` against a date, a time or a relative `2days`;
a leading `-` negates a term; any other `field:value` compares the ticket's JSON field, and bare
words or "quoted phrases" match the subject or description. Search includes archived tickets,
as Zendesk's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from integrations.sandbox.clock import DAY, parse_iso
from integrations.sandbox.errors import bad_request

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
OPERATORS = {":": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
UNITS = {"minutes": 60, "hours": 3_600, "days": DAY, "weeks": 7 * DAY, "months": 30 * DAY,
         "years": 365 * DAY}
ID_COLUMNS = {"requester": "tickets.requester_id", "requester_id": "tickets.requester_id",
              "organization": "tickets.organization_id",
              "organization_id": "tickets.organization_id"}
ID_FIELDS = {"assignee": "assignee_id", "assignee_id": "assignee_id", "group": "group_id",
             "group_id": "group_id", "submitter": "submitter_id"}
TIME_COLUMNS = {"created": "tickets.created_ts", "updated": "tickets.updated_ts"}
FIELD = re.compile(r"^[a-z_]+$")
TOKEN = re.compile(r'-?\w+(?:<=|>=|:|<|>)(?:"[^"]*"|\S*)|-?"[^"]*"|\S+')
TERM = re.compile(r'^(-?)(\w+)(<=|>=|:|<|>)(.*)$')
RELATIVE = re.compile(r"^(\d+)(minutes|hours|days|weeks|months|years)$")


@dataclass(frozen=True)
class Query:
    """A parsed search: the object type asked for and the SQL conditions on tickets."""

    kind: str | None
    conditions: tuple[str, ...]
    params: tuple[Any, ...]


def parse(text: str, now: float) -> Query:
    """Parses a query; raises 400 for terms the sandbox cannot read."""
    kind, conditions, params = None, [], []
    for token in TOKEN.findall(text.strip()):
        match = TERM.match(token)
        if match is None:
            negate, phrase = token.startswith("-"), token.lstrip("-").strip('"')
            sql, values = _text(phrase)
        else:
            sign, name, operator, value = match.groups()
            negate, value = sign == "-", value.strip('"')
            if name == "type" and not negate:
                kind = value
                continue
            sql, values = _term(name.lower(), operator, value, now)
        conditions.append(f"NOT ({sql})" if negate else sql)
        params += values
    return Query(kind, tuple(conditions), tuple(params))


def _text(phrase: str) -> tuple[str, list[Any]]:
    pattern = f"%{phrase}%"
    return ("json_extract(tickets.body, '$.subject') LIKE ? OR "
            "json_extract(tickets.body, '$.description') LIKE ?"), [pattern, pattern]


def _term(name: str, operator: str, value: str, now: float) -> tuple[str, list[Any]]:
    if name in ("status", "priority"):
        return _ranked(name, operator, value)
    if name in ("tags", "tag"):
        return ("EXISTS (SELECT 1 FROM json_each(tickets.body, '$.tags') WHERE value = ?)",
                [value])
    if name in TIME_COLUMNS:
        return _time(TIME_COLUMNS[name], operator, value, now)
    if name in ID_COLUMNS:
        return f"{ID_COLUMNS[name]} {OPERATORS[operator]} ?", [_number(name, value)]
    if name in ID_FIELDS:
        return (f"json_extract(tickets.body, '$.{ID_FIELDS[name]}') {OPERATORS[operator]} ?",
                [_number(name, value)])
    if not FIELD.match(name):
        raise bad_request(f"cannot search on {name!r}", "invalid")
    field = "type" if name == "ticket_type" else name
    if name == "subject" and operator == ":":
        return _text(value)
    return f"json_extract(tickets.body, '$.{field}') {OPERATORS[operator]} ?", [value]


def _ranked(name: str, operator: str, value: str) -> tuple[str, list[Any]]:
    """`status<solved` and the like, in Zendesk's order of statuses and priorities."""
    order = STATUSES if name == "status" else PRIORITIES
    if value not in order:
        raise bad_request(f"{name} must be one of {', '.join(order)}, not {value!r}", "invalid")
    rank = order.index(value)
    chosen = [v for i, v in enumerate(order) if _compare(i, OPERATORS[operator], rank)]
    column = "tickets.status" if name == "status" else "json_extract(tickets.body, '$.priority')"
    if not chosen:
        return "0", []
    return f"{column} IN ({','.join('?' * len(chosen))})", chosen


def _compare(left: int, operator: str, right: int) -> bool:
    return {"=": left == right, "<": left < right, ">": left > right, "<=": left <= right,
            ">=": left >= right}[operator]


def _time(column: str, operator: str, value: str, now: float) -> tuple[str, list[Any]]:
    """`created>2024-01-01`, `updated<2024-05-01T10:00:00Z`, `updated>2hours`."""
    relative = RELATIVE.match(value)
    try:
        moment = int(now) - int(relative[1]) * UNITS[relative[2]] if relative else \
            parse_iso(value)
    except ValueError:
        raise bad_request(f"cannot read the time {value!r}", "invalid") from None
    if operator == ":" and not relative and len(value) == len("2024-01-01"):
        return f"{column} >= ? AND {column} < ?", [moment, moment + DAY]
    return f"{column} {OPERATORS[operator]} ?", [moment]


def _number(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"{name} must be an id, not {value!r}", "invalid") from None
