"""The tagging job on a value computed without the CRM spend it should have: it is computed
once more, then the job is retried later (within its bounded retries); a tier tag is never
removed on such a value. Checked with hand-written fakes of the app's services and Zendesk."""

from types import SimpleNamespace

import pytest
from huey.exceptions import RetryTask
from sqlalchemy.exc import OperationalError

from integrations.errors import Unavailable
from plugin.core.model import absolute_cutoffs
from plugin.core.settings import Settings
from plugin.service_layer.jobs import BACKOFF_BASE, RETRIES, apply_tags

ACCOUNT = "https://acme.zendesk.com"


class FakeTicketTags:
    def __init__(self, tags):
        self.tags = tags
        self.updates: list[tuple[list[int], list[str], list[str]]] = []

    def ticket_tags(self, ticket_id):
        return self.tags

    def update_tags(self, ids, *, add, remove):
        self.updates.append((ids, add, remove))
        return "job"

    def wait_for(self, job):
        return SimpleNamespace(failed=[])


class FakeServices:
    def __init__(self, values, tags=("cv_high",)):
        self.values = list(values)
        self.asked: list[bool] = []
        self.alerts_checked: list[tuple[float, int]] = []
        self.zendesk = FakeTicketTags(list(tags))
        self.settings = Settings(spend_source="sell", tagging_enabled=True)

    def config_for(self, account_key):
        return SimpleNamespace(base_url=account_key)

    def store(self, base_url):
        return base_url

    def settings_for(self, store):
        return self.settings

    def value(self, config, user_id, ticket_id=None, *, refresh=False, mode="web"):
        assert mode == "background"
        self.asked.append(refresh)
        value, degraded = self.values.pop(0)
        scored = SimpleNamespace(value=value, crm_degraded=degraded, little_data=False,
                                 override=None, cutoffs=absolute_cutoffs(self.settings))
        return SimpleNamespace(result=SimpleNamespace(value=scored))

    def client(self, config):
        return self.zendesk

    def check_alerts(self, config, value, ticket_id):
        self.alerts_checked.append((value.value, ticket_id))



def app_with(services):
    return SimpleNamespace(extensions={"customer_value": services}, config={})


DEGRADED = (-40.0, True)
"""A value computed without its CRM spend."""


def test_a_degraded_value_is_computed_again_then_the_job_waits_without_tagging():
    services = FakeServices([DEGRADED, DEGRADED])
    task = SimpleNamespace(retries=RETRIES)
    with pytest.raises(RetryTask) as retried:
        apply_tags(app_with(services), ACCOUNT, 10, 1, task)
    assert services.asked == [False, True], "the second look skips the cached value"
    assert services.zendesk.updates == [], "cv_high stays on a degraded value"
    assert retried.value.delay > 0 and task.retries == RETRIES - 1


def test_a_degraded_value_out_of_retries_fails_the_job_visibly():
    services = FakeServices([DEGRADED, DEGRADED])
    with pytest.raises(Unavailable, match="CRM spend of requester 1"):
        apply_tags(app_with(services), ACCOUNT, 10, 1, SimpleNamespace(retries=0))
    assert services.zendesk.updates == []


def test_a_value_with_its_crm_spend_again_tags_as_usual():
    services = FakeServices([DEGRADED, (-40.0, False)])
    apply_tags(app_with(services), ACCOUNT, 10, 1, SimpleNamespace(retries=RETRIES))
    assert services.zendesk.updates == [([10], ["cv_low"], ["cv_high"])]


def test_a_job_for_an_account_with_tagging_off_writes_nothing_and_says_why(caplog):
    services = FakeServices([(-40.0, False)])
    services.settings = Settings(tagging_enabled=False)
    with caplog.at_level("INFO", logger="plugin.service_layer.jobs"):
        apply_tags(app_with(services), ACCOUNT, 10, 1, SimpleNamespace(retries=RETRIES))
    assert services.zendesk.updates == [] and services.asked == []
    assert f"ticket 10 of {ACCOUNT} not tagged: tagging is switched off" in caplog.text


class FakeCustomerRecords(FakeTicketTags):
    """Zendesk with one requester (tags vip, cv_high) whose value field holds 10."""

    def __init__(self):
        super().__init__(["cv_high"])
        self.user_updates: list[tuple[int, dict, list | None]] = []

    def user(self, user_id):
        profile = SimpleNamespace(id=user_id, tags=("vip", "cv_high"),
                                  fields={"customer_value": 10.0})
        return SimpleNamespace(profile=profile), None

    def update_user(self, user_id, *, fields, tags=None):
        self.user_updates.append((user_id, fields, tags))


def test_a_job_writes_the_customers_tag_and_fields_once_where_zendesk_routes():
    services = FakeServices([(-40.0, False)])
    services.zendesk = FakeCustomerRecords()
    services.settings = Settings(tagging_enabled=True, tag_user=True, tag_tickets=False)
    apply_tags(app_with(services), ACCOUNT, 10, 1, SimpleNamespace(retries=RETRIES))
    assert services.zendesk.updates == [], "ticket tags are off"
    assert services.zendesk.user_updates == [
        (1, {"customer_value": -40.0, "customer_value_tier": "low"}, ["vip", "cv_low"])]


class FakeServicesWithoutDatabase(FakeServices):
    """The app's database restarting: every read of the settings fails."""

    def settings_for(self, store):
        raise OperationalError("SELECT settings", {}, ConnectionError(
            "server closed the connection unexpectedly"))


def test_a_database_outage_waits_like_a_zendesk_outage():
    """Not huey's own retries, which come back at once and are all spent within a restart:
    the job waits a growing delay, spending one of its bounded retries."""
    services, task = FakeServicesWithoutDatabase([]), SimpleNamespace(retries=RETRIES)
    delays = []
    for _ in range(2):
        with pytest.raises(RetryTask) as retried:
            apply_tags(app_with(services), ACCOUNT, 10, 1, task)
        delays.append(retried.value.delay)
    assert delays == [BACKOFF_BASE * 2, BACKOFF_BASE * 4] and task.retries == RETRIES - 2
    assert services.zendesk.updates == []


def test_a_database_outage_out_of_retries_fails_the_job_visibly():
    with pytest.raises(OperationalError, match="server closed the connection"):
        apply_tags(app_with(FakeServicesWithoutDatabase([])), ACCOUNT, 10, 1,
                   SimpleNamespace(retries=0))
