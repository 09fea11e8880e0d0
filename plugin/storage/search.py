"""The overview's name search: a substring of a customer's `search` text (their name, e-mail and
organization, lower-cased), served by an index on both databases.

- PostgreSQL: a GIN index of the text's trigrams (the `pg_trgm` extension), which serves
  `LIKE '%…%'` itself: the query is the plain substring match.
- SQLite: an FTS5 table with the trigram tokenizer (case-sensitive: the text and the query are
  lower-cased alike beforehand), an external-content index of `customer_values.search` kept in
  step by triggers. A query of three characters or more is the phrase of its trigrams, which
  matches exactly the rows containing it as a substring; FTS5 finds nothing for shorter
  queries, so those (and a database without the table) use the plain substring match.

Both give the same rows as the substring match (`tests/test_overview_search.py`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, exc, literal_column, select, table, text

from plugin.storage.schema import customer_values

FTS_TABLE = "customer_values_search"
TRGM_INDEX = "ix_customer_values_search_trgm"
TRIGRAM = 3
"""FTS5's trigram tokenizer indexes runs of three characters: shorter queries match nothing."""

_SQLITE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search, content='customer_values', "
    "content_rowid='rowid', tokenize='trigram case_sensitive 1')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON customer_values BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search) VALUES (new.rowid, new.search); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON customer_values BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search) "
    "VALUES ('delete', old.rowid, old.search); END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search ON customer_values "
    "WHEN old.search IS NOT new.search BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search) "
    "VALUES ('delete', old.rowid, old.search); "
    f"INSERT INTO {FTS_TABLE}(rowid, search) VALUES (new.rowid, new.search); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)
_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON customer_values "
    "USING gin (search gin_trgm_ops)",
)
SEARCH_INDEX_SQL = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}
"""What creates the search index, by database: the migration runs it; an administrator whose
app role may not create extensions runs the PostgreSQL statements as the database's owner (or
a superuser), after which searches use the index at once."""


def index_objects() -> set[str]:
    """The names of the tables and indexes the search index consists of: outside the
    schema's `metadata` (they are one database's own kind of object)."""
    shadows = {f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config")}
    return {FTS_TABLE, TRGM_INDEX, *shadows}


def create_search_index(conn: Connection) -> str | None:
    """Create the search index for `conn`'s database; what prevented it, or None. Each try is
    in a savepoint, so a refusal (no right to create the extension, no trigram tokenizer)
    leaves the rest of the migration's transaction intact."""
    for statement in SEARCH_INDEX_SQL.get(conn.dialect.name, ()):
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(statement)
        except exc.DBAPIError as error:
            if conn.dialect.name == "sqlite":
                drop_search_index(conn)
            return str(error.orig).splitlines()[0]
    return None


def drop_search_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for kind in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{kind}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def matching(conn: Connection, query: str) -> Any:
    """The condition on `customer_values` for rows whose search text contains `query`
    (already lower-cased)."""
    if conn.dialect.name == "sqlite" and len(query) >= TRIGRAM and _has_fts(conn):
        phrase = '"' + query.replace('"', '""') + '"'
        found = select(literal_column("rowid")).select_from(table(FTS_TABLE)).where(
            text(f"{FTS_TABLE} MATCH :phrase").bindparams(phrase=phrase))
        return literal_column("customer_values.rowid").in_(found.scalar_subquery())
    return customer_values.c.search.contains(query, autoescape=True)


def _has_fts(conn: Connection) -> bool:
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        (FTS_TABLE,)).first() is not None
