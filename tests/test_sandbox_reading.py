"""The sandbox's read endpoints, over real HTTP: exports, lists, archiving, search and errors.

Expected answers come from the generated dataset files themselves.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import sandbox_fixtures
from tests.sandbox_fixtures import NOW, Api, archived_ids, epoch, read, walk_export, walk_pages

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

dataset = sandbox_fixtures.dataset
sandbox = sandbox_fixtures.sandbox
api = sandbox_fixtures.api

Record = dict[str, Any]


@pytest.fixture(scope="module")
def files(dataset: Path) -> dict[str, list[Record]]:
    names = ("tickets", "users", "organizations", "ticket_metrics", "satisfaction_ratings",
             "survey_responses")
    return {name: read(dataset, name) for name in names}


@pytest.fixture(scope="module")
def archived(files: dict[str, list[Record]]) -> set[int]:
    ids = archived_ids(files["tickets"])
    assert 0 < len(ids) < len(files["tickets"])
    return ids


def test_ticket_export_walks_every_ticket_once_in_change_order(
        api: Api, files: dict[str, list[Record]]) -> None:
    tickets, pages = walk_export(api, "/incremental/tickets/cursor", "tickets", start_time=0,
                                 per_page=250)
    ids = [t["id"] for t in tickets]
    assert Counter(ids) == Counter(t["id"] for t in files["tickets"])
    order = [(epoch(t["updated_at"]), t["id"]) for t in tickets]
    assert order == sorted(order)
    assert len(pages) == -(-len(ids) // 250)
    assert [p["end_of_stream"] for p in pages] == [False] * (len(pages) - 1) + [True]
    assert all(p["after_cursor"] and p["after_url"] for p in pages)
    again = api.get(pages[-1]["after_url"]).json()
    assert again["tickets"] == [] and again["end_of_stream"] is True
    assert again["after_cursor"] == pages[-1]["after_cursor"]


def test_export_starts_at_start_time(api: Api, files: dict[str, list[Record]]) -> None:
    start = epoch("2025-01-01T00:00:00Z")
    tickets, _ = walk_export(api, "/incremental/tickets/cursor.json", "tickets",
                             start_time=start)
    expected = {t["id"] for t in files["tickets"] if epoch(t["updated_at"]) >= start}
    assert {t["id"] for t in tickets} == expected and len(tickets) == len(expected)


def test_metric_sets_sideload_covers_each_page_archived_included(
        api: Api, archived: set[int]) -> None:
    _, pages = walk_export(api, "/incremental/tickets/cursor", "tickets", start_time=0,
                           per_page=500, include="metric_sets")
    seen = set()
    for page in pages:
        page_ids = {t["id"] for t in page["tickets"]}
        assert {m["ticket_id"] for m in page["metric_sets"]} == page_ids
        seen |= page_ids
    assert archived <= seen


def test_users_and_organizations_sideloads(api: Api) -> None:
    page = api.get("/incremental/tickets/cursor", start_time=0, per_page=50,
                   include="users,organizations").json()
    requesters = {t["requester_id"] for t in page["tickets"]}
    assert requesters <= {u["id"] for u in page["users"]}
    orgs = {t["organization_id"] for t in page["tickets"]} - {None}
    assert {o["id"] for o in page["organizations"]} == orgs


def test_user_and_organization_exports(api: Api, files: dict[str, list[Record]]) -> None:
    users, _ = walk_export(api, "/incremental/users/cursor", "users", start_time=0, per_page=70)
    assert sorted(u["id"] for u in users) == sorted(u["id"] for u in files["users"])
    seen: set[int] = set()
    response = api.get("/incremental/organizations", start_time=0, per_page=10)
    for _ in range(100):
        page = response.json()
        assert set(page) >= {"organizations", "next_page", "end_time", "end_of_stream", "count"}
        assert page["count"] == len(page["organizations"])
        seen |= {o["id"] for o in page["organizations"]}
        if page["end_of_stream"]:
            break
        response = api.get(page["next_page"])
    assert seen == {o["id"] for o in files["organizations"]}


@pytest.mark.parametrize(("params", "status"), [
    ({}, 400),
    ({"start_time": int((NOW + timedelta(days=1)).timestamp())}, 400),
    ({"cursor": "not-a-cursor"}, 400),
    ({"start_time": "yesterday"}, 400),
    ({"start_time": 0, "include": "comments"}, 400),
])
def test_export_refuses_bad_positions(api: Api, params: dict[str, Any], status: int) -> None:
    response = api.get("/incremental/tickets/cursor", **params)
    assert response.status_code == status
    body = response.json()
    assert body.get("error") or body.get("errors")


def test_archived_tickets_leave_lists_and_metrics_but_not_show(
        api: Api, files: dict[str, list[Record]], archived: set[int]) -> None:
    ticket = next(t for t in files["tickets"] if t["id"] in archived)
    active_ids = {t["id"] for t in files["tickets"]} - archived
    assert api.get(f"/tickets/{ticket['id']}").json()["ticket"]["id"] == ticket["id"]
    shown = api.get("/tickets/show_many", ids=f"{ticket['id']},{min(active_ids)}").json()
    assert [t["id"] for t in shown["tickets"]] == [ticket["id"], min(active_ids)]
    assert api.get(f"/tickets/{ticket['id']}/metrics").status_code == 404
    metric = api.get(f"/tickets/{min(active_ids)}/metrics").json()["ticket_metric"]
    assert metric["ticket_id"] == min(active_ids)
    listed = walk_pages(api, "/tickets", "tickets", **{"page[size]": 100})
    assert sorted(t["id"] for t in listed) == sorted(active_ids)
    metrics = walk_pages(api, "/ticket_metrics", "ticket_metrics", **{"page[size]": 100})
    assert sorted(m["ticket_id"] for m in metrics) == sorted(active_ids)
    created = [epoch(m["created_at"]) for m in metrics]
    assert created == sorted(created, reverse=True)


def test_requested_tickets_leave_archived_out(
        api: Api, files: dict[str, list[Record]], archived: set[int]) -> None:
    by_requester: dict[int, set[int]] = {}
    for t in files["tickets"]:
        by_requester.setdefault(t["requester_id"], set()).add(t["id"])
    requester, ids = next((r, ids) for r, ids in by_requester.items()
                          if ids & archived and ids - archived and len(ids) > 3)
    listed = walk_pages(api, f"/users/{requester}/tickets/requested", "tickets",
                        **{"page[size]": 2, "sort": "-updated_at"})
    assert {t["id"] for t in listed} == ids - archived
    stamps = [epoch(t["updated_at"]) for t in listed]
    assert stamps == sorted(stamps, reverse=True)
    found = api.get("/search", query=f"type:ticket requester:{requester}").json()
    assert {r["id"] for r in found["results"]} == ids
    assert {r["result_type"] for r in found["results"]} == {"ticket"}
    assert api.get("/users/1/tickets/requested").status_code == 404


def test_offset_pagination_counts_and_links(api: Api, archived: set[int],
                                            files: dict[str, list[Record]]) -> None:
    first = api.get("/tickets", per_page=40).json()
    assert first["count"] == len(files["tickets"]) - len(archived)
    assert len(first["tickets"]) == 40 and first["previous_page"] is None
    second = api.get(first["next_page"]).json()
    assert second["previous_page"] and second["tickets"][0]["id"] > first["tickets"][-1]["id"]


def test_cursor_pages_clamp_size_and_go_back(api: Api) -> None:
    first = api.get("/tickets", **{"page[size]": 1000}).json()
    assert len(first["tickets"]) == 100 and first["meta"]["has_more"]
    second = api.get(first["links"]["next"]).json()
    back = api.get(second["links"]["prev"]).json()
    assert [t["id"] for t in back["tickets"]] == [t["id"] for t in first["tickets"]]
    bad = api.get("/tickets", **{"page[after]": "garbage"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "InvalidPaginationParameter"


def test_satisfaction_ratings_filter_by_score_and_time(
        api: Api, files: dict[str, list[Record]]) -> None:
    start, end = epoch("2024-01-01T00:00:00Z"), epoch("2025-01-01T00:00:00Z")
    listed = walk_pages(api, "/satisfaction_ratings", "satisfaction_ratings",
                        **{"score": "bad", "start_time": start, "end_time": end,
                           "page[size]": 25})
    expected = {r["id"] for r in files["satisfaction_ratings"]
                if r["score"] == "bad" and start <= epoch(r["created_at"]) <= end}
    assert expected and {r["id"] for r in listed} == expected
    received = api.get("/satisfaction_ratings", score="received", **{"page[size]": 500}).json()
    assert len(received["satisfaction_ratings"]) == 100


def test_survey_responses_filter_by_creation(api: Api, files: dict[str, list[Record]]) -> None:
    start, end = "2024-06-01T00:00:00Z", "2025-03-01T00:00:00Z"
    # Zendesk documents both filters as Unix epoch time in milliseconds.
    listed = walk_pages(api, "/guide/survey_responses", "survey_responses",
                        **{"filter[created_at_start]": str(epoch(start) * 1000),
                           "filter[created_at_end]": str(epoch(end) * 1000),
                           "page[size]": 10})

    def rated(response: Record) -> int:
        return epoch(response["answers"][0]["created_at"])

    expected = {r["id"] for r in files["survey_responses"]
                if epoch(start) <= rated(r) <= epoch(end)}
    assert expected and {r["id"] for r in listed} == expected


def test_search_filters_and_pages(api: Api, files: dict[str, list[Record]]) -> None:
    tag = "billing"
    expected = {t["id"] for t in files["tickets"]
                if tag in t["tags"] and t["status"] in ("new", "open", "pending", "hold")}
    first = api.get("/search", query=f"type:ticket tags:{tag} status<solved", per_page=5).json()
    assert first["count"] == len(expected) and len(first["results"]) == 5
    found, page = [], first
    while True:
        found += [r["id"] for r in page["results"]]
        if not page["next_page"]:
            break
        page = api.get(page["next_page"]).json()
    assert sorted(found) == sorted(expected)
    assert api.get("/search", query="type:user").json()["count"] == 0
    assert api.get("/search", query="type:ticket", page=11).status_code == 422
    assert api.get("/search/count", query=f"tags:{tag} status<solved").json() == {
        "count": len(expected)}


def test_search_export_pages_by_cursor(api: Api, files: dict[str, list[Record]]) -> None:
    listed = walk_pages(api, "/search/export", "results",
                        **{"query": "status:closed", "filter[type]": "ticket",
                           "page[size]": 200})
    assert sorted(r["id"] for r in listed) == sorted(
        t["id"] for t in files["tickets"] if t["status"] == "closed")
    assert api.get("/search/export", query="status:closed").status_code == 400
    assert api.get("/search/export", query="type:ticket",
                   **{"filter[type]": "ticket"}).status_code == 400


def test_people_and_not_found_shapes(api: Api, files: dict[str, list[Record]]) -> None:
    me = api.get("/users/me").json()["user"]
    assert me["role"] == "admin" and api.get(f"/users/{me['id']}").json()["user"] == me
    user, org = files["users"][0], files["organizations"][0]
    assert api.get(f"/users/{user['id']}.json").json() == {"user": user}
    assert api.get(f"/organizations/{org['id']}").json() == {"organization": org}
    many = api.get("/users/show_many", ids=f"{user['id']},1").json()
    assert [u["id"] for u in many["users"]] == [user["id"]]
    assert api.get("/tickets/999999").json() == {"error": "RecordNotFound",
                                                 "description": "Not found"}
    missing = api.get("/no/such/endpoint")
    assert missing.status_code == 404 and missing.json()["error"] == "InvalidEndpoint"
    assert api.get("/tickets/show_many", ids="1,x").status_code == 400
