"""Hand-written fakes of the app's outside world, shared by every test module.

Each records what was asked of it, so tests assert on its state (cosmicpython's style).
"""

from __future__ import annotations

from integrations.errors import AuthFailed, NotFound, Unavailable
from integrations.zendesk import TicketFact, UserFact
from plugin.core.domain import Organization
from tests.factories import NOW, profile, rating, ticket


class FakeSleep:
    """`time.sleep` that only remembers how long it was asked to wait."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class FakeZendesk:
    """The Zendesk client the web app asks: one known requester (7, four good tickets) and
    the roles of four users (123 an agent, 124 an admin, 125 a team lead, 126 an end user).
    `fail` makes every user lookup raise it; `calls` counts user lookups."""

    roles = {123: "agent", 124: "admin", 125: "team_lead", 126: "end-user"}

    def __init__(self):
        self.fail: Exception | None = None
        self.calls = 0

    def user(self, user_id):
        self.calls += 1
        if self.fail:
            raise self.fail
        if user_id != 7:
            raise NotFound("no such user")
        return UserFact(profile(id=7, name="<b>Zoë</b>"), None, NOW), None

    def requested_tickets(self, user_id, updated_since=None):
        return [TicketFact(7, ticket(i, satisfaction=rating(True)), NOW) for i in range(1, 5)]

    def user_role(self, user_id):
        return self.roles[user_id]

    def staff(self, user_id):
        if user_id not in self.roles:
            raise NotFound("no such user")
        return self.roles[user_id], f"Staff {user_id}"

    def close(self):
        pass


class FakeRichZendesk:
    """Requesters 7 and 9 (the same person twice): five years of tickets (33 of them, most
    rated good), $27,500 lifetime spend in a user field and the organization's "premium" tag;
    everyone else is unknown."""

    def __init__(self):
        self.down: set[int] = set()
        """Users whose lookups fail as if Zendesk were down."""
        self.refused: set[int] = set()
        """Users whose lookups fail as if Zendesk refused the app's API token."""

    def user(self, user_id):
        if user_id in self.down:
            raise Unavailable("Zendesk is failing (503)")
        if user_id in self.refused:
            raise AuthFailed("Zendesk refused the credentials (401)")
        if user_id not in (7, 9):
            raise NotFound("no such user")
        org = Organization(3, "Acme", tags=("premium",))
        person = profile(id=user_id, name="Tom Berg", joined_days_ago=5 * 365 + 30,
                         fields={"lifetime_spend": 27_500}, organization=org)
        return UserFact(person, None, NOW), org

    def requested_tickets(self, user_id, updated_since=None):
        return [TicketFact(user_id, ticket(i, days=5 + 55 * i, tags=("premium", "billing"),
                                     satisfaction=rating(i % 5 != 0, days=4 + 55 * i)), NOW)
                for i in range(1, 34)]

    def close(self):
        pass


class FakeFetch:
    """Zendesk's public key endpoint: one body per URL, every request recorded."""

    def __init__(self, bodies: dict[str, str]) -> None:
        self.bodies = bodies
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        self.urls.append(url)
        return self.bodies[url]


class FakeCrm:
    """A CRM source: contacts by email, or `error` raised for every lookup."""

    name = "Zendesk Sell"

    def __init__(self, contacts=None, error=None):
        self.by_email = contacts or {}
        self.error = error
        self.asked: list[str] = []

    def contacts(self, email):
        self.asked.append(email)
        if self.error is not None:
            raise self.error
        return self.by_email.get(email, [])


class FakeStored:
    """The history store's synced copy of a CRM: the same contacts for every email."""

    name = "Zendesk Sell"
    synced_at = "2025-05-31T23:00:00Z"

    def __init__(self, contacts):
        self.found = contacts

    def contacts(self, email):
        return self.found
