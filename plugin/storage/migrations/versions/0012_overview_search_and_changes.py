"""The overview's name search served by an index (PostgreSQL: a pg_trgm GIN index; SQLite: an
FTS5 trigram table kept in step by triggers), the customers whose inputs changed since their
overview row (the incremental refresh), the settings version each row was scored with, and
the indexes the per-customer alert check and the overrides' version stamp read.

Where the database role may not create the pg_trgm extension (it is a trusted extension
from PostgreSQL 13, so a role with CREATE on the database may; older servers need a
superuser), or where this SQLite lacks FTS5's trigram tokenizer (before 3.34), the migration
warns and goes on without the search index: the search gives the same results, reading every
row of the account. `plugin.storage.search.SEARCH_INDEX_SQL` says what an administrator runs to
add it afterwards.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import logging

import sqlalchemy as sa
from alembic import op

from plugin.storage.search import create_search_index, drop_search_index

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    with op.batch_alter_table("customer_values") as batch:
        batch.add_column(sa.Column("settings_version", sa.Integer))
    op.create_table(
        "customer_changes",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_override_events_stamp", "override_events", ["account_id", "id"])
    op.create_index("ix_alert_events_customer", "alert_events",
                    ["account_id", "user_id", "ended_at"])
    op.create_index("ix_users_email", "users", ["account_id", "email"])
    problem = create_search_index(op.get_bind())
    if problem:
        log.warning("the overview's search index was not created (%s); searches read every "
                    "row until it is", problem)


def downgrade() -> None:
    drop_search_index(op.get_bind())
    op.drop_index("ix_users_email", table_name="users")
    op.drop_index("ix_alert_events_customer", table_name="alert_events")
    op.drop_index("ix_override_events_stamp", table_name="override_events")
    op.drop_table("customer_changes")
    with op.batch_alter_table("customer_values") as batch:
        batch.drop_column("settings_version")
