"""The overview's name search on both databases: the rows whose name, e-mail or organization
contain the query, the same as a plain substring match, served by the search index (the
trigram GIN index on PostgreSQL, the FTS5 trigram table on SQLite) and kept in step with the
rows the refresh writes, changes and removes."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from plugin.storage import search
from plugin.storage.migrations import upgrade
from plugin.storage.overview import Filters, OverviewStore
from plugin.storage.schema import account_id, connect, customer_values
from plugin.storage.search import FTS_TABLE, TRGM_INDEX
from tests.factories import NOW

NAMES = ["Ann Johnson", "Bo Sonnen", "Zoë Müller", 'Quote "Q" O\'Brien', "50% off_sale",
         "Jason Li", "Ünal Şahin", "a_b%c", "Mason", "Sonja Personne", "Li"]
QUERIES = ["son", "SON", "so", "s", "jason li", "ü", "zoë", "müller", '"q"', "o'b", "50%",
           "%", "_", "off_s", "a_b%c", "nne", "li", " ", "ason", "xyz", "ﬁ", "sonja personne x"]


def row(user_id: int, name: str, organization: str = "") -> dict:
    return {"user_id": user_id, "name": name,
            "search": " ".join(filter(None, (name, f"c{user_id}@example.com", organization))
                               ).lower(),
            "organization_id": None, "organization_name": organization, "segment": "",
            "value": float(user_id), "tier": "medium", "value_30d": None, "tier_30d": None,
            "change_30d": 0.0, "little_data": False, "at_risk": False, "risks": [],
            "drivers": {}, "pinned": False, "settings_version": 1}


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = connect(database_url)
    yield engine
    engine.dispose()


def overview(engine, key="https://acme.zendesk.com") -> OverviewStore:
    return OverviewStore(engine, account_id(engine, key, NOW))


def found(store: OverviewStore, query: str) -> set[int]:
    rows, total = store.page(Filters(search=query), limit=200)
    assert total == len(rows)
    return {r.user_id for r in rows}


def expected(rows: list[dict], query: str) -> set[int]:
    return {r["user_id"] for r in rows if query.lower() in r["search"]}


def test_a_search_finds_exactly_the_rows_containing_it(engine):
    store = overview(engine)
    rows = [row(i, name, "Acme Sonic" if i % 3 == 0 else "") for i, name in
            enumerate(NAMES, start=1)]
    store.replace(rows, NOW)
    other = overview(engine, "https://other.zendesk.com")
    other.replace([row(900, "Jason Other")], NOW)
    for query in QUERIES:
        assert found(store, query) == expected(rows, query), query
    assert found(other, "jason") == {900}, "one account never finds another's customers"


def test_the_index_follows_changes_and_removals(engine):
    store = overview(engine)
    store.replace([row(1, "Ann Johnson"), row(2, "Bo Sonnen")], NOW)
    store.replace([row(1, "Ann Smith"), row(3, "Carla Jonsson")], NOW + timedelta(hours=1))
    assert found(store, "johnson") == set()
    assert found(store, "smith") == {1}
    assert found(store, "sonnen") == set(), "a row the refresh no longer wrote is gone"
    assert found(store, "jonsson") == {3}
    store.upsert([row(3, "Carla Berg")], NOW + timedelta(hours=2))
    assert found(store, "jonsson") == set()
    assert found(store, "berg") == {3}


def test_a_search_is_served_by_the_index(engine):
    store = overview(engine)
    store.replace([row(i, f"Customer {i}" + (" Johnson" if i % 500 == 0 else ""))
                   for i in range(1, 2001)], NOW)
    with engine.connect() as conn:
        query = select(customer_values.c.user_id).where(
            *store._where(conn, Filters(search="johnson"))).compile(
            conn, compile_kwargs={"literal_binds": True})
        if conn.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                auto.execute(text("VACUUM ANALYZE customer_values"))  # as autovacuum would
            conn.execute(text("SET enable_seqscan = off"))  # a small table is read whole
            plan = " ".join(conn.exec_driver_sql(f"EXPLAIN {query}").scalars())
            assert TRGM_INDEX in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {query}"))
            assert "VIRTUAL TABLE INDEX" in plan and FTS_TABLE in plan, plan


RUNS: list[None] = []


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(st.sampled_from("aAbß ó%_\"'ñ"), min_size=1, max_size=8),
                      min_size=1, max_size=6),
       query=st.text(st.sampled_from("aAbß ó%_\"'ñ"), min_size=1, max_size=4))
def test_any_search_equals_the_substring_match(engine, names, query):
    store = overview(engine)
    rows = [row(i, name) for i, name in enumerate(names, start=1)]
    RUNS.append(None)
    store.replace(rows, NOW + timedelta(seconds=len(RUNS)))  # replaces the last example's
    assert found(store, query) == expected(rows, query)


def test_where_the_index_cannot_be_made_the_migration_goes_on_and_search_works(
        database_url, monkeypatch, caplog):
    """A role that may not create the extension (or a SQLite without the trigram tokenizer):
    the migration warns and completes, and searches give the same rows by reading them all."""
    refused = {"sqlite": ("CREATE VIRTUAL TABLE customer_values_search USING "
                          "fts5(search, tokenize='no_such_tokenizer')",),
               "postgresql": ("CREATE EXTENSION IF NOT EXISTS no_such_extension",)}
    monkeypatch.setattr(search, "SEARCH_INDEX_SQL", refused)
    upgrade(database_url)
    assert "the overview's search index was not created" in caplog.text
    engine = connect(database_url)
    try:
        store = overview(engine)
        rows = [row(i, name) for i, name in enumerate(NAMES, start=1)]
        store.replace(rows, NOW)
        for query in QUERIES:
            assert found(store, query) == expected(rows, query), query
    finally:
        engine.dispose()
