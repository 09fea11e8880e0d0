"""The Zendesk adapter through real requests code, with `responses` at the HTTP boundary:
documented examples in, domain values out, every failure a typed error."""

import copy
import logging
import random
from datetime import UTC, datetime

import pytest
import requests
from responses import matchers

from integrations.errors import (
    AuthFailed,
    BadResponse,
    Conflict,
    NotFound,
    RateLimited,
    Unavailable,
)
from integrations.http import MAX_ATTEMPTS, Transport, retry_delay
from integrations.zendesk import ZendeskClient, ZendeskConfig
from tests.reference import example

BASE = "https://acme.zendesk.com"
EXPORT = f"{BASE}/api/v2/incremental/tickets/cursor"
TOKEN = "s3cret-token-value"








def client(sleep, mode="background", **options) -> ZendeskClient:
    transport = Transport(base_url=BASE, session=requests.Session(),
                          auth=("agent@acme.com/token", TOKEN), mode=mode, sleep=sleep,
                          rng=random.Random(1), **options)
    return ZendeskClient(transport)


def export_page(cursor="c1", end=True, tickets=None, **extra):
    body = copy.deepcopy(example("CursorBasedExportIncrementalTicketsResponseExample"))
    body.update(after_cursor=cursor, end_of_stream=end, **extra)
    if tickets is not None:
        body["tickets"] = tickets
    return body


def test_documented_ticket_export_becomes_domain_tickets(http, sleep):
    metric = example("TicketMetricResponseExample")["ticket_metric"][0]
    body = export_page(metric_sets=[dict(metric, ticket_id=35436)])
    http.get(EXPORT, json=body, match=[matchers.query_param_matcher(
        {"start_time": "0", "per_page": "1000", "include": "metric_sets"})])
    (page,) = list(client(sleep).ticket_pages(start_time=0))
    (fact,) = page.items
    assert fact.requester_id == 20978392
    ticket = fact.ticket
    assert (ticket.id, ticket.priority, ticket.status) == (35436, "high", "open")
    assert ticket.subject == "Help, my printer is on fire!"
    assert ticket.satisfaction.is_good and ticket.satisfaction.comment == "Great support!"
    assert ticket.replies == metric["replies"] and ticket.reopens == metric["reopens"]
    assert page.cursor == "c1" and page.done


def test_metric_set_embedded_in_the_ticket_is_read_too(http, sleep):
    ticket = dict(example("CursorBasedExportIncrementalTicketsResponseExample")["tickets"][0],
                  metric_set={"ticket_id": 35436, "replies": 7, "reopens": 2,
                              "reply_time_in_minutes": {"calendar": 45, "business": 30}})
    http.get(EXPORT, json=export_page(tickets=[ticket]))
    (page,) = list(client(sleep).ticket_pages(start_time=0))
    assert (page.items[0].ticket.replies, page.items[0].ticket.first_reply_minutes) == (7, 45.0)


def test_export_follows_cursors_page_by_page(http, sleep):
    http.get(EXPORT, json=export_page("c1", end=False),
             match=[matchers.query_param_matcher({"start_time": "0", "per_page": "1000",
                                                  "include": "metric_sets"})])
    http.get(EXPORT, json=export_page("c2", end=True),
             match=[matchers.query_param_matcher({"cursor": "c1", "per_page": "1000",
                                                  "include": "metric_sets"})])
    pages = list(client(sleep).ticket_pages(start_time=0))
    assert [p.cursor for p in pages] == ["c1", "c2"] and pages[-1].done


def test_a_cursor_that_repeats_stops_the_loop(http, sleep):
    http.get(EXPORT, json=export_page("same", end=False))
    http.get(EXPORT, json=export_page("same", end=False))
    with pytest.raises(BadResponse, match="same cursor twice"):
        list(client(sleep).ticket_pages(start_time=0))


