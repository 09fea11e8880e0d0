"""The sandbox speaks Zendesk's JSON: every key it emits is declared in Zendesk's own OpenAPI
descriptions (../shared/reference), and every envelope carries the keys its response schema
declares. Loaded records, records the sandbox makes itself (a created ticket and its metrics, a
job status, a webhook, a trigger, the signed-in admin) and error bodies are all checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from integrations.sandbox import running_sandbox
from tests import sandbox_fixtures
from tests.reference import schema_properties
from tests.sandbox_fixtures import NOW, REFERENCE, UNLIMITED, Api

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

dataset = sandbox_fixtures.dataset

Record = dict[str, Any]
SUPPORT = REFERENCE / "zendesk-support-openapi.yaml"
WEBHOOKS = REFERENCE / "zendesk-webhooks-openapi.yaml"
JOB_SECONDS = 0.1
PAGE = {"page[size]": 5}
SIDELOADS = {"metric_sets", "users", "organizations"}


@cache
def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def declared(name: str, path: Path = SUPPORT) -> set[str]:
    """Property names of `components.schemas.<name>` (anyOf/allOf followed)."""
    names = schema_properties(lines(path), name)
    assert names, f"{name} declares no properties in {path.name}"
    return names


def nested(name: str, field: str, path: Path = SUPPORT) -> set[str]:
    """Property names of the object property `field` of schema `name`."""
    text = lines(path)
    start = text.index(f"    {name}:")
    field_at = next(i for i in range(start + 1, len(text)) if text[i] == f"        {field}:")
    names = set()
    for line in text[field_at + 1:]:
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent <= 8:
            break
        if indent == 12 and line.rstrip().endswith(":"):
            names.add(line.strip()[:-1])
    return names


@pytest.fixture(scope="module")
def samples(dataset: Path) -> Iterator[dict[str, Any]]:
    """Answers of a sandbox that has also created a ticket, run a job, stored a webhook and a
    trigger: the records and envelopes to check, by name."""
    with running_sandbox(dataset, now=NOW, job_seconds=JOB_SECONDS, **UNLIMITED) as base:
        api = Api(base)
        try:
            yield collect(api)
        finally:
            api.close()


def collect(api: Api) -> dict[str, Any]:
    ticket = api.send("POST", "/tickets", {"ticket": {"subject": "Hi", "comment": {
        "body": "Hello"}, "requester_id": 10_000_001}}).json()["ticket"]
    queued = api.send("PUT", "/tickets/update_many", {"ticket": {"additional_tags": ["x"]}},
                      ids=f"{ticket['id']},999999").json()
    time.sleep(JOB_SECONDS * 2)
    job = api.get(f"/job_statuses/{queued['job_status']['id']}").json()
    webhook = api.send("POST", "/webhooks", {"webhook": {
        "name": "Tagger", "endpoint": "https://example.com/hook", "http_method": "POST",
        "request_format": "json", "status": "active",
        "subscriptions": ["conditional_ticket_events"]}}).json()
    trigger = api.send("POST", "/triggers", {"trigger": {
        "title": "T", "conditions": {"all": [{"field": "status", "operator": "less_than",
                                              "value": "solved"}]},
        "actions": [{"field": "status", "value": "open"}]}}).json()
    hook = f"/webhooks/{webhook['webhook']['id']}"
    answers = {
        "ticket_export": api.get("/incremental/tickets/cursor", start_time=0,
                                 include="metric_sets,users,organizations"),
        "user_export": api.get("/incremental/users/cursor", start_time=0),
        "organization_export": api.get("/incremental/organizations", start_time=0),
        "tickets_cursor": api.get("/tickets", **PAGE), "tickets_offset": api.get("/tickets"),
        "ticket": api.get(f"/tickets/{ticket['id']}"),
        "tickets_many": api.get("/tickets/show_many", ids=ticket["id"]),
        "ticket_metrics": api.get("/ticket_metrics", **PAGE),
        "ticket_metric": api.get(f"/tickets/{ticket['id']}/metrics"),
        "ratings": api.get("/satisfaction_ratings", **PAGE),
        "search": api.get("/search", query="type:ticket status:open"),
        "search_export": api.get("/search/export", query="status:open", **PAGE,
                                 **{"filter[type]": "ticket"}),
        "user": api.get("/users/10000001"), "me": api.get("/users/me"),
        "users_many": api.get("/users/show_many", ids="10000001"),
        "tags": api.get(f"/tickets/{ticket['id']}/tags"),
        "triggers": api.get("/triggers"),
        "trigger": api.get(f"/triggers/{trigger['trigger']['id']}"),
        "webhooks": api.get("/webhooks"), "webhook": api.get(hook),
        "signing_secret": api.get(f"{hook}/signing_secret"),
        "not_found": api.get("/tickets/999999"),
        "unauthorized": Api(api.base, auth=None).session.get(api.url("/tickets/1"), timeout=5),
    }
    assert all(r.status_code == 200 for k, r in answers.items()
               if k not in ("not_found", "unauthorized")), {k: r.status_code for k, r in
                                                              answers.items()}
    return {"queued": queued, "job": job, "created": {"ticket": ticket},
            **{name: response.json() for name, response in answers.items()}}


def test_tickets_carry_only_declared_keys(samples: dict[str, Any]) -> None:
    tickets = [*samples["ticket_export"]["tickets"], *samples["tickets_cursor"]["tickets"],
               samples["ticket"]["ticket"], samples["created"]["ticket"],
               *samples["search"]["results"]]
    allowed = declared("TicketObject") | {"result_type"}
    assert tickets and all(set(t) <= allowed for t in tickets), [
        set(t) - allowed for t in tickets]


@pytest.mark.parametrize(("sample", "key", "schema"), [
    ("user_export", "users", "UserObject"), ("ticket_export", "users", "UserObject"),
    ("users_many", "users", "UserObject"),
    ("organization_export", "organizations", "OrganizationObject"),
    ("ticket_export", "organizations", "OrganizationObject"),
    ("ticket_export", "metric_sets", "TicketMetricObject"),
    ("ticket_metrics", "ticket_metrics", "TicketMetricObject"),
    ("ratings", "satisfaction_ratings", "SatisfactionRatingObject"),
    ("triggers", "triggers", "TriggerObject"),
])
def test_listed_records_carry_only_declared_keys(samples: dict[str, Any], sample: str, key: str,
                                                 schema: str) -> None:
    records = samples[sample][key]
    assert records
    for record in records:
        assert set(record) <= declared(schema), set(record) - declared(schema)


@pytest.mark.parametrize(("sample", "key", "schema"), [
    ("user", "user", "UserObject"), ("me", "user", "UserForAdmin"),
    ("ticket_metric", "ticket_metric", "TicketMetricObject"),
    ("trigger", "trigger", "TriggerObject"), ("queued", "job_status", "JobStatusObject"),
    ("job", "job_status", "JobStatusObject"),
])
def test_single_records_carry_only_declared_keys(samples: dict[str, Any], sample: str, key: str,
                                                 schema: str) -> None:
    assert set(samples[sample][key]) <= declared(schema)


def test_job_results_are_zendesk_result_objects(samples: dict[str, Any]) -> None:
    job = samples["job"]["job_status"]
    assert job["status"] == "completed"
    allowed = declared("UpdateResourceResult") | declared("FailedResult")
    assert [r["success"] for r in job["results"]] == [True, False]
    assert all(set(r) <= allowed for r in job["results"])
    assert set(declared("FailedResult")) <= set(job["results"][1])


def test_webhooks_carry_only_declared_keys(samples: dict[str, Any]) -> None:
    webhooks = [*samples["webhooks"]["webhooks"], samples["webhook"]["webhook"]]
    assert all(set(w) <= declared("Webhook", WEBHOOKS) for w in webhooks)
    required_and_read_only = {"name", "endpoint", "http_method", "request_format", "status",
                              "id", "created_at", "created_by", "updated_at", "updated_by"}
    assert all(required_and_read_only <= set(w) for w in webhooks)
    assert set(samples["signing_secret"]["signing_secret"]) == declared(
        "WebhookSigningSecret", WEBHOOKS)


@pytest.mark.parametrize(("sample", "schemas", "extra"), [
    ("ticket_export", ("CursorBasedExportIncrementalTicketsResponse",), SIDELOADS),
    ("user_export", ("CursorBasedExportIncrementalUsersResponse",), set()),
    ("organization_export", ("ExportIncrementalOrganizationsResponse",), set()),
    ("tickets_cursor", ("TicketsResponse", "Pagination"), set()),
    ("tickets_offset", ("TicketsResponse",), {"next_page", "previous_page", "count"}),
    ("tickets_many", ("TicketsResponse",), set()),
    ("ticket", ("TicketResponse",), set()),
    ("ticket_metrics", ("TicketMetricsResponse", "Pagination"), set()),
    ("ratings", ("SatisfactionRatingsResponse", "Pagination"), set()),
    ("search", ("SearchResponse",), set()),
    ("search_export", ("SearchExportResponse",), set()),
    ("user", ("UserResponse",), set()), ("me", ("CurrentUserResponse",), set()),
    ("users_many", ("UsersResponse",), set()),
    ("tags", ("TagsByObjectIdResponse",), set()),
    ("queued", ("JobStatusResponse",), set()),
    ("triggers", ("TriggersResponse",), set()), ("trigger", ("TriggerResponse",), set()),
])
def test_envelopes_carry_the_declared_keys(samples: dict[str, Any], sample: str,
                                           schemas: tuple[str, ...], extra: set[str]) -> None:
    expected = set().union(*(declared(schema) for schema in schemas))
    assert set(samples[sample]) - extra == expected


@pytest.mark.parametrize("sample", ["tickets_cursor", "ticket_metrics", "ratings"])
def test_cursor_pagination_meta_and_links_are_declared(samples: dict[str, Any],
                                                       sample: str) -> None:
    assert set(samples[sample]["meta"]) == nested("Pagination", "meta")
    assert set(samples[sample]["links"]) == nested("Pagination", "links")


@pytest.mark.parametrize(("sample", "schemas"), [
    ("search_export", ("SearchExportResponse",)),
    ("webhooks", ("WebhookListResponse",)),
])
def test_newer_list_envelopes_are_declared(samples: dict[str, Any], sample: str,
                                           schemas: tuple[str, ...]) -> None:
    path = WEBHOOKS if sample == "webhooks" else SUPPORT
    schema = schemas[0]
    assert set(samples[sample]) <= declared(schema, path)
    if sample == "search_export":
        assert set(samples[sample]["meta"]) == nested(schema, "meta")
        assert set(samples[sample]["links"]) == nested(schema, "links")
    else:
        assert set(samples[sample]["meta"]) <= declared("PaginationMeta", WEBHOOKS)
        assert set(samples[sample]["links"]) == declared("PaginationLinks", WEBHOOKS)


def test_errors_use_zendesk_shapes(samples: dict[str, Any]) -> None:
    assert samples["not_found"] == {"error": "RecordNotFound", "description": "Not found"}
    assert samples["unauthorized"] == {"error": "Couldn't authenticate you"}
