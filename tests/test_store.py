"""The history store: migrations, upserts, one account never seeing another's data, and the
sync's resumable, page-at-a-time loading (with a hand-written fake of the Zendesk client)."""

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from integrations.zendesk import Page, RatingFact, TicketFact, UserFact
from plugin import config
from plugin.core.domain import Organization
from plugin.service_layer.live import HISTORY_LOADING, current_history, merge
from plugin.service_layer.sync import sync
from plugin.storage.history import HistoryStore
from plugin.storage.migrations import upgrade
from plugin.storage.schema import account_id, connect, metadata
from plugin.storage.search import index_objects
from tests.factories import NOW, history, profile, rating, ticket


@pytest.fixture
def engine(database_url):
    url = database_url
    upgrade(url)
    engine = connect(url)
    yield engine
    engine.dispose()


def store_for(engine, key="https://acme.zendesk.com") -> HistoryStore:
    return HistoryStore(engine, account_id(engine, key, NOW))


def user_fact(id=1, org=None, **changes) -> UserFact:
    return UserFact(replace(profile(id=id), **changes), org, NOW)


def ticket_fact(id, requester=1, updated_days=1, **changes) -> TicketFact:
    return TicketFact(requester, ticket(id, **changes), NOW - timedelta(days=updated_days))


def test_migrations_create_exactly_the_models_schema(engine):
    """Exactly, but for the search index: one database's own kind of object."""
    def ours(thing, name, kind, reflected, compared) -> bool:
        return name not in index_objects()

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(
            conn, opts={"include_object": ours}), metadata) == []


def test_a_saved_history_reads_back_the_same(engine):
    store = store_for(engine)
    acme = Organization(id=9, name="Acme", tags=("enterprise",), fields={"lifetime_spend": 5})
    tickets = [ticket_fact(1, satisfaction=rating(True, comment="Thanks")),
               ticket_fact(2, replies=None, first_reply_minutes=None, tags=("billing",))]
    store.save_page("organizations", organizations_=[acme], now=NOW)
    store.save_page("users", users_=[user_fact(org=9, tags=("vip",))], now=NOW)
    store.save_page("tickets", tickets_=tickets, cursor="abc", synced_through=NOW, now=NOW)
    history = store.history(1)
    assert history.profile == replace(profile(id=1, tags=("vip",)), organization=acme)
    assert sorted(history.tickets, key=lambda t: t.id) == [f.ticket for f in tickets]
    assert store.state("tickets").cursor == "abc"
    assert store.state("tickets").synced_through == NOW


def test_times_in_other_zones_are_stored_as_the_same_instant(engine):
    store = store_for(engine)
    store.save_page("users", users_=[user_fact()], now=NOW)
    local = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    store.save_page("tickets", tickets_=[TicketFact(1, ticket(1, created_at=local), NOW)],
                    now=NOW)
    assert store.history(1).tickets[0].created_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_survey_beats_rating_record_beats_embedded_rating(engine):
    store = store_for(engine)
    store.save_page("users", users_=[user_fact()], now=NOW)
    store.save_page("tickets", tickets_=[ticket_fact(1, satisfaction=rating(True))], now=NOW)
    assert store.history(1).tickets[0].satisfaction.is_good
    store.save_page("satisfaction_ratings", ratings_=[RatingFact(1, rating(False, days=2))],
                    now=NOW)
    assert store.history(1).tickets[0].satisfaction.is_bad
    store.save_page("survey_responses", ratings_=[RatingFact(1, rating(5, scale=5))],
                    rating_source="survey", now=NOW)
    assert store.history(1).tickets[0].satisfaction.scale == 5


