"""Value snapshots for the sidebar's trend, and agents' feedback on suggestions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("computed_at", TZ, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("settings_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "suggestion_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("ticket_id", sa.BigInteger),
        sa.Column("suggestion", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("suggestion_feedback")
    op.drop_table("snapshots")
