"""The synthetic dataset: Zendesk-shaped, internally consistent, deterministic and long-tailed.

One 2,000-customer dataset is generated per module (about a second) and read by most tests;
determinism and edge cases use smaller runs.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugin.demo.generator import FILES, GenerationSummary, generate
from tests.reference import schema_properties

pytestmark = pytest.mark.slow  # writes and reads back a generated account

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
CUSTOMERS = 2_000
SHARED = Path(__file__).resolve().parents[2] / "shared"
OPENAPI = SHARED / "reference" / "zendesk-support-openapi.yaml"
"""Zendesk's own description of the Support API, in ../shared beside the repository."""
SCHEMAS = {"tickets": "TicketObject", "users": "UserObject",
           "organizations": "OrganizationObject", "ticket_metrics": "TicketMetricObject",
           "satisfaction_ratings": "SatisfactionRatingObject"}
REQUIRED = {
    "users": {"id", "url", "name", "email", "created_at", "updated_at", "role", "tags",
              "organization_id", "user_fields", "locale", "time_zone", "active", "verified"},
    "organizations": {"id", "url", "name", "tags", "organization_fields", "created_at",
                      "updated_at", "domain_names"},
    "tickets": {"id", "url", "requester_id", "created_at", "updated_at", "status", "priority",
                "via", "subject", "tags", "satisfaction_rating", "assignee_id", "group_id"},
    "ticket_metrics": {"id", "url", "ticket_id", "created_at", "updated_at", "solved_at",
                       "replies", "reopens", "reply_time_in_minutes",
                       "full_resolution_time_in_minutes"},
    "satisfaction_ratings": {"id", "url", "assignee_id", "group_id", "requester_id", "ticket_id",
                             "score", "comment", "created_at", "updated_at"},
    "survey_responses": {"id", "survey_id", "survey_version", "expires_at", "responder_id",
                         "subjects", "answers"},
}
Data = dict[str, list[dict[str, Any]]]


def load(folder: Path) -> Data:
    """Each file's records, checking the envelope is exactly `{"<name>": [...]}`."""
    data = {}
    for name in FILES:
        document = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        assert list(document) == [name] and isinstance(document[name], list)
        data[name] = document[name]
    return data


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerationSummary, Data]:
    folder = tmp_path_factory.mktemp("generated") / "data"
    calls: list[int] = []
    summary = generate(folder, CUSTOMERS, now=NOW, progress=calls.append)
    assert calls == sorted(calls) and calls[-1] == CUSTOMERS and 50 <= len(calls) <= 101
    return summary, load(folder)


@pytest.fixture(scope="module")
def data(generated: tuple[GenerationSummary, Data]) -> Data:
    return generated[1]


def timestamps(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, value) in a record whose key names a time (`*_at`)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from timestamps(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from timestamps(item, key)
    elif key.endswith("_at") and value is not None:
        yield key, value




def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 150, seed=3, now=NOW)
    second = generate(tmp_path / "b", 150, seed=3, now=NOW)
    other = generate(tmp_path / "c", 150, seed=4, now=NOW)
    assert first == second
    for name in FILES:
        assert (tmp_path / "a" / f"{name}.json").read_bytes() == \
            (tmp_path / "b" / f"{name}.json").read_bytes()
    assert (tmp_path / "a" / "tickets.json").read_bytes() != \
        (tmp_path / "c" / "tickets.json").read_bytes()
    assert other.users == 150


def test_summary_counts_match_files(generated: tuple[GenerationSummary, Data]) -> None:
    summary, data = generated
    assert summary.now == NOW
    assert (summary.users, summary.organizations, summary.tickets, summary.ratings,
            summary.survey_responses) == (
        len(data["users"]), len(data["organizations"]), len(data["tickets"]),
        len(data["satisfaction_ratings"]), len(data["survey_responses"]))
    assert summary.users == CUSTOMERS
    assert CUSTOMERS / 10 <= summary.organizations <= CUSTOMERS / 6


@pytest.mark.parametrize("name", FILES)
def test_every_record_has_the_required_fields(data: Data, name: str) -> None:
    assert data[name], f"{name} is empty"
    for record in data[name]:
        missing = REQUIRED[name] - record.keys()
        assert not missing, f"{name} record {record.get('id')} lacks {missing}"


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_key_is_declared_by_the_openapi_schema(data: Data, name: str) -> None:
    lines = OPENAPI.read_text(encoding="utf-8").splitlines()
    declared = schema_properties(lines, SCHEMAS[name])
    assert "id" in declared
    emitted = set().union(*(record.keys() for record in data[name]))
    assert emitted <= declared, f"not in {SCHEMAS[name]}: {emitted - declared}"
    if name == "ticket_metrics":
        times = schema_properties(lines, "TicketMetricTimeObject")
        for record in data[name]:
            assert record["reply_time_in_minutes"].keys() <= times


def test_ids_and_emails_are_unique(data: Data) -> None:
    for name in ("users", "organizations", "tickets", "ticket_metrics", "satisfaction_ratings",
                 "survey_responses"):
        ids = [record["id"] for record in data[name]]
        assert len(ids) == len(set(ids)), name
    emails = [user["email"] for user in data["users"]]
    assert len(emails) == len(set(emails))
    assert any(not user["name"].isascii() for user in data["users"])
    assert all(user["email"].isascii() for user in data["users"])