def test_documented_user_and_organization_exports(http, sleep):
    http.get(f"{BASE}/api/v2/incremental/users/cursor",
             json=example("CursorBasedExportIncrementalUsersResponseExample"))
    http.get(f"{BASE}/api/v2/incremental/organizations",
             json=example("ExportIncrementalOrganizationsResponseExample"))
    zendesk = client(sleep)
    (users_page,) = list(zendesk.user_pages(start_time=0))
    (user,) = users_page.items
    assert (user.profile.id, user.profile.name, user.organization_id) == (
        35436, "Johnny Agent", 57542)
    (org_page,) = list(zendesk.organization_pages(start_time=0))
    assert org_page.items[0].name == "Groablet Enterprises" and org_page.cursor == "1601357503"


def test_documented_satisfaction_ratings(http, sleep):
    http.get(f"{BASE}/api/v2/satisfaction_ratings",
             json=example("SatisfactionRatingsResponseExample"),
             match=[matchers.query_param_matcher({"score": "received", "start_time": "0",
                                                  "end_time": "100", "page[size]": "100"})])
    (page,) = list(client(sleep).rating_pages(start_time=0, end_time=100))
    assert [(r.ticket_id, r.rating.is_good) for r in page.items] == [(208, True), (209, True)]
    assert page.done


def test_accounts_without_csat_surveys_yield_nothing(http, sleep):
    http.get(f"{BASE}/api/v2/guide/survey_responses", status=404,
             json={"error": "RecordNotFound", "description": "Not found"})
    assert list(client(sleep).survey_pages(start=datetime(2024, 1, 1, tzinfo=UTC),
                                           end=datetime(2024, 2, 1, tzinfo=UTC))) == []


def test_unreadable_records_are_left_out_and_counted(http, sleep):
    good = example("CursorBasedExportIncrementalTicketsResponseExample")["tickets"][0]
    http.get(EXPORT, json=export_page(tickets=[good, dict(good, id=2, created_at=None), "x"]))
    (page,) = list(client(sleep).ticket_pages(start_time=0))
    assert len(page.items) == 1 and page.skipped == 2


def test_web_paths_get_a_typed_rate_limit_error_without_waiting(http, sleep):
    http.get(EXPORT, status=429, headers={"Retry-After": "7"}, json={})
    with pytest.raises(RateLimited) as caught:
        list(client(sleep, mode="web").ticket_pages(start_time=0))
    assert caught.value.retry_after == 7 and sleep.waits == []


def test_background_paths_wait_as_asked_and_retry(http, sleep):
    http.get(EXPORT, status=429, headers={"Retry-After": "7"}, json={})
    http.get(EXPORT, json=export_page())
    assert len(list(client(sleep).ticket_pages(start_time=0))) == 1
    assert sleep.waits == [7.0]


def test_background_waits_stop_at_the_budget(http, sleep):
    for _ in range(3):
        http.get(EXPORT, status=429, headers={"Retry-After": "40"}, json={})
    with pytest.raises(RateLimited):
        list(client(sleep, wait_budget=100).ticket_pages(start_time=0))
    assert sleep.waits == [40.0, 40.0]


def test_server_errors_are_retried_with_jittered_backoff(http, sleep):
    http.get(EXPORT, status=503, json={})
    http.get(EXPORT, status=502, json={})
    http.get(EXPORT, json=export_page())
    assert len(list(client(sleep).ticket_pages(start_time=0))) == 1
    assert len(sleep.waits) == 2
    assert 0 <= sleep.waits[0] <= 1.0 and 0 <= sleep.waits[1] <= 2.0


@pytest.mark.parametrize("failure", [
    requests.ConnectionError("connection reset"),
    requests.ReadTimeout("read timed out"),
])
def test_network_failures_are_retried_then_reported(http, sleep, failure):
    for _ in range(MAX_ATTEMPTS):
        http.get(EXPORT, body=failure)
    with pytest.raises(Unavailable, match="did not answer"):
        list(client(sleep).ticket_pages(start_time=0))
    assert len(sleep.waits) == MAX_ATTEMPTS - 1


