"""Installations: one per Zendesk account, with its API credentials sealed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("subdomain", sa.String(63), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False,
                  unique=True),
        sa.Column("base_url", sa.String(255), nullable=False),
        sa.Column("app_id", sa.BigInteger),
        sa.Column("installation_id", sa.BigInteger),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("token_sealed", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installations")
