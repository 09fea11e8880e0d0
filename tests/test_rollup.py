"""An organization's value from its people: spend counted once, people ranked, the value
between its people's lowest and highest."""

from dataclasses import replace
from functools import partial

from hypothesis import given
from hypothesis import strategies as st

from integrations.zendesk import UserFact
from plugin.core.domain import Organization
from plugin.core.model import Cutoffs, score
from plugin.core.rollup import organization_history, organization_suggestions, roll_up
from plugin.core.settings import Settings
from plugin.core.signals import DEFAULT_NORMS, Money
from tests import tokens
from tests.factories import NOW, history, profile, ticket

CUTOFFS = Cutoffs(high=15.0, low=-15.0)
session = partial(tokens.session, now=NOW)


def person(user_id, tickets, spend=None, basis=None):
    value = score(history(*[ticket(i, days=10 * i) for i in range(1, tickets + 1)],
                          id=user_id), Settings(), NOW)
    money = Money(spend=spend, cost_to_serve=0.0, basis=basis)
    return replace(value, money=money)


@given(st.integers(1, 8), st.floats(0, 1e6), st.lists(st.floats(0, 1e5), max_size=4))
def test_the_organizations_own_spend_is_counted_once(members, shared, own):
    people = [person(i, 2, shared, "organization field") for i in range(1, members + 1)]
    people += [person(100 + i, 2, amount, "user field") for i, amount in enumerate(own)]
    rolled = roll_up(people, CUTOFFS)
    assert rolled.spend == shared + sum(own)


@given(st.lists(st.integers(0, 12), min_size=1, max_size=6))
def test_the_value_lies_between_its_people_and_they_are_ranked(tickets):
    people = [person(i, n) for i, n in enumerate(tickets, start=1)]
    rolled = roll_up(people, CUTOFFS)
    values = [v.value for v in rolled.people]
    assert values == sorted(values, reverse=True)
    assert min(values) - 0.05 <= rolled.value <= max(values) + 0.05
    assert rolled.tier == CUTOFFS.tier(rolled.value)


def test_no_spend_known_is_not_zero():
    assert roll_up([person(1, 3)], CUTOFFS).spend is None


def test_the_organization_glance_ranks_its_people(make_app):
    from tests.fakes import FakeRichZendesk

    app = make_app({"DEMO_MODE": True, "ZENDESK_BASE_URL": "https://acme.zendesk.com",
                    "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": tokens.ACME_TOKEN},
                   client_factory=lambda config: FakeRichZendesk(), clock=lambda: NOW)
    services = app.extensions["customer_value"]
    store = services.store("https://acme.zendesk.com")
    org = Organization(3, "Acme", fields={"lifetime_spend": 27_500})
    store.save_page("users", organizations_=[org], users_=[
        UserFact(profile(id=7, name="Tom Berg", organization=org), 3, NOW),
        UserFact(profile(id=8, name="Ann Lee", organization=org), 3, NOW)], now=NOW)
    client = app.test_client()
    opened = session()
    body = client.get("/api/organizations/3/glance?locale=en", headers=opened).get_json()
    assert body["reasons"].startswith("$27.5K spent · Rolled up from 2 people")
    assert [p.split(":")[0] for p in body["details"]["people"]][0] in ("Tom Berg", "Ann Lee")
    assert len(body["details"]["people"]) == 2
    # the session was opened for organization 3: another organization is refused
    assert client.get("/api/organizations/4/glance", headers=opened).status_code == 403
    assert client.get("/api/organizations/4/glance", headers=session()).status_code == 404


ACME = Organization(3, "Acme", fields={"lifetime_spend": 27_500})


def organization_of(*people):
    values = [score(h, Settings(), NOW) for h in people]
    rolled = roll_up(values, CUTOFFS)
    merged = organization_history(ACME, people, rolled.spend, Settings())
    return rolled, merged


def test_the_organization_as_one_customer_has_each_ticket_once_and_its_spend_once():
    shared = ticket(1, days=40)
    tom = history(shared, ticket(2, days=20), id=7, organization=ACME, joined_days_ago=900)
    ann = history(shared, ticket(3, days=5), id=8, organization=ACME, joined_days_ago=100,
                  fields={"lifetime_spend": 500})
    rolled, merged = organization_of(tom, ann)
    assert [t.id for t in merged.tickets] == [1, 2, 3]
    assert merged.profile.created_at == tom.profile.created_at
    assert merged.profile.organization.fields["lifetime_spend"] == rolled.spend == 28_000
    assert score(merged, Settings(), NOW).money.spend == 28_000


def test_an_organization_with_no_evidence_gets_no_loyalty_reward():
    quiet = Organization(4, "Quiet")
    people = [history(id=9, organization=quiet, joined_days_ago=2)]
    values = [score(h, Settings(), NOW) for h in people]
    rolled = roll_up(values, CUTOFFS)
    merged = organization_history(quiet, people, rolled.spend, Settings())
    found = {s.id for s in organization_suggestions(rolled, merged, Settings(), NOW,
                                                     DEFAULT_NORMS)}
    assert "loyalty_reward" not in found


def test_a_long_standing_organization_that_spent_is_rewarded_for_its_loyalty():
    people = [history(*[ticket(i, days=30 * i) for i in range(1, 6)], id=7, organization=ACME,
                      joined_days_ago=2000)]
    rolled, merged = organization_of(*people)
    found = {s.id: s for s in organization_suggestions(rolled, merged, Settings(), NOW,
                                                        DEFAULT_NORMS)}
    assert "loyalty_reward" in found, sorted(found)
    assert found["loyalty_reward"].facts["spend"] == "27500.00"
