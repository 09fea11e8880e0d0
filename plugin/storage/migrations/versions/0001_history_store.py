"""The history store: accounts, organizations, users, tickets, ratings and sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _account() -> sa.Column:
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "organizations", _account(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
    )
    op.create_table(
        "users", _account(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("organization_id", sa.BigInteger),
        sa.Column("fields", sa.JSON, nullable=False),
    )
    op.create_table(
        "tickets", _account(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("requester_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("solved_at", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("first_reply_minutes", sa.Float),
        sa.Column("resolution_minutes", sa.Float),
        sa.Column("replies", sa.Integer),
        sa.Column("reopens", sa.Integer, nullable=False),
    )
    op.create_index("ix_tickets_requester", "tickets", ["account_id", "requester_id"])
    op.create_table(
        "ratings", _account(),
        sa.Column("ticket_id", sa.BigInteger, primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("scale", sa.SmallInteger, nullable=False),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("rated_at", TZ, nullable=False),
    )
    op.create_table(
        "sync_state", _account(),
        sa.Column("stream", sa.String(32), primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("synced_through", TZ),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("sync_state", "ratings", "tickets", "users", "organizations", "accounts"):
        op.drop_table(table)