def test_timestamps_are_utc_seconds_and_never_after_now(data: Data) -> None:
    for name in FILES:
        for record in data[name]:
            for key, value in timestamps(record):
                assert value.endswith("Z") and len(value) == 20, (name, key, value)
                moment = datetime.fromisoformat(value)
                assert moment.tzinfo is not None
                if key != "expires_at":  # a deadline, not an event: it may lie ahead
                    assert moment <= NOW, (name, key, value)


def test_tickets_fall_between_signup_and_now_with_a_consistent_status(data: Data) -> None:
    signup = {user["id"]: user["created_at"] for user in data["users"]}
    metrics = {metric["ticket_id"]: metric for metric in data["ticket_metrics"]}
    for ticket in data["tickets"]:
        assert signup[ticket["requester_id"]] <= ticket["created_at"] <= ticket["updated_at"]
        solved_at = metrics[ticket["id"]]["solved_at"]
        assert (solved_at is not None) == (ticket["status"] in ("solved", "closed"))
        if solved_at is not None:
            closed = NOW - datetime.fromisoformat(solved_at) > timedelta(days=28)
            assert ticket["status"] == ("closed" if closed else "solved")


def test_every_ticket_has_one_metric_set(data: Data) -> None:
    ticket_ids = [ticket["id"] for ticket in data["tickets"]]
    assert sorted(metric["ticket_id"] for metric in data["ticket_metrics"]) == sorted(ticket_ids)
    for metric in data["ticket_metrics"]:
        assert 0 <= metric["replies"] <= 15 and 0 <= metric["reopens"] <= 3
        full = metric["full_resolution_time_in_minutes"]
        assert (full["calendar"] is None) == (metric["solved_at"] is None)
        if full["calendar"] is not None:
            assert 0 <= full["business"] <= full["calendar"]


def test_embedded_ratings_agree_with_rating_records(data: Data) -> None:
    tickets = {ticket["id"]: ticket for ticket in data["tickets"]}
    for rating in data["satisfaction_ratings"]:
        ticket = tickets[rating["ticket_id"]]
        assert ticket["satisfaction_rating"] == {
            "id": rating["id"], "score": rating["score"], "comment": rating["comment"]}
        assert rating["requester_id"] == ticket["requester_id"]
        assert rating["created_at"] > ticket["created_at"]
    rated = {ticket_id for ticket_id, ticket in tickets.items()
             if ticket["satisfaction_rating"]["score"] in ("good", "bad")}
    assert rated == {rating["ticket_id"] for rating in data["satisfaction_ratings"]}
    scores = Counter(ticket["satisfaction_rating"]["score"] for ticket in tickets.values())
    assert set(scores) == {"good", "bad", "offered", "unoffered"}


def test_survey_responses_are_well_formed_and_never_double_rated(data: Data) -> None:
    tickets = {ticket["id"]: ticket for ticket in data["tickets"]}
    for response in data["survey_responses"]:
        assert len(response["id"]) == 26 and response["id"].startswith("01")
        [subject] = response["subjects"]
        assert subject["type"] == "ticket" and subject["zrn"] == f"zen:ticket:{subject['id']}"
        ticket = tickets[int(subject["id"])]
        assert ticket["requester_id"] == response["responder_id"]
        assert ticket["satisfaction_rating"]["score"] == "offered"
        scale = [a for a in response["answers"] if a["type"] == "rating_scale"]
        assert len(scale) == 1 and 1 <= scale[0]["rating"] <= 5
        expected = {5: "good", 4: "good", 3: "neutral", 2: "bad", 1: "bad"}[scale[0]["rating"]]
        assert scale[0]["rating_category"] == expected
        assert scale[0]["question"]["sub_type"] == "customer_satisfaction"
        assert all(a["value"] for a in response["answers"] if a["type"] == "open_ended")


def test_ticket_volume_is_long_tailed(data: Data) -> None:
    per_customer = Counter(ticket["requester_id"] for ticket in data["tickets"])
    counts = [per_customer.get(user["id"], 0) for user in data["users"]]
    median = statistics.median(counts)
    assert max(counts) >= 100 and max(counts) >= 20 * max(median, 1)
    assert 6 <= statistics.mean(counts) <= 15
    assert counts.count(0) > 0


def test_good_share_of_ratings_is_realistic(data: Data) -> None:
    scores = Counter(rating["score"] for rating in data["satisfaction_ratings"])
    assert 0.5 <= scores["good"] / (scores["good"] + scores["bad"]) <= 0.9


def test_mixes_cover_the_documented_values(data: Data) -> None:
    tickets = data["tickets"]
    assert {t["via"]["channel"] for t in tickets} == {
        "email", "web", "chat", "voice", "api", "mobile", "native_messaging"}
    assert {t["priority"] for t in tickets} == {"low", "normal", "high", "urgent", None}
    high = sum(t["priority"] == "high" for t in tickets) / len(tickets)
    assert 0.05 <= high <= 0.11
    spends = [user["user_fields"]["lifetime_spend"] for user in data["users"]]
    assert 0.2 <= spends.count(None) / len(spends) <= 0.4
    assert max(s for s in spends if s is not None) >= 20_000
    members = sum(user["organization_id"] is not None for user in data["users"])
    assert 0.5 <= members / len(data["users"]) <= 0.7


def test_zero_customers_writes_empty_envelopes(tmp_path: Path) -> None:
    summary = generate(tmp_path / "empty", 0, now=NOW)
    assert summary.users == summary.tickets == summary.organizations == 0
    assert all(records == [] for records in load(tmp_path / "empty").values())


def test_now_without_a_time_zone_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        generate(tmp_path, 1, now=datetime(2025, 6, 1))
