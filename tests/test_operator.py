"""The operator's path through the command line: accounts named by --subdomain, keys that
cannot silently diverge, a naming clash said clearly, and uninstall purging an account."""

import os

import pytest
from sqlalchemy import create_engine, func, select

from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import generate
from plugin.storage.schema import accounts, installations, metadata
from tests.commands import cli
from tests.tagging_app import NOW

pytestmark = pytest.mark.slow  # subprocesses and sandbox servers

KEY = "o" * 40


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 30, seed=8, now=NOW)
    return folder


def environment(tmp_path, **more):
    """An operator's shell: no ZENDESK_* account, an instance folder, a database."""
    env = {name: "" for name in os.environ if name.startswith(("ZENDESK_", "CUSTOMER_VALUE_"))}
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'cv.db'}",
            "CUSTOMER_VALUE_INSTANCE": str(tmp_path / "instance"), "REDIS_URL": "", **more}


def install(env, subdomain, base_url, app_id="1"):
    return cli("install", "--subdomain", subdomain, "--app-id", app_id, "--installation-id", "2",
               "--email", "agent@example.com", "--base-url", base_url,
               env={**env, "ZENDESK_API_TOKEN": "sandbox-token"})


def test_commands_act_on_an_installed_account_by_subdomain(dataset, tmp_path):
    env = environment(tmp_path, CUSTOMER_VALUE_SECRET_KEY=KEY)
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        assert install(env, "beta", base_url).returncode == 0
        synced = cli("sync", "--subdomain", "beta", env=env)
        assert synced.returncode == 0, synced.stderr
        assert f"Syncing {base_url}" in synced.stderr and "tickets" in synced.stdout
        dry = cli("backfill", "--subdomain", "beta", "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "Not tagging: tagging is switched off" in dry.stderr
        assert "would change, in" in dry.stdout and "would tag" not in dry.stdout
        scored = cli("score", "--subdomain", "beta", "--user", "10000001", "--json", env=env)
        assert scored.returncode == 0, scored.stderr
        assert '"user_id": 10000001' in scored.stdout
        unknown = cli("sync", "--subdomain", "nobody", env=env)
        assert unknown.returncode == 1
        assert "no installation for the subdomain 'nobody'" in unknown.stderr


def test_a_key_that_does_not_match_the_database_is_refused(dataset, tmp_path):
    env = environment(tmp_path)  # keys generated into the instance folder
    assert install(env, "beta", "https://beta.zendesk.com").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = {**env, "CUSTOMER_VALUE_INSTANCE": str(elsewhere / "instance")}
    refused = install(other, "gamma", "https://gamma.zendesk.com")
    assert refused.returncode == 1
    assert "sealed with another key" in refused.stderr
    assert "set CUSTOMER_VALUE_SECRET_KEY (or CUSTOMER_VALUE_ENCRYPTION_KEY)" in refused.stderr
    assert "Traceback" not in refused.stderr
    worker = cli("failed-jobs", env={**env, "CUSTOMER_VALUE_ENCRYPTION_KEY":
                                     "A" * 43 + "="})
    assert worker.returncode == 1 and "set CUSTOMER_VALUE_ENCRYPTION_KEY" in worker.stderr
    assert cli("failed-jobs", env=env).returncode == 0, "the right key still starts"


def test_postgresql_needs_explicitly_configured_keys(tmp_path):
    from tests.servers import empty_postgresql

    env = environment(tmp_path, DATABASE_URL=empty_postgresql())
    refused = cli("failed-jobs", env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "with PostgreSQL (DATABASE_URL) every process must share one key" in refused.stderr
    assert "set CUSTOMER_VALUE_SECRET_KEY" in refused.stderr
    assert cli("failed-jobs", env={**env, "CUSTOMER_VALUE_SECRET_KEY": KEY}).returncode == 0


def test_a_naming_clash_is_a_clear_error_and_uninstall_purges_the_account(dataset, tmp_path):
    env = environment(tmp_path, CUSTOMER_VALUE_SECRET_KEY=KEY)
    with running_sandbox(dataset, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        assert install(env, "beta", base_url).returncode == 0
        assert cli("sync", "--subdomain", "beta", env=env).returncode == 0
        clash = install(env, "other", base_url)
        assert clash.returncode == 1 and "IntegrityError" not in clash.stderr
        assert f"{base_url} is already installed as 'beta'" in clash.stderr
        single = {**env, "ZENDESK_BASE_URL": base_url, "ZENDESK_EMAIL": "agent@example.com",
                  "ZENDESK_API_TOKEN": "t", "ZENDESK_APP_ID": "9"}
        worker = cli("failed-jobs", env=single)
        assert worker.returncode == 1 and "IntegrityError" not in worker.stderr
        assert "already installed as 'beta'" in worker.stderr
        assert "ZENDESK_APP_ID" in worker.stderr

        asked = cli("uninstall", "--subdomain", "beta", env=env)
        assert asked.returncode == 1 and "Aborted" in asked.stderr, "no answer, no purge"
        assert rows(tmp_path)["installations"] == 1
        purged = cli("uninstall", "--subdomain", "beta", "--yes", env=env)
        assert purged.returncode == 0, purged.stderr
        assert all(count == 0 for count in rows(tmp_path).values()), rows(tmp_path)
        assert install(env, "other", base_url).returncode == 0, "the base URL is free again"


def rows(tmp_path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{tmp_path / 'cv.db'}")
    with engine.connect() as conn:
        counts = {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                  for table in metadata.sorted_tables
                  if "account_id" in table.c or table is accounts}
    engine.dispose()
    counts["installations"] = counts.get(installations.name, 0)
    return counts


def test_the_demos_sandbox_port_can_be_chosen(dataset, tmp_path):
    import re
    import signal
    import socket
    import subprocess
    import time

    import requests

    from tests.commands import SCRIPT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([SCRIPT, "demo", "--port", "0", "--data", str(dataset),
                                "--sandbox-port", str(port), "--now", NOW.isoformat()],
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               cwd=tmp_path)
    try:
        said, deadline = "", time.monotonic() + 120
        while "demo on" not in said and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            said += line
        assert f"Zendesk sandbox on http://127.0.0.1:{port}" in said, said
        assert re.search(r"demo on http://\S+", said), said
        stats = requests.get(f"http://127.0.0.1:{port}/_sandbox/stats", timeout=10)
        assert stats.status_code == 200 and stats.json()["requests"] > 0
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        process.stderr.close()
