"""The `customer-value` command as a user runs it: the installed script, in a subprocess."""

import json
import subprocess

import pytest

from tests.commands import SCRIPT
from tests.records import TICKET, USER, write

pytestmark = pytest.mark.slow  # sandbox servers, subprocesses or browsers

CONTRACT = {"user_id", "value", "tier", "benefits", "costs", "suggestions", "computed_at"}


def run(*args: str) -> subprocess.CompletedProcess:
    assert SCRIPT, "the customer-value script is not installed beside this Python"
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def dataset(tmp_path):
    tickets = [dict(TICKET, id=10 + i, created_at=f"2024-0{i}-01T00:00:00Z",
                    updated_at=f"2024-0{i}-02T00:00:00Z") for i in range(1, 5)]
    other = dict(USER, id=2, name="<script>alert('x')</script>", organization_id=None,
                 user_fields={})
    return write(tmp_path, users={"users": [USER, other]}, tickets={"tickets": tickets})


def test_score_prints_the_contract_json(dataset):
    done = run("score", "--data", str(dataset), "--user", "1", "--json",
               "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= CONTRACT
    assert result["user_id"] == 1 and result["computed_at"] == "2024-06-01T00:00:00Z"
    assert result["tier"] in ("high", "medium", "low")
    for part in result["benefits"] + result["costs"]:
        assert {"signal", "points", "evidence"} <= set(part)
    for suggestion in result["suggestions"]:
        assert {"id", "title", "reason"} <= set(suggestion)
    assert result["value"] == round(result["total_benefits"] - result["total_costs"], 1)


def test_score_is_repeatable_with_a_fixed_clock(dataset):
    args = ("score", "--data", str(dataset), "--user", "1", "--json", "--now",
            "2024-06-01T00:00:00+02:00")
    assert run(*args).stdout == run(*args).stdout


def test_human_output_shows_bars_and_keeps_names_verbatim(dataset):
    done = run("score", "--data", str(dataset), "--user", "2", "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<script>alert('x')</script> (user 2): value")
    assert "Benefits (" in done.stdout and "Costs (" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--user", "99"), "error: user 99 is not in"),
    (("--user", "1", "--now", "tomorrow"), "is not an ISO 8601 timestamp"),
    (("--user", "1", "--now", "2024-06-01T00:00:00"), "has no time zone"),
    (("--user", "0"), "0 is not in the range x>=1"),
])
def test_bad_arguments_say_what_is_wrong(dataset, args, message):
    done = run("score", "--data", str(dataset), *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_data_lists_the_problems_without_a_traceback(tmp_path):
    write(tmp_path, tickets={"tickets": [dict(TICKET, created_at="2024-01-01 10:00")]})
    done = run("score", "--data", str(tmp_path), "--user", "1", "--json")
    assert done.returncode == 1
    assert "has no time zone" in done.stderr and "--skip-invalid" in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    skipped = run("score", "--data", str(tmp_path), "--user", "1", "--json", "--skip-invalid")
    assert skipped.returncode == 0, skipped.stderr
    assert "warning: 1 record(s) left out" in skipped.stderr


def test_missing_folder(tmp_path):
    done = run("score", "--data", str(tmp_path / "nope"), "--user", "1")
    assert done.returncode == 1 and "not a folder" in done.stderr


def test_settings_file_is_validated_and_applied(dataset, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"weights": {"tenure": -3}, "currency": "dollars"}))
    done = run("score", "--data", str(dataset), "--user", "1", "--settings", str(bad))
    assert done.returncode == 1
    assert "weights.tenure: must be between 0 and 100" in done.stderr
    assert "currency: must be a three-letter ISO 4217 code" in done.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"version": 3, "tiers": {"mode": "percentile", "high": 50,
                                                       "low": 10}}))
    done = run("score", "--data", str(dataset), "--user", "1", "--json", "--settings", str(good),
               "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # User 1 has tickets, ratings and spend; user 2 has nothing: 1 sits at the top percentile.
    assert result["settings_version"] == 3 and result["tier"] == "high"


def test_settings_that_are_not_json(dataset, tmp_path):
    broken = tmp_path / "s.json"
    broken.write_text("{weights:")
    done = run("score", "--data", str(dataset), "--user", "1", "--settings", str(broken))
    assert done.returncode == 1 and "is not valid JSON" in done.stderr


def test_generate_then_score_every_customer(tmp_path):
    out = tmp_path / "account"
    done = run("generate", "--customers", "60", "--out", str(out), "--seed", "3",
               "--now", "2025-06-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "Wrote 60 users" in done.stdout
    users = json.loads((out / "users.json").read_text(encoding="utf-8"))["users"]
    for user in users[:5]:
        scored = run("score", "--data", str(out), "--user", str(user["id"]), "--json",
                     "--now", "2025-06-01T00:00:00Z")
        assert scored.returncode == 0, scored.stderr
        assert json.loads(scored.stdout)["user_id"] == user["id"]


def test_generate_refuses_a_file_as_its_folder(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    done = run("generate", "--customers", "5", "--out", str(target))
    assert done.returncode == 1 and "is not a folder" in done.stderr


def test_demo_shows_an_account_at_a_glance():
    done = run("summary", "--customers", "40")
    assert done.returncode == 0, done.stderr
    for heading in ("Customers by tier", "Values (bins of 10)", "Highest value", "Lowest value",
                    "Benefits (", "Costs ("):
        assert heading in done.stdout
