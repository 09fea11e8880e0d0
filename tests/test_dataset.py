"""Reading dataset folders: Zendesk's shapes in, clear problems out, nothing half-read."""

import json
from pathlib import Path

import pytest

from integrations.files.dataset import DatasetError, load
from tests.records import TICKET, USER, write


def problems(folder: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        load(folder)
    return caught.value.problems


def test_reads_zendesk_shapes(tmp_path):
    write(tmp_path,
          organizations={"organizations": [{"id": 7, "name": "Acme", "tags": ["enterprise"],
                                            "organization_fields": {"lifetime_spend": "9000"}}]},
          ticket_metrics={"ticket_metrics": [{
              "id": 1, "ticket_id": 10, "solved_at": "2024-01-02T00:00:00Z", "replies": 4,
              "reopens": 1, "reply_time_in_minutes": {"calendar": 30, "business": 20},
              "full_resolution_time_in_minutes": {"calendar": 2000, "business": 900}}]},
          next_page=None)
    history = load(tmp_path).history(1)
    assert history.profile.name == "Zoë Müller"
    assert history.profile.organization.name == "Acme"
    assert history.profile.all_tags == ("vip", "enterprise")
    (ticket,) = history.tickets
    assert (ticket.priority, ticket.channel) == ("normal", "web")
    assert (ticket.replies, ticket.reopens) == (4, 1)
    assert (ticket.first_reply_minutes, ticket.resolution_minutes) == (30.0, 2000.0)
    assert ticket.satisfaction.is_good and ticket.satisfaction.comment == "quick!"
    assert ticket.solved_at.isoformat() == "2024-01-02T00:00:00+00:00"


def test_rating_records_win_over_embedded_ratings(tmp_path):
    write(tmp_path, satisfaction_ratings={"satisfaction_ratings": [
        {"id": 3, "ticket_id": 10, "requester_id": 1, "score": "bad", "comment": "slow",
         "created_at": "2024-01-05T00:00:00Z"},
        {"id": 4, "ticket_id": 999, "requester_id": 1, "score": "good",
         "created_at": "2024-01-05T00:00:00Z"}]})
    dataset = load(tmp_path)
    (ticket,) = dataset.history(1).tickets
    assert ticket.satisfaction.is_bad
    assert ticket.satisfaction.rated_at.day == 5
    assert dataset.warnings == ["satisfaction_ratings.json: a rating of unknown ticket 999 was "
                                "left out"]


def test_reads_survey_responses_on_the_five_point_scale(tmp_path):
    ticket = {**TICKET, "satisfaction_rating": {"score": "offered", "id": None, "comment": None}}
    write(tmp_path, tickets={"tickets": [ticket]}, survey_responses={"survey_responses": [{
        "id": "01HX", "responder_id": 1,
        "subjects": [{"id": "10", "type": "ticket", "zrn": "zen:ticket:10"}],
        "answers": [
            {"type": "rating_scale", "rating": 4, "created_at": "2024-01-04T00:00:00Z",
             "question": {"type": "rating_scale", "sub_type": "customer_satisfaction"}},
            {"type": "open_ended", "value": "Helpful", "created_at": "2024-01-04T00:00:00Z"}]}]})
    (rated,) = load(tmp_path).history(1).tickets
    assert (rated.satisfaction.scale, rated.satisfaction.score) == (5, 4)
    assert rated.satisfaction.comment == "Helpful" and rated.satisfaction.is_good


@pytest.mark.parametrize(("files", "expected"), [
    ({"users": None}, "users.json: missing (a dataset needs users.json and tickets.json)"),
    ({"tickets": "{not json"}, "tickets.json: not valid JSON (line 1 column 2"),
    ({"tickets": {"results": []}}, 'tickets.json: expected an object with a "tickets" list'),
    ({"tickets": {"tickets": [dict(TICKET, created_at=None)]}},
     "tickets.json: record 1 (id 10): created_at: missing (a timestamp is required)"),
    ({"tickets": {"tickets": [dict(TICKET, created_at="2024-01-01T00:00:00")]}},
     "created_at: timestamp '2024-01-01T00:00:00' has no time zone (add Z for UTC)"),
    ({"tickets": {"tickets": [dict(TICKET, created_at="last week")]}},
     "created_at: not an ISO 8601 timestamp: 'last week'"),
    ({"tickets": {"tickets": [dict(TICKET, satisfaction_rating={"score": "great"})]}},
     "satisfaction_rating.score: unknown rating 'great'"),
    ({"tickets": {"tickets": [dict(TICKET, priority="critical")]}},
     "priority: unknown value 'critical'"),
    ({"tickets": {"tickets": [dict(TICKET, id="ten")]}},
     "id: expected a positive whole number, not 'ten'"),
    ({"tickets": {"tickets": [dict(TICKET, requester_id=None)]}}, "requester_id: missing"),
    ({"tickets": {"tickets": ["just text"]}}, "tickets.json: record 1: not an object"),
    ({"users": {"users": [dict(USER, user_fields={"lifetime_spend": -50})]}},
     "user_fields.lifetime_spend: negative amount -50"),
    ({"users": {"users": [dict(USER, user_fields={"lifetime_spend": 1e15})]}},
     "implausibly large"),
    ({"users": {"users": [dict(USER, user_fields={"lifetime_spend": "a lot"})]}},
     "user_fields.lifetime_spend: expected an amount, not 'a lot'"),
    ({"users": {"users": [dict(USER, tags="vip")]}}, "tags: expected a list of text"),
    ({"ticket_metrics": {"ticket_metrics": [{"ticket_id": 10, "replies": -1}]}},
     "replies: expected a whole number of at least 0, not -1"),
    ({"ticket_metrics": {"ticket_metrics": [{"ticket_id": 10,
                                             "reply_time_in_minutes": {"calendar": "soon"}}]}},
     "reply_time_in_minutes.calendar: expected minutes"),
    ({"survey_responses": {"survey_responses": [{"subjects": [{"type": "ticket", "id": "10"}],
                                                 "answers": [{"type": "rating_scale",
                                                              "rating": 7}]}]}},
     "answers: rating 7 is not one of the question's options [1, 2, 3, 4, 5]"),
])
def test_bad_data_is_named_precisely(tmp_path, files, expected):
    found = problems(write(tmp_path, **files))
    assert any(expected in p for p in found), found


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    bad = [dict(TICKET, id=i, created_at=None) for i in range(1, 31)]
    found = problems(write(tmp_path, tickets={"tickets": bad}))
    assert len(found) == 30
    assert "... and 10 more" in str(DatasetError(found))


def test_skip_invalid_keeps_the_good_records(tmp_path):
    good = dict(TICKET, id=11)
    write(tmp_path, tickets={"tickets": [dict(TICKET, created_at="never"), good]})
    dataset = load(tmp_path, skip_invalid=True)
    assert [t.id for t in dataset.history(1).tickets] == [11]
    assert "created_at: not an ISO 8601 timestamp" in dataset.warnings[0]


def test_tickets_of_unknown_requesters_are_left_out_with_a_warning(tmp_path):
    write(tmp_path, tickets={"tickets": [dict(TICKET, requester_id=77)]})
    dataset = load(tmp_path)
    assert dataset.history(1).tickets == ()
    assert dataset.warnings == ["tickets.json: ticket 10 has an unknown requester 77"]


def test_not_a_folder(tmp_path):
    with pytest.raises(DatasetError, match="not a folder"):
        load(tmp_path / "nowhere")


def test_every_generated_customer_scores(tmp_path):
    from datetime import UTC, datetime

    from plugin.core.assessment import assess
    from plugin.core.settings import Settings
    from plugin.demo.generator import generate
    from plugin.web.contract import to_json

    now = datetime(2025, 6, 1, tzinfo=UTC)
    generate(tmp_path, 300, seed=11, now=now)
    dataset = load(tmp_path)
    assert dataset.warnings == []
    results = [to_json(assess(h, Settings(), now)) for h in dataset.histories()]
    tiers = {r["tier"] for r in results}
    assert tiers == {"high", "medium", "low"}, "generated data should reach every tier"
    assert sum(len(r["suggestions"]) for r in results) > len(results)


def test_responses_saved_straight_from_zendesks_documentation_read_as_they_are(tmp_path):
    from tests.reference import example

    users = example("CursorBasedExportIncrementalUsersResponseExample")
    tickets = example("CursorBasedExportIncrementalTicketsResponseExample")
    ticket = dict(tickets["tickets"][0], requester_id=users["users"][0]["id"])
    files = {"users": users, "tickets": dict(tickets, tickets=[ticket]),
             "organizations": example("ExportIncrementalOrganizationsResponseExample"),
             "ticket_metrics": example("TicketMetricsResponseExample"),
             "satisfaction_ratings": example("SatisfactionRatingsResponseExample")}
    for name, body in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")
    dataset = load(tmp_path)
    history = dataset.history(users["users"][0]["id"])
    assert history.profile.name == "Johnny Agent"
    assert [t.subject for t in history.tickets] == ["Help, my printer is on fire!"]
    assert all("unknown ticket" in w for w in dataset.warnings)
