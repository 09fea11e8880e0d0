"""Reads a dataset folder (Zendesk's list endpoints saved as JSON; see docs/dataset.md) into
domain histories.

Every record is checked as it is read. Problems are collected, not raised one at a time, so
one run names everything wrong with a folder; `skip_invalid=True` drops the bad records instead
and keeps their descriptions as warnings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from integrations.records.zendesk import (
    DEFAULT_SPEND_FIELD,
    DELETED,
    Invalid,
    parse_metric,
    parse_organization,
    parse_rating,
    parse_survey,
    parse_ticket,
    parse_user,
    with_metrics,
)
from plugin.core.domain import CustomerHistory, Profile, Satisfaction, Ticket

REQUIRED_FILES = ("users", "tickets")
OPTIONAL_FILES = ("organizations", "ticket_metrics", "satisfaction_ratings", "survey_responses")
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


def load(folder: Path, *, spend_field: str = DEFAULT_SPEND_FIELD,
         skip_invalid: bool = False) -> Dataset:
    """Read a dataset folder; raise `DatasetError` naming every problem unless `skip_invalid`."""
    return Loader(Path(folder), spend_field, skip_invalid).load()


class Loader:
    """Reads a folder into a `Dataset`, collecting every problem (see the module)."""

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
        spend = self.spend_field
        orgs = {o.id: o for o in self.records(
            "organizations", raw, lambda r: parse_organization(r, spend))}
        profiles = {p.id: p for p in self.records(
            "users", raw, lambda r: parse_user(r, orgs, spend))}
        metrics = dict(self.records("ticket_metrics", raw, parse_metric))
        tickets: dict[int, Ticket] = {}
        owners: dict[int, int] = {}
        deleted: set[int] = set()
        for requester, ticket in self.records("tickets", raw, parse_ticket):
            if ticket.status == DELETED:
                deleted.add(ticket.id)
                continue
            if requester not in profiles:
                self.warn(f"tickets.json: ticket {ticket.id} has an unknown requester {requester}")
                continue
            tickets[ticket.id] = with_metrics(ticket, metrics.get(ticket.id))
            owners[ticket.id] = requester
        for ticket_id, rating in self.records("satisfaction_ratings", raw, parse_rating):
            if ticket_id not in deleted:
                self.attach(tickets, ticket_id, rating, "satisfaction_ratings.json")
        for ticket_id, rating in self.records("survey_responses", raw, parse_survey):
            if ticket_id not in deleted:
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
        records, problem = read_whole(self.folder, name, required)
        if problem:
            self.problems.append(problem)
        return records

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

    def attach(self, tickets: dict[int, Ticket], ticket_id: int | None,
               rating: Satisfaction | None, source: str) -> None:
        if rating is None:
            return
        ticket = tickets.get(ticket_id) if ticket_id is not None else None
        if ticket is None:
            self.warn(f"{source}: a rating of unknown ticket {ticket_id} was left out")
            return
        tickets[ticket.id] = replace(ticket, satisfaction=rating)


def read_whole(folder: Path, name: str, required: bool) -> tuple[list[Any], str | None]:
    """The list of one file read whole, or [] and the problem that stops it being read."""
    path = folder / f"{name}.json"
    if not path.exists():
        if not required:
            return [], None
        return [], (f"{path.name}: missing (a dataset needs "
                    f"{' and '.join(n + '.json' for n in REQUIRED_FILES)})")
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as error:
        return [], (f"{path.name}: not valid JSON (line {error.lineno} "
                    f"column {error.colno}: {error.msg})")
    except (OSError, UnicodeDecodeError) as error:
        return [], f"{path.name}: cannot be read ({error})"
    if not isinstance(data, dict) or not isinstance(data.get(name), list):
        return [], no_list(path, name)
    return data[name], None


def no_list(path: Path, name: str) -> str:
    return f'{path.name}: expected an object with a "{name}" list'
