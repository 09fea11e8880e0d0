"""Jobs that ran out of retries: listed for operators, queued again on request."""

from click.testing import CliRunner

from plugin import create_app
from plugin.cli import main

ACCOUNT = "https://acme.zendesk.com"


def test_failed_jobs_are_listed_and_queued_again(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "ZENDESK_BASE_URL", "ZENDESK_SUBDOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path / "instance"))
    app = create_app()
    services = app.extensions["customer_value"]
    services.record_failed_job(ACCOUNT, "plugin.service_layer.jobs.tag_ticket", [41, 7, "inv-41"],
                               TimeoutError("Zendesk did not answer"))
    services.close()

    runner = CliRunner()
    listed = runner.invoke(main, ["failed-jobs"])
    assert listed.exit_code == 0, listed.output
    assert (f"{ACCOUNT} plugin.service_layer.jobs.tag_ticket [41, 7, 'inv-41']: TimeoutError"
            in listed.output)
    assert "1 failed job(s). Queue them again with --requeue." in listed.output

    requeued = runner.invoke(main, ["failed-jobs", "--requeue"])
    assert requeued.output.strip() == "Queued 1 failed job(s) again."
    app = create_app()
    try:
        assert app.extensions["customer_value"].failed_jobs(ACCOUNT) == []
        queued = app.extensions["queue"].dequeue()
        assert queued.args == (ACCOUNT, 41, 7, "inv-41")
    finally:
        app.extensions["customer_value"].close()
    assert runner.invoke(main, ["failed-jobs"]).output.strip() == "0 failed job(s)."