def test_accounts_never_see_each_others_data(engine):
    acme, globex = store_for(engine, "https://acme.zendesk.com"), store_for(
        engine, "https://globex.zendesk.com")
    acme.save_page("users", users_=[user_fact(1, name="Acme customer")], now=NOW)
    acme.save_page("tickets", tickets_=[ticket_fact(10)], cursor="acme-cursor", now=NOW)
    globex.save_page("users", users_=[user_fact(1, name="Globex customer")], now=NOW)
    assert acme.history(1).profile.name == "Acme customer"
    assert globex.history(1).profile.name == "Globex customer"
    assert globex.history(1).tickets == ()
    assert globex.state("tickets").cursor is None
    assert globex.counts()["tickets"] == 0 and acme.counts()["tickets"] == 1


def test_an_unknown_customer_has_no_stored_history(engine):
    assert store_for(engine).history(404) is None


class FakeTransport:
    def __init__(self):
        self.calls = Counter()

    @property
    def total_calls(self):
        return sum(self.calls.values())


class FakeExports:
    """Pages from lists; `fail_after` raises once that many ticket pages were served."""

    def __init__(self, ticket_pages, users=(), fail_after=None):
        self.ticket_list = ticket_pages
        self.users = list(users)
        self.fail_after = fail_after
        self.transport = FakeTransport()
        self.requested = []

    def organization_pages(self, start_time):
        self.transport.calls["orgs"] += 1
        yield Page([], str(start_time + 1), True)

    def user_pages(self, start_time=0, cursor=None):
        self.transport.calls["users"] += 1
        yield Page(self.users if cursor is None else [], "u1", True)

    def ticket_pages(self, start_time=0, cursor=None):
        index = 0 if cursor is None else int(cursor)
        for number, items in enumerate(self.ticket_list[index:], start=index + 1):
            if self.fail_after is not None and number > self.fail_after:
                self.fail_after = None
                raise KeyboardInterrupt
            self.transport.calls["tickets"] += 1
            yield Page(items, str(number), number == len(self.ticket_list))

    def rating_pages(self, start_time, end_time, after=None):
        self.transport.calls["ratings"] += 1
        yield Page([], None, True)

    surveys_refused = False

    def survey_pages(self, start, end, after=None):
        return iter(())

    def requested_tickets(self, user_id, updated_since=None):
        self.requested.append((user_id, updated_since))
        return [f for page in self.ticket_list for f in page
                if f.requester_id == user_id and (updated_since is None
                                                  or f.updated_at >= updated_since)]

    def user(self, user_id):
        return user_fact(user_id), None


PAGES = [[ticket_fact(i, updated_days=30 - i) for i in range(p * 3 + 1, p * 3 + 4)]
         for p in range(4)]


def test_sync_loads_everything_then_only_what_changed(engine):
    store = store_for(engine)
    fake = FakeExports(PAGES, users=[user_fact()])
    report = sync(fake, store, clock=lambda: NOW)
    assert report.streams["tickets"].records == 12 and report.streams["tickets"].pages == 4
    assert len(store.history(1).tickets) == 12
    assert store.state("tickets").cursor == "4"
    again = sync(fake, store, clock=lambda: NOW + timedelta(hours=1))
    assert again.streams["tickets"].records == 0


