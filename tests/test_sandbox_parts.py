"""The sandbox's parts on their own: loading a dataset folder, the clock, cursors, the search
language, the rate window, ticket edits, the knobs, and the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from integrations.sandbox import SandboxConfig, Store, create_app
from integrations.sandbox.clock import Clock, iso, parse_iso
from integrations.sandbox.config import ConfigError
from integrations.sandbox.editing import bulk_tasks, check_safe_update, tag_list, updated
from integrations.sandbox.errors import ApiError
from integrations.sandbox.faults import RateWindow
from integrations.sandbox.loader import SandboxDataError
from integrations.sandbox.paging import (
    decode_cursor,
    decode_position,
    encode_cursor,
    encode_position,
    start_position,
)
from integrations.sandbox.search import parse
from integrations.sandbox.server import sandbox_command
from tests import sandbox_fixtures
from tests.sandbox_fixtures import AUTH, NOW, read

dataset = sandbox_fixtures.dataset

STAMP = "2025-05-01T10:00:00Z"


def copy_folder(source: Path, target: Path, *, pretty: tuple[str, ...] = (),
                skip: tuple[str, ...] = ()) -> Path:
    """A copy of a dataset folder; `pretty` files rewritten as the API saves them (indented,
    with `next_page` and `count`), `skip` files left out."""
    target.mkdir()
    for path in source.iterdir():
        name = path.stem
        if name in skip:
            continue
        if name in pretty:
            records = read(source, name)
            document = {name: records, "next_page": None, "count": len(records)}
            path = target / path.name
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")
        else:
            (target / path.name).write_bytes(path.read_bytes())
    return target


def test_any_file_layout_loads_the_same(dataset: Path, tmp_path: Path) -> None:
    pretty = copy_folder(dataset, tmp_path / "pretty", pretty=("tickets", "users"))
    with Store.open(dataset, NOW) as streamed, Store.open(pretty, NOW) as whole:
        assert streamed.counts == whole.counts
        assert streamed.counts["tickets"] == len(read(dataset, "tickets"))
        first = streamed.changes("tickets", -1, 50)
        assert [json.loads(t) for *_, t in first] == [
            json.loads(t) for *_, t in whole.changes("tickets", -1, 50)]


def test_unusable_folders_are_refused(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxDataError, match="tickets.json missing"):
        Store.open(copy_folder(dataset, tmp_path / "a", skip=("tickets",)), NOW)
    broken = copy_folder(dataset, tmp_path / "b", skip=("users",))
    (broken / "users.json").write_text('{"users": [', encoding="utf-8")
    with pytest.raises(SandboxDataError, match="users.json"):
        Store.open(broken, NOW)
    (broken / "users.json").write_text('{"users":[\n{"name":"No id"}\n]}\n', encoding="utf-8")
    with pytest.raises(SandboxDataError, match="without an integer id"):
        Store.open(broken, NOW)
    with pytest.raises(SandboxDataError, match="not a folder"):
        Store.open(tmp_path / "nowhere", NOW)


def test_an_account_without_surveys_has_no_survey_endpoint(dataset: Path, tmp_path: Path) -> None:
    folder = copy_folder(dataset, tmp_path / "old_csat", skip=("survey_responses",))
    with Store.open(folder, NOW) as store:
        client = create_app(store, SandboxConfig()).test_client()
        response = client.get("/api/v2/guide/survey_responses", auth=AUTH)
        assert response.status_code == 404
        assert response.get_json() == {"error": "InvalidEndpoint", "description": "Not found"}
        assert client.get("/api/v2/satisfaction_ratings", auth=AUTH).status_code == 200


def test_the_clock_moves_on_and_dates_writes_after_the_data() -> None:
    ticks = iter([100.0, 100.0, 100.4, 130.0])
    clock = Clock(NOW, monotonic=lambda: next(ticks))
    start = int(NOW.timestamp())
    assert clock.now() == start
    assert clock.stamp() == start + 1
    assert clock.stamp() == start + 30
    assert iso(start) == "2025-06-01T12:00:00Z" and parse_iso("2025-06-01T12:00:00Z") == start
    with pytest.raises(ValueError):
        parse_iso("2025-06-01T12:00:00")


def test_cursors_round_trip_and_refuse_tampering() -> None:
    assert decode_cursor(encode_cursor("tickets:id", (5, 5)), "tickets:id", "x") == (5, 5)
    for token in ("", "bm9wZQ", encode_cursor("other", (5, 5))):
        with pytest.raises(ApiError) as refused:
            decode_cursor(token, "tickets:id", "page[after]")
        assert refused.value.status == 400
    seq = (1_576_613_539 << 32) | 467
    assert encode_position(seq) == "MTU3NjYxMzUzOS4wfHw0Njd8"
    assert decode_position(encode_position(seq)) == seq
    assert decode_position(encode_position(start_position(10))) == start_position(10)
    with pytest.raises(ApiError):
        decode_position("garbage!")


@pytest.mark.parametrize(("text", "kind", "conditions"), [
    ("type:ticket requester:5", "ticket", 1),
    ("requester_id:5 status<solved tags:vip -tags:trial", None, 4),
    ('"printer fire" updated>2days created:2024-01-01', None, 3),
    ("priority>=high ticket_type:incident", None, 2),
])
def test_search_queries_become_conditions(text: str, kind: str | None, conditions: int) -> None:
    query = parse(text, NOW.timestamp())
    assert query.kind == kind and len(query.conditions) == conditions


@pytest.mark.parametrize("text", ["status:done", "requester:bob", "created>yesterday",
                                  "assignee:me"])
def test_unreadable_search_terms_are_400(text: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse(text, NOW.timestamp())
    assert refused.value.status == 400


def test_the_rate_window_slides_over_a_minute() -> None:
    window = RateWindow()
    for moment in (0.0, 10.0):
        assert window.check(moment, 2).allowed
        window.admit(moment)
    refused = window.check(20.0, 2)
    assert (refused.allowed, refused.retry_after) == (False, 40)
    assert window.check(60.5, 2).allowed


def ticket(**changes: Any) -> dict[str, Any]:
    return {"id": 1, "status": "open", "tags": ["a"], "updated_at": STAMP, **changes}


def test_ticket_edits_follow_zendesk_rules() -> None:
    assert tag_list(["x y", "x"]) == ["x", "y"]
    edited = updated(ticket(), {"additional_tags": ["b"], "remove_tags": ["a"], "status": "solved"})
    assert (edited["tags"], edited["status"]) == (["b"], "solved")
    assert updated(ticket(), {"tags": ["c"]})["tags"] == ["c"]
    for record, changes, status in (
            (ticket(status="closed"), {"tags": []}, 422),
            (ticket(), {"priority": "asap"}, 422),
            (ticket(), {"safe_update": True, "updated_stamp": "2025-05-01T10:00:01Z"}, 409),
            (ticket(), {"safe_update": True}, 400)):
        with pytest.raises(ApiError) as refused:
            updated(record, changes)
        assert refused.value.status == status
    check_safe_update(ticket(), {"safe_update": "true", "updated_stamp": "2025-05-01T10:00:00Z"})
    with pytest.raises(ApiError):
        bulk_tasks(list(range(101)), {"ticket": {}}, 100)
    assert bulk_tasks([], {"tickets": [{"id": 3, "status": "open"}]}, 100) == [
        (3, {"id": 3, "status": "open"})]


def test_knobs_are_checked() -> None:
    config = SandboxConfig().updated({"rate_limit": None, "fault_kinds": ["drop"], "seed": "3"})
    assert (config.rate_limit, config.fault_kinds, config.seed) == (0, ("drop",), 3)
    assert SandboxConfig(token="x").public()["token"] == "********"
    for changes in ({"fault_rate": -0.1}, {"nope": 1}, {"slow_seconds": "long"}):
        with pytest.raises(ConfigError):
            SandboxConfig().updated(changes)


def test_the_command_refuses_bad_input(dataset: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert "--export-rate-limit" in runner.invoke(sandbox_command, ["--help"]).output
    bad_now = runner.invoke(sandbox_command, ["--data", str(dataset), "--now", "2025-06-01"])
    assert bad_now.exit_code == 2 and "time zone" in bad_now.output
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(sandbox_command, ["--data", str(empty), "--port", "0"])
    assert missing.exit_code == 1 and "users.json and tickets.json missing" in missing.output


@pytest.mark.slow
def test_the_command_serves_the_folder_until_stopped(dataset: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from integrations.sandbox import sandbox_command as c; c()",
               "--data", str(dataset), "--port", "0", "--now", "2025-06-01T12:00:00Z",
               "--token", "t", "--email", "a@example.com"]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, cwd=Path(__file__).resolve().parents[1],
                          env={**os.environ, "TMPDIR": str(scratch)}) as server:
        try:
            banner = server.stdout.readline()
            base = banner.split(" on ")[1].split()[0]
            with requests.Session() as session:
                session.auth = ("a@example.com/token", "t")
                clock = session.get(f"{base}/_sandbox/clock", timeout=5).json()
                assert parse_iso(clock["now"]) - NOW.timestamp() < timedelta(minutes=1).seconds
                assert session.get(f"{base}/api/v2/tickets/1.json", timeout=5).status_code == 200
            assert list(scratch.iterdir())
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert server.returncode == 0 and list(scratch.iterdir()) == []