def test_persistent_server_errors_end_in_unavailable(http, sleep):
    for _ in range(MAX_ATTEMPTS):
        http.get(EXPORT, status=500, json={})
    with pytest.raises(Unavailable, match="failing"):
        list(client(sleep).ticket_pages(start_time=0))


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_are_not_retried(http, sleep, status):
    http.get(EXPORT, status=status, json={"error": "Couldn't authenticate you"})
    with pytest.raises(AuthFailed, match="rejected the credentials"):
        list(client(sleep).ticket_pages(start_time=0))
    assert sleep.waits == []


def test_non_json_answers_are_bad_responses(http, sleep):
    http.get(EXPORT, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(BadResponse, match="other than JSON"):
        list(client(sleep).ticket_pages(start_time=0))


def test_secrets_never_reach_the_logs(http, sleep, caplog):
    caplog.set_level(logging.DEBUG)
    http.get(EXPORT, status=503, json={})
    http.get(EXPORT, body=requests.ConnectionError("boom"))
    http.get(EXPORT, json=export_page())
    list(client(sleep).ticket_pages(start_time=0))
    assert TOKEN not in caplog.text and "agent@acme.com" not in caplog.text


def test_requested_tickets_stop_at_the_last_sync(http, sleep):
    from datetime import UTC, datetime
    tickets = []
    for ticket_id, updated in ((3, "2024-03-03T00:00:00Z"), (2, "2024-02-02T00:00:00Z"),
                               (1, "2024-01-01T00:00:00Z")):
        ticket = dict(example("CursorBasedExportIncrementalTicketsResponseExample")["tickets"][0],
                      id=ticket_id, updated_at=updated, requester_id=5)
        tickets.append(ticket)
    http.get(f"{BASE}/api/v2/users/5/tickets/requested",
             json={"tickets": tickets, "meta": {"has_more": True, "after_cursor": "x"}},
             match=[matchers.query_param_matcher({"sort": "-updated_at", "page[size]": "100",
                                                  "include": "metric_sets"})])
    facts = client(sleep).requested_tickets(5, updated_since=datetime(2024, 2, 1, tzinfo=UTC))
    assert [f.ticket.id for f in facts] == [3, 2]


def test_user_comes_with_its_organization(http, sleep):
    user = dict(example("CursorBasedExportIncrementalUsersResponseExample")["users"][0])
    org = example("ExportIncrementalOrganizationsResponseExample")["organizations"][0]
    http.get(f"{BASE}/api/v2/users/35436",
             json={"user": dict(user, organization_id=org["id"]), "organizations": [org]},
             match=[matchers.query_param_matcher({"include": "organizations"})])
    fact, organization = client(sleep).user(35436)
    assert organization.name == "Groablet Enterprises"
    assert fact.organization_id == org["id"]


def test_unknown_user_is_not_found(http, sleep):
    http.get(f"{BASE}/api/v2/users/9", status=404, json={"error": "RecordNotFound"})
    with pytest.raises(NotFound):
        client(sleep, mode="web").user(9)


def test_tag_updates_add_and_remove_in_bulk_and_wait_for_the_job(http, sleep):
    queued = copy.deepcopy(example("ShowJobStatusResponseExample"))
    queued["job_status"].update(status="queued", results=None)
    http.put(f"{BASE}/api/v2/tickets/update_many", json=queued, match=[
        matchers.query_param_matcher({"ids": "1,2"}),
        matchers.json_params_matcher({"ticket": {"additional_tags": ["cv_high"],
                                                 "remove_tags": ["cv_low"]}})])
    job_id = queued["job_status"]["id"]
    http.get(f"{BASE}/api/v2/job_statuses/{job_id}", json=example("ShowJobStatusResponseExample"))
    zendesk = client(sleep)
    job = zendesk.update_tags([1, 2], add=["cv_high"], remove=["cv_low"])
    assert job.status == "queued"
    done = zendesk.wait_for(job)
    assert done.status == "completed" and done.failed == []


def test_bulk_updates_take_at_most_a_hundred_tickets(sleep):
    with pytest.raises(ValueError, match="1 to 100"):
        client(sleep).update_tags(list(range(101)), add=["x"], remove=[])


def test_safe_update_conflicts_are_typed(http, sleep):
    http.put(f"{BASE}/api/v2/tickets/7", status=409,
             json={"error": "UpdateConflict", "description": "Safe Update prevented"},
             match=[matchers.json_params_matcher({"ticket": {
                 "tags": ["a"], "safe_update": True, "updated_stamp": "2024-01-01T00:00:00Z"}})])
    with pytest.raises(Conflict):
        client(sleep).set_tags_safely(7, ["a"], "2024-01-01T00:00:00Z")


@pytest.mark.parametrize(("attempt", "status", "retry_after", "mode", "waited", "expected"), [
    (1, 429, 12.0, "background", 0, 12.0),
    (1, 429, 12.0, "web", 0, None),
    (1, 429, 12.0, "background", 295, None),
    (1, 429, None, "background", 0, 60.0),
    (1, 400, None, "background", 0, None),
    (1, 404, None, "background", 0, None),
    (MAX_ATTEMPTS, 503, None, "background", 0, None),
    (MAX_ATTEMPTS, None, None, "web", 0, None),
])
def test_retry_decisions(attempt, status, retry_after, mode, waited, expected):
    assert retry_delay(attempt, status, retry_after, mode=mode, waited=waited, budget=300,
                       rng=random.Random(0)) == expected


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_backoff_is_full_jitter_under_a_growing_cap(attempt):
    delays = [retry_delay(attempt, 503, None, mode="web", waited=0, budget=0,
                          rng=random.Random(seed)) for seed in range(200)]
    assert all(0 <= d <= 0.5 * 2 ** attempt for d in delays)
    assert max(delays) > 0.4 * 2 ** attempt


def test_config_from_the_environment():
    config = ZendeskConfig.from_env({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c",
                                     "ZENDESK_API_TOKEN": TOKEN})
    assert config.base_url == "https://acme.zendesk.com"
    assert config.auth == ("a@b.c/token", TOKEN)
    assert TOKEN not in repr(config)
    sandbox = ZendeskConfig.from_env({"ZENDESK_BASE_URL": "http://127.0.0.1:8765/",
                                      "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "t"})
    assert sandbox.base_url == "http://127.0.0.1:8765"
    with pytest.raises(ValueError, match="ZENDESK_SUBDOMAIN .*ZENDESK_API_TOKEN"):
        ZendeskConfig.from_env({"ZENDESK_EMAIL": "a@b.c"})


@pytest.mark.parametrize(("user", "role", "asks_custom_role"), [
    ({"role": "admin", "custom_role_id": None}, "admin", False),
    ({"role": "agent", "custom_role_id": 7}, "team_lead", True),
    ({"role": "agent", "custom_role_id": 8}, "agent", True),
    ({"role": "agent", "custom_role_id": None}, "agent", False),
    ({"role": "end-user"}, "end-user", False),
])
def test_staff_roles_name_team_leads_by_their_custom_role(http, sleep, user, role,
                                                          asks_custom_role):
    http.get(f"{BASE}/api/v2/users/5", json={"user": {"id": 5, "name": "Kim Lee", **user}})
    if asks_custom_role:
        name = "Team lead" if user["custom_role_id"] == 7 else "Staff"
        http.get(f"{BASE}/api/v2/custom_roles/{user['custom_role_id']}",
                 json={"custom_role": {"id": user["custom_role_id"], "name": name,
                                       "role_type": 0}})
    assert client(sleep).staff(5) == (role, "Kim Lee")