def test_an_interrupted_sync_resumes_where_it_stopped(engine):
    store = store_for(engine)
    fake = FakeExports(PAGES, users=[user_fact()], fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        sync(fake, store, clock=lambda: NOW)
    assert store.counts()["tickets"] == 6 and store.state("tickets").cursor == "2"
    report = sync(fake, store, clock=lambda: NOW)
    assert report.streams["tickets"].records == 6 and report.streams["tickets"].pages == 2
    assert store.counts()["tickets"] == 12


def test_live_refresh_asks_only_for_what_changed_since_the_sync(engine):
    store = store_for(engine)
    fake = FakeExports(PAGES, users=[user_fact()])
    sync(fake, store, clock=lambda: NOW)
    history = current_history(store, fake, 1)
    assert len(history.tickets) == 12
    assert fake.requested == [(1, store.state("tickets").synced_through)]


def test_a_customer_not_yet_stored_gets_a_live_value_with_a_notice(engine):
    fake = FakeExports(PAGES)
    history = current_history(store_for(engine), fake, 1)
    assert history.notices == (HISTORY_LOADING,) and len(history.tickets) == 12


def test_merge_prefers_newer_copies_and_keeps_survey_ratings():
    stored = history(ticket(1, satisfaction=rating(4, scale=5)), ticket(2))
    fresh = [TicketFact(1, ticket(1, status="closed"), NOW), TicketFact(1, ticket(3), NOW),
             TicketFact(99, ticket(4), NOW)]
    merged = merge(stored, fresh)
    by_id = {t.id: t for t in merged.tickets}
    assert set(by_id) == {1, 2, 3}
    assert by_id[1].status == "closed" and by_id[1].satisfaction.scale == 5


def test_zendesk_down_scores_a_stored_customer_from_the_store_with_a_notice(engine):
    from integrations.errors import Unavailable

    store = store_for(engine)
    fake = FakeExports(PAGES, users=[user_fact()])
    sync(fake, store, clock=lambda: NOW)

    def down(*args, **kwargs):
        raise Unavailable("Zendesk is failing (503)")

    fake.requested_tickets = down
    with pytest.raises(Unavailable):
        current_history(store, fake, 1)
    history = current_history(store, fake, 1, fallback=True)
    assert len(history.tickets) == 12
    assert "scored from the history store as of" in history.notices[-1]


def test_a_refresh_without_metric_sets_keeps_the_stored_metrics():
    stored = history(ticket(1, replies=5, first_reply_minutes=30.0, resolution_minutes=900.0))
    bare = ticket(1, status="closed", replies=None, first_reply_minutes=None,
                  resolution_minutes=None)
    (merged,) = merge(stored, [TicketFact(1, bare, NOW)]).tickets
    assert merged.status == "closed"
    assert (merged.replies, merged.first_reply_minutes, merged.resolution_minutes) == (
        5, 30.0, 900.0)


def test_reading_one_customer_does_not_scan_the_accounts_ratings(engine):
    store = store_for(engine)
    store.save_page("users", users_=[user_fact(1), user_fact(2)], now=NOW)
    others = [ticket_fact(i, requester=2, satisfaction=rating(True)) for i in range(10, 1300)]
    mine = [ticket_fact(i, requester=1, satisfaction=rating(False)) for i in range(1, 6)]
    store.save_page("tickets", tickets_=others + mine, now=NOW)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # A table this small is cheaper to scan; forbid that to see whether a key serves.
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN SELECT * FROM ratings WHERE account_id = %s AND ticket_id IN (%s, %s)",
                (store.account, 1, 2)))
            assert "Index" in plan and "ratings_pkey" in plan, plan
        else:
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM ratings WHERE account_id = ? AND ticket_id IN "
                "(?, ?)", (store.account, 1, 2)))
            assert "USING INDEX" in plan or "PRIMARY KEY" in plan, plan
    assert [t.satisfaction.is_bad for t in store.history(1).tickets] == [True] * 5
    assert len(store.history(2).tickets) == 1290


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u:p@db/cv", "postgresql+psycopg://u:p@db/cv"),
    ("postgresql://u:p@db/cv", "postgresql+psycopg://u:p@db/cv"),
    ("postgresql+psycopg://u:p@db/cv", "postgresql+psycopg://u:p@db/cv"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_name_the_installed_driver(given, used):
    assert config.database_url({"DATABASE_URL": given}) == used
    assert connect(given).url.render_as_string(hide_password=False) == used


@pytest.mark.slow
def test_processes_starting_together_migrate_one_after_the_other():
    import subprocess
    import sys

    from plugin.storage.migrations import current_revision, head_revision
    from tests.servers import empty_postgresql

    url = empty_postgresql()
    starting = [subprocess.Popen([sys.executable, "-c", "import sys; from plugin.storage."
                                  "migrations import upgrade; upgrade(sys.argv[1])", url])
                for _ in range(4)]
    try:
        codes = [process.wait(90) for process in starting]
    finally:
        for process in starting:
            process.kill()
    assert codes == [0, 0, 0, 0]
    engine = connect(url)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()
