"""`customer-value settings …` as an operator runs it: the installed script, in a subprocess,
against the app's own database (an instance folder of its own per test)."""

import json
import subprocess

import pytest

from plugin.storage.schema import connect
from plugin.storage.versions import SettingsVersions
from tests.commands import cli

pytestmark = pytest.mark.slow  # subprocesses

ACCOUNT = {"ZENDESK_BASE_URL": "http://127.0.0.1:9", "ZENDESK_EMAIL": "ops@example.com",
           "ZENDESK_API_TOKEN": "unused", "USER": "operator"}


@pytest.fixture
def env(tmp_path):
    return {**ACCOUNT, "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance"),
            "CUSTOMER_VALUE_DATABASE_URL": "", "DATABASE_URL": ""}


def settings(env, *args) -> subprocess.CompletedProcess:
    return cli("settings", *args, env=env)


def saved_versions(env, tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'instance' / 'customer-value.db'}")
    try:
        with engine.connect() as conn:
            ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM accounts")]
        return SettingsVersions(engine, ids[0]).history() if ids else []
    finally:
        engine.dispose()


def test_export_then_apply_round_trips_to_equal_settings(env, tmp_path):
    exported = tmp_path / "settings.json"
    assert settings(env, "export", str(exported)).returncode == 0
    data = json.loads(exported.read_text())
    data["weights"]["ticket_volume"] = 60
    data["exchange_rates"] = {"EUR": 1.1}
    data["segments"] = [{"tag": "enterprise", "weights": {"lifetime_spend": 40}}]
    exported.write_text(json.dumps(data))

    applied = settings(env, "apply", str(exported), "--note", "heavier volume")
    assert applied.returncode == 0, applied.stderr
    assert "Weight: Ticket volume: 10 → 60" in applied.stdout
    assert "Saved as version 2." in applied.stdout

    again = tmp_path / "again.json"
    assert settings(env, "export", str(again)).returncode == 0
    assert json.loads(again.read_text()) == data
    assert "No changes" in settings(env, "diff", str(again)).stdout
    assert "No changes" in settings(env, "apply", str(again)).stdout

    [version] = saved_versions(env, tmp_path)
    assert (version.version, version.note) == (2, "heavier volume")
    assert version.author_name == "operator (command line)"
    history = settings(env, "history").stdout
    assert "v2   (current)" in history and "operator (command line)  heavier volume" in history


def test_an_invalid_file_changes_nothing_and_lists_every_problem(env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"weights": {"ticket_volume": 500, "charm": 3},
                               "currency": "usd", "tiers": {"high": 10, "low": 20},
                               "tag_high": "has space"}))
    for command in ("apply", "diff"):
        done = settings(env, command, str(bad))
        assert done.returncode == 1
        assert "has 5 problem(s); nothing was saved" in done.stderr
        for field in ("weights.ticket_volume", "weights.charm", "currency", "tiers.low",
                      "tag_high"):
            assert f"({field})" in done.stderr
    assert saved_versions(env, tmp_path) == []
    assert settings(env, "show").stdout.startswith("# version 1\n")


def test_rollback_saves_the_old_settings_as_a_new_version(env, tmp_path):
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"cost_per_ticket": 40}))
    assert settings(env, "apply", str(change)).returncode == 0
    done = settings(env, "rollback", "1", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Cost per ticket: 40.0 → 15.0" in done.stdout
    assert json.loads(settings(env, "export").stdout)["cost_per_ticket"] == 15.0
    assert [v.note for v in saved_versions(env, tmp_path)] == ["Rolled back to v1", ""]
    missing = settings(env, "rollback", "9", "--yes")
    assert missing.returncode == 1 and "there is no version 9" in missing.stderr


def test_a_multi_account_server_names_the_account(env, tmp_path):
    unknown = settings({**env, "ZENDESK_BASE_URL": ""}, "show", "--subdomain", "nowhere")
    assert unknown.returncode == 1 and "no installation for the Zendesk account" in unknown.stderr
    installed = cli("install", "--subdomain", "acme", "--app-id", "1", "--installation-id", "2",
                    "--email", "a@acme.test", "--token", "t",
                    env={**env, "ZENDESK_BASE_URL": ""})
    assert installed.returncode == 0, installed.stderr
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"currency": "EUR"}))
    other = {**env, "ZENDESK_BASE_URL": ""}
    assert settings(other, "apply", str(change), "--subdomain", "acme").returncode == 0
    assert '"currency": "EUR"' in settings(other, "show", "--subdomain", "acme").stdout
    assert '"currency": "USD"' in settings(env, "show").stdout  # the other account is untouched
