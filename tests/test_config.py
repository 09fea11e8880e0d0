"""Yes/no settings are read strictly from the environment (a "False" is false, a "maybe" stops
the app), so is the sweep's wait (REQUEUE_AFTER_SECONDS: 0 is refused, never read as 600), and
demo mode is refused on a store holding real installations."""

import os
import subprocess
from datetime import UTC, datetime

import pytest

from plugin import create_app
from plugin.bootstrap import build_services
from plugin.config import DEFAULTS, ConfigError, load
from plugin.storage.installations import Installation
from tests.commands import SCRIPT

FLAGS = sorted(name for name, default in DEFAULTS.items() if isinstance(default, bool))


def test_every_yes_no_setting_is_known():
    assert {"DEMO_MODE", "CRM_ALLOW_PRIVATE_HOSTS", "TAG_ALWAYS"} <= set(FLAGS)


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize(("word", "meant"), [
    ("False", False), ("false", False), ("no", False), ("off", False), ("0", False),
    ("", False), ("True", True), ("yes", True), ("ON", True), ("1", True)])
def test_yes_no_words_from_the_environment(monkeypatch, tmp_path, name, word, meant):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv(f"CUSTOMER_VALUE_{name}", word)
    assert load()[name] is meant


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize("word", ["maybe", "Nein", "2", "tru"])
def test_unknown_words_stop_the_app(monkeypatch, tmp_path, name, word):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv(f"CUSTOMER_VALUE_{name}", word)
    with pytest.raises(ConfigError, match=name):
        load()


def test_demo_mode_is_refused_on_a_store_with_real_installations(tmp_path):
    config = {"TESTING": True, "SECRET_KEY": "s" * 64,
              "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
              "QUEUE_PATH": str(tmp_path / "queue.db")}
    services = build_services(load(config))
    for subdomain in ("acme", "globex"):
        services.registry.save(Installation(
            subdomain=subdomain, base_url=f"https://{subdomain}.zendesk.com", app_id=55,
            installation_id=None, email="a@x.com", token="t"), datetime(2025, 1, 1, tzinfo=UTC))
    services.close()
    with pytest.raises(ConfigError, match="DEMO_MODE"):
        create_app({**config, "DEMO_MODE": "true"})
    create_app(config).extensions["customer_value"].close()


@pytest.mark.parametrize(("word", "meant"), [("600", 600.0), ("1", 1.0), ("2.5", 2.5),
                                             (" 90 ", 90.0)])
def test_the_sweeps_wait_from_the_environment(monkeypatch, tmp_path, word, meant):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS", word)
    assert load()["REQUEUE_AFTER_SECONDS"] == meant


def test_the_sweeps_wait_defaults_to_ten_minutes(monkeypatch, tmp_path):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS", raising=False)
    assert load()["REQUEUE_AFTER_SECONDS"] == 600.0


@pytest.mark.parametrize("word", ["0", "0.5", "-5", "soon", "NaN", "Infinity", "true", "1e400"])
def test_a_sweep_wait_under_a_second_stops_the_app(monkeypatch, tmp_path, word):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS", word)
    with pytest.raises(ConfigError, match="REQUEUE_AFTER_SECONDS must be a number of seconds, "
                                          "at least 1"):
        load()


def test_the_worker_refuses_a_zero_sweep_wait_at_start_up(tmp_path):
    """The operator sees why at once, instead of a worker that waits 600 s."""
    done = subprocess.run([SCRIPT, "worker"], capture_output=True, text=True, timeout=60, env={
        **os.environ, "CUSTOMER_VALUE_INSTANCE": str(tmp_path),
        "CUSTOMER_VALUE_REQUEUE_AFTER_SECONDS": "0"})
    assert done.returncode != 0
    assert "REQUEUE_AFTER_SECONDS must be a number of seconds, at least 1, not 0" in done.stderr
    assert "Worker with" not in done.stderr


@pytest.mark.parametrize("name", ["VALUE_FRESH_SECONDS", "ZENDESK_READ_TIMEOUT"])
@pytest.mark.parametrize("word", ["0", "0.5", "-1", "soon", "NaN"])
def test_a_zero_or_bad_duration_stops_the_app_instead_of_meaning_the_default(
        monkeypatch, tmp_path, name, word):
    """0 used to become the default (60 s fresh, 30 s timeout) without a word."""
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv(f"CUSTOMER_VALUE_{name}", word)
    with pytest.raises(ConfigError, match=f"{name} must be a number of seconds, at least 1"):
        load()


@pytest.mark.parametrize(("name", "word", "meant"), [
    ("VALUE_FRESH_SECONDS", "5", 5.0), ("ZENDESK_READ_TIMEOUT", "2.5", 2.5)])
def test_durations_from_the_environment_are_read_as_seconds(
        monkeypatch, tmp_path, name, word, meant):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv(f"CUSTOMER_VALUE_{name}", word)
    assert load()[name] == meant
