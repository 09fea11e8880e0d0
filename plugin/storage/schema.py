"""The app's database: every table, and the few helpers every repository shares.

Every row carries its account's id, and every repository filters on it: one account's data
is never visible to another. SQLite by default, PostgreSQL by URL; the schema is created and
upgraded by the Alembic migrations in `plugin/storage/migrations`, which read `metadata`.

Each table has one repository that writes it: `history` (the synced Zendesk and CRM data,
sync positions, trend snapshots, suggestion feedback), `installations`, `versions`
(settings), `secrets`, `deliveries` (webhook deliveries and failed jobs), `sync_runs` (each
account's periodic sync), `vault` (the key fingerprints) and `changes` (the customers whose
overview row is out of date, marked by the repositories whose writes changed them, in their
own transactions).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    event,
    false,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from plugin.core.times import as_utc

metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
organizations = Table(
    "organizations", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("id", BigInteger, primary_key=True),
    Column("name", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("fields", JSON, nullable=False),
)
users = Table(
    "users", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("id", BigInteger, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("tags", JSON, nullable=False),
    Column("organization_id", BigInteger),
    Column("fields", JSON, nullable=False),
    Index("ix_users_email", "account_id", "email"),
)
tickets = Table(
    "tickets", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("id", BigInteger, primary_key=True),
    Column("requester_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("solved_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("first_reply_minutes", Float),
    Column("resolution_minutes", Float),
    Column("replies", Integer),
    Column("reopens", Integer, nullable=False),
    Index("ix_tickets_requester", "account_id", "requester_id"),
)
ratings = Table(
    "ratings", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("ticket_id", BigInteger, primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("scale", SmallInteger, nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("comment", Text, nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("category", String(8)),
)
sync_state = Table(
    "sync_state", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("cursor", Text),
    Column("synced_through", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

snapshots = Table(
    "snapshots", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("computed_at", DateTime(timezone=True), primary_key=True),
    Column("value", Float, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("settings_version", Integer, nullable=False),
)
suggestion_feedback = Table(
    "suggestion_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("ticket_id", BigInteger),
    Column("suggestion", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("agent_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

installations = Table(
    "installations", metadata,
    Column("subdomain", String(63), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, unique=True),
    Column("base_url", String(255), nullable=False),
    Column("app_id", BigInteger),
    Column("installation_id", BigInteger),
    Column("email", String(255), nullable=False),
    Column("token_sealed", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("auth_kind", String(8), nullable=False, server_default="token"),
    Column("refresh_sealed", Text),
    Column("needs_reconnect", Boolean, nullable=False, server_default=false()),
)
setup_states = Table(
    "setup_states", metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("subdomain", String(63), nullable=False),
    Column("app_id", BigInteger),
    Column("installation_id", BigInteger),
    Column("session_hash", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

settings_versions = Table(
    "settings_versions", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("data", JSON, nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("author_name", String(200)),
)

account_secrets = Table(
    "account_secrets", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("invocation_id", String(128), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("ticket_id", BigInteger, nullable=False),
    Column("requester_id", BigInteger, nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("signature_digest", String(64)),
    Index("ux_webhook_deliveries_signature", "account_id", "signature_digest", unique=True),
)
failed_jobs = Table(
    "failed_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("job", String(64), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
)

crm_contact_emails = Table(
    "crm_contact_emails", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("contact_id", String(64), primary_key=True),
    Column("email", String(320), primary_key=True),
    Index("ix_crm_contact_emails_email", "account_id", "source", "email"),
)
crm_deals = Table(
    "crm_deals", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("contact_id", String(64)),
    Column("won", Boolean),
    Column("amount", Float, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("modified_at", DateTime(timezone=True)),
    Index("ix_crm_deals_contact", "account_id", "source", "contact_id"),
)

sync_runs = Table(
    "sync_runs", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("claimed_by", String(128)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("succeeded_at", DateTime(timezone=True)),
    Column("error", Text),
)
key_fingerprints = Table(
    "key_fingerprints", metadata,
    Column("name", String(32), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

overrides = Table(
    "overrides", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("subject", String(16), nullable=False),
    Column("subject_id", BigInteger, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_by_name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_overrides_subject", "account_id", "subject", "subject_id"),
)
override_events = Table(
    "override_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("override_id", ForeignKey("overrides.id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("tier", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", BigInteger, nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_override_events_override", "account_id", "override_id"),
    Index("ix_override_events_stamp", "account_id", "id"),
)
CUSTOMER_VALUE_INDEXES = {
    "value": ("value", "user_id"), "tier": ("tier", "value", "user_id"),
    "change": ("change_30d", "user_id"), "organization": ("organization_name", "value"),
    "segment": ("segment", "value"), "risk": ("at_risk", "value"),
    "tier_risk": ("tier", "at_risk", "value", "user_id"),
    "refreshed": ("refreshed_at",),
}
"""The overview's orders and filters, each served by an index (the migration makes the same)."""
customer_values = Table(
    "customer_values", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("name", Text, nullable=False),
    Column("search", Text, nullable=False),
    Column("organization_id", BigInteger),
    Column("organization_name", Text, nullable=False),
    Column("segment", String(80), nullable=False),
    Column("value", Float, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("value_30d", Float),
    Column("tier_30d", String(8)),
    Column("change_30d", Float, nullable=False),
    Column("little_data", Boolean, nullable=False),
    Column("at_risk", Boolean, nullable=False),
    Column("risks", JSON, nullable=False),
    Column("drivers", JSON, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("settings_version", Integer),
    *[Index(f"ix_customer_values_{name}", "account_id", *columns)
      for name, columns in CUSTOMER_VALUE_INDEXES.items()],
)
customer_changes = Table(
    "customer_changes", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
tier_shares = Table(
    "tier_shares", metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("day", DateTime(timezone=True), primary_key=True),
    Column("high", Integer, nullable=False),
    Column("medium", Integer, nullable=False),
    Column("low", Integer, nullable=False),
)
alert_rules = Table(
    "alert_rules", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
alert_events = Table(
    "alert_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("rule_id", ForeignKey("alert_rules.id"), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("reason", Text, nullable=False),
    Column("done", JSON, nullable=False),
    Index("ix_alert_events_open", "account_id", "rule_id", "user_id", "ended_at"),
    Index("ix_alert_events_customer", "account_id", "user_id", "ended_at"),
)


def private_file(path: str | os.PathLike[str]) -> None:
    """Create `path` readable and writable by its owner only (0600), or narrow it to that if it
    exists: SQLite gives its -wal and -shm files the database file's mode."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def private_sqlite(url: str) -> None:
    """For a SQLite file URL, `private_file` of its database file (before SQLite makes it)."""
    parsed = make_url(with_driver(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        private_file(parsed.database)



def connect(url: str) -> Engine:
    """An engine for the database URL; SQLite waits on locks instead of failing at once, and
    its file is the owner's alone (0600)."""
    url = with_driver(url)
    if url.startswith("sqlite"):
        private_sqlite(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def account_id(engine: Engine, key: str, now: datetime) -> int:
    """The id of the account known by `key` (its base URL), registered on first sight."""
    with engine.begin() as conn:
        found = conn.execute(select(accounts.c.id).where(accounts.c.key == key)).scalar()
        if found is not None:
            return found
        inserted = conn.execute(accounts.insert().values(key=key, created_at=as_utc(now)))
        return inserted.inserted_primary_key[0]

def with_driver(url: str) -> str:
    """A PostgreSQL URL as people write it (`postgres://`, `postgresql://`) with the driver
    this app installs (psycopg 3) named; other URLs as they are."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def upsert_rows(conn, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, or update them where their primary key exists (SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in rows[0] if name not in keys})
    conn.execute(statement, rows)
