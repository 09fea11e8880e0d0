"""Response shapes recorded from real accounts and documented by Zendesk, read right through
the public entry points: the adapter (`responses` at the HTTP boundary), the sandbox serving
the same shapes, and `customer-value sync` plus `score` on top.

The records below are this project's own values in Zendesk's shapes:
- tickets: the incremental ticket export (`../shared/reference/zendesk-support-openapi.yaml`,
  `CursorBasedExportIncrementalTicketsResponseExample`), where a deleted ticket comes back with
  `status: "deleted"`;
- survey responses: "CSAT Survey Responses" (developer.zendesk.com, api-reference/ticketing/
  ticket-management/csat_survey_responses): the rating answer (`type: rating_scale`, `rating`,
  `rating_category`), its question (`rating_scale_emoji` / `_numeric` with `options`), the
  ticket in `subjects` or only in `subject_zrns` (its first example), date filters as Unix
  epoch milliseconds, and the documented 403 body.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime

import pytest
import requests
from responses import matchers

from integrations.http import Transport
from integrations.records.zendesk import parse_survey
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient
from plugin.core.domain import Satisfaction
from tests.commands import AUTH, cli
from tests.reference import example

BASE = "https://acme.zendesk.com"
SURVEYS = f"{BASE}/api/v2/guide/survey_responses"
NOW = datetime(2025, 3, 1, tzinfo=UTC)
RITA, OMAR = 4101, 4102
STAMP = "2025-01-{:02d}T10:00:00Z"


def option(rating: int, label: str, emoji: str | None = None) -> dict:
    found = {"rating": rating, "label": {"type": "static", "value": label}}
    if emoji:
        found["emoji"] = {"type": "static", "value": emoji}
    return found


TWO_POINT = {"id": "01JQ2PT0000000000000000001", "type": "rating_scale_numeric",
             "sub_type": "customer_satisfaction",
             "options": [option(1, "1 - Unsatisfied"), option(2, "2 - Very satisfied")]}
THREE_POINT = {"id": "01JQ3PT0000000000000000001", "type": "rating_scale_emoji",
               "sub_type": "customer_satisfaction",
               "options": [option(1, "Unhappy", "\U0001F641"), option(2, "Okay", "\U0001F610"),
                           option(3, "Happy", "\U0001F642")]}
FIVE_POINT = {"id": "01JQ5PT0000000000000000001", "type": "rating_scale_numeric",
              "sub_type": "customer_satisfaction",
              "options": [option(n, str(n)) for n in range(1, 6)]}


def response(ticket_id: int, question: dict, rating: int, category: str, day: int, *,
             zrns_only: bool = False, comment: str | None = None) -> dict:
    answers = [{"type": "rating_scale", "rating": rating, "rating_category": category,
                "question": question, "created_at": STAMP.format(day),
                "updated_at": STAMP.format(day)}]
    if comment:
        answers.append({"type": "open_ended", "value": comment,
                        "question": {"id": "01JQC0MMENT000000000000001", "type": "open_ended"},
                        "created_at": STAMP.format(day), "updated_at": STAMP.format(day)})
    record = {"id": f"01JQR{ticket_id:021d}", "responder_id": RITA,
              "expires_at": "2025-02-20T10:00:00Z", "subject_zrns": [f"zen:ticket:{ticket_id}"],
              "survey": {"id": "01JQSURVEY0000000000000001", "state": "enabled", "version": 2},
              "answers": answers}
    if not zrns_only:
        record["subjects"] = [{"id": str(ticket_id), "type": "ticket",
                               "zrn": f"zen:ticket:{ticket_id}"}]
    return record


def ticket(ticket_id: int, requester: int, day: int, *, status: str = "solved",
           priority: str = "normal", subject: str = "Invoice question") -> dict:
    return {"id": ticket_id, "url": f"{BASE}/api/v2/tickets/{ticket_id}.json",
            "requester_id": requester, "submitter_id": requester, "assignee_id": 9001,
            "organization_id": None, "subject": subject, "status": status,
            "priority": priority, "type": "question", "tags": [],
            "via": {"channel": "email"}, "created_at": STAMP.format(day),
            "updated_at": STAMP.format(day + 1), "satisfaction_rating": None}


def account(folder) -> None:
    """Rita: four solved tickets rated good on 2-, 3- and 5-point surveys (one naming its ticket
    only in subject_zrns) and a deleted urgent spam ticket; Omar: one plain ticket."""
    users = [{"id": uid, "name": name, "email": f"{name.lower()}@example.org", "role": "end-user",
              "created_at": "2024-06-01T09:00:00Z", "updated_at": "2024-06-01T09:00:00Z",
              "organization_id": None, "tags": [], "user_fields": {}}
             for uid, name in ((RITA, "Rita"), (OMAR, "Omar"))]
    tickets = [ticket(7001, RITA, 2), ticket(7003, RITA, 4), ticket(7004, RITA, 6),
               ticket(7005, RITA, 8),
               ticket(7002, RITA, 3, status="deleted", priority="urgent", subject="WIN A PRIZE"),
               ticket(7101, OMAR, 5)]
    surveys = [response(7001, TWO_POINT, 2, "good", 3),
               response(7003, THREE_POINT, 3, "good", 5),
               response(7004, FIVE_POINT, 5, "good", 7, comment="Quick and kind, thanks"),
               response(7005, FIVE_POINT, 4, "good", 9, zrns_only=True)]
    for name, records in (("users", users), ("tickets", tickets),
                          ("survey_responses", surveys)):
        (folder / f"{name}.json").write_text(json.dumps({name: records}), encoding="utf-8")


# --- the records, read one by one -----------------------------------------------------------

@pytest.mark.parametrize(("question", "rating", "category", "scale", "reading"), [
    (TWO_POINT, 2, "good", 2, "good"), (TWO_POINT, 1, "bad", 2, "bad"),
    (THREE_POINT, 3, "good", 3, "good"), (THREE_POINT, 2, "neutral", 3, "neutral"),
    (THREE_POINT, 1, "bad", 3, "bad"), (FIVE_POINT, 5, "good", 5, "good"),
    (FIVE_POINT, 3, "neutral", 5, "neutral"), (FIVE_POINT, 2, "bad", 5, "bad"),
])
def test_a_survey_answer_is_read_on_its_own_scale(question, rating, category, scale, reading):
    ticket_id, found = parse_survey(response(7001, question, rating, category, 3))
    assert ticket_id == 7001
    assert (found.scale, found.reading) == (scale, reading)


def test_zendesks_rating_category_decides_over_the_score():
    # A 5-point survey whose admin counts 3 as good: Zendesk says so in rating_category.
    _, found = parse_survey(response(7001, FIVE_POINT, 3, "good", 3))
    assert found.is_good and found.label == "3/5"


def test_a_two_point_very_satisfied_is_a_good_rating_not_two_of_five():
    _, found = parse_survey(response(7001, TWO_POINT, 2, "good", 3))
    assert found == Satisfaction(scale=2, score=1, rated_at=found.rated_at, category="good")
    assert found.share == 1.0


def test_a_response_naming_its_ticket_only_in_subject_zrns_is_kept():
    ticket_id, found = parse_survey(response(7005, FIVE_POINT, 4, "good", 9, zrns_only=True))
    assert ticket_id == 7005 and found.is_good


# --- the adapter over HTTP -----------------------------------------------------------------

def client(sleep) -> ZendeskClient:
    return ZendeskClient(Transport(base_url=BASE, session=requests.Session(),
                                   auth=("agent@acme.com/token", "t0ken"), mode="background",
                                   sleep=sleep, rng=random.Random(1)))


def test_survey_filters_are_sent_as_epoch_milliseconds(http, sleep):
    http.get(SURVEYS, json={"survey_responses": [response(7005, FIVE_POINT, 4, "good", 9,
                                                          zrns_only=True)],
                            "meta": {"has_more": False, "after_cursor": "MW",
                                     "before_cursor": "MQ"}},
             match=[matchers.query_param_matcher({
                 "filter[created_at_start]": "1735689600000",
                 "filter[created_at_end]": "1738368000000", "page[size]": "100"})])
    (page,) = client(sleep).survey_pages(start=datetime(2025, 1, 1, tzinfo=UTC),
                                         end=datetime(2025, 2, 1, tzinfo=UTC))
    assert [(fact.ticket_id, fact.rating.label) for fact in page.items] == [(7005, "4/5")]


def test_a_survey_endpoint_answering_403_means_no_survey_data(http, sleep, caplog):
    http.get(SURVEYS, status=403, json={"errors": [{"code": "Forbidden", "status": "403",
                                                    "title": "Access to the resource is "
                                                             "forbidden"}]})
    zendesk = client(sleep)
    assert list(zendesk.survey_pages(start=NOW, end=NOW)) == []
    assert zendesk.surveys_refused
    assert "no survey data" in caplog.text


def test_a_deleted_ticket_in_the_export_is_marked_deleted(http, sleep):
    body = example("CursorBasedExportIncrementalTicketsResponseExample")
    record = dict(body["tickets"][0], status="deleted", priority="urgent")
    http.get(f"{BASE}/api/v2/incremental/tickets/cursor",
             json=dict(body, tickets=[record], after_cursor="c1", end_of_stream=True))
    (page,) = client(sleep).ticket_pages(start_time=0)
    assert [fact.deleted for fact in page.items] == [True]


# --- the sandbox, sync and score -------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "account"
    data.mkdir()
    account(data)
    return data


def environment(base_url, tmp_path) -> dict[str, str]:
    return {"ZENDESK_BASE_URL": base_url, **AUTH,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"}


def score(env) -> dict:
    done = cli("score", "--user", str(RITA), "--json", "--now", "2025-03-01T00:00:00Z", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def evidence(value: dict, signal: str) -> str:
    return next(s["evidence"] for s in value["benefits"] + value["costs"]
                if s["signal"] == signal)


def stored(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "store.db") as db:
        return db.execute(sql).fetchall()


@pytest.mark.slow
def test_sync_and_score_read_every_scale_and_leave_deleted_tickets_out(folder, tmp_path):
    with running_sandbox(folder, now=NOW, export_rate_limit=0) as base_url:
        env = environment(base_url, tmp_path)
        done = cli("sync", env=env)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stderr
        assert stored(tmp_path, "SELECT id FROM tickets ORDER BY id") == [
            (7001,), (7003,), (7004,), (7005,), (7101,)]
        value = score(env)
    # Only the two 5-point answers (5 and 4) make the average; the 2- and 3-point "good"s
    # count as good ratings, not as 2 or 3 of 5.
    assert evidence(value, "satisfaction").startswith(
        "4 of 4 ratings good; average 4.5/5 over 2 surveys")
    assert evidence(value, "bad_ratings") == "no bad ratings"
    # The deleted urgent spam ticket is neither a ticket nor an escalation.
    assert evidence(value, "ticket_volume").endswith("4 in all")
    assert evidence(value, "escalations") == "no urgent or high priority tickets"


@pytest.mark.slow
def test_a_ticket_deleted_after_a_sync_leaves_the_store_on_the_next(folder, tmp_path):
    with running_sandbox(folder, now=NOW, export_rate_limit=0) as base_url:
        env = environment(base_url, tmp_path)
        assert cli("sync", env=env).returncode == 0
        deleted = requests.delete(f"{base_url}/api/v2/tickets/7005", timeout=10,
                                  auth=(f"{AUTH['ZENDESK_EMAIL']}/token",
                                        AUTH["ZENDESK_API_TOKEN"]))
        assert deleted.status_code == 204
        again = cli("sync", env=env)
        assert again.returncode == 0, again.stderr
        assert (7005,) not in stored(tmp_path, "SELECT id FROM tickets")
        assert (7005,) not in stored(tmp_path, "SELECT ticket_id FROM ratings")
        value = score(env)
    assert evidence(value, "satisfaction").startswith("3 of 3 ratings good")


@pytest.mark.slow
def test_the_sandbox_takes_epoch_milliseconds_and_refuses_iso_dates(folder):
    auth = (f"{AUTH['ZENDESK_EMAIL']}/token", AUTH["ZENDESK_API_TOKEN"])
    with running_sandbox(folder, now=NOW) as base_url:
        url = f"{base_url}/api/v2/guide/survey_responses"
        iso = requests.get(url, params={"filter[created_at_start]": "2025-01-01T00:00:00Z"},
                           auth=auth, timeout=10)
        window = requests.get(url, params={"filter[created_at_start]": "1736157600000",
                                           "filter[created_at_end]": "1736589600000"},
                              auth=auth, timeout=10)
    assert iso.status_code == 400
    assert iso.json()["errors"][0]["code"] == "InvalidParameter"
    assert window.status_code == 200
    # 2025-01-06T10:00Z .. 2025-01-11T10:00Z, both ends included: the answers of days 7 and 9.
    found = [r["subject_zrns"] for r in window.json()["survey_responses"]]
    assert found == [["zen:ticket:7004"], ["zen:ticket:7005"]]


@pytest.mark.slow
def test_a_sync_refused_the_surveys_warns_and_saves_the_rest(folder, tmp_path):
    with running_sandbox(folder, now=NOW, export_rate_limit=0, surveys_forbidden=True) \
            as base_url:
        env = environment(base_url, tmp_path)
        done = cli("sync", env=env)
    assert done.returncode == 0, done.stderr
    assert "warning: no survey data" in done.stderr
    assert len(stored(tmp_path, "SELECT id FROM tickets")) == 5
    assert stored(tmp_path, "SELECT count(*) FROM ratings") == [(0,)]


@pytest.mark.slow
def test_a_users_page_without_a_cursor_keeps_the_last_good_one(folder, tmp_path):
    with running_sandbox(folder, now=NOW, export_rate_limit=0) as base_url:
        env = environment(base_url, tmp_path)
        assert cli("sync", env=env).returncode == 0
        (first,) = stored(tmp_path, "SELECT cursor FROM sync_state WHERE stream = 'users'")
        page = requests.get(f"{base_url}/api/v2/incremental/users/cursor",
                            params={"cursor": first[0]}, timeout=10,
                            auth=(f"{AUTH['ZENDESK_EMAIL']}/token", AUTH["ZENDESK_API_TOKEN"]))
        assert page.json()["after_cursor"] is None and page.json()["end_of_stream"]
        assert cli("sync", env=env).returncode == 0
        (second,) = stored(tmp_path, "SELECT cursor FROM sync_state WHERE stream = 'users'")
    assert first[0] and second == first
