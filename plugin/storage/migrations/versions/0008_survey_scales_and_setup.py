"""Ratings keep Zendesk's good/neutral/bad reading of a survey answer (its scale may be 2, 3
or 5 points); installations connected by OAuth (a sealed refresh token, whether the account
must be reconnected) and the set-up's single-use OAuth states.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("category", sa.String(8)))
    with op.batch_alter_table("installations") as batch:
        batch.add_column(sa.Column("auth_kind", sa.String(8), nullable=False,
                                   server_default="token"))
        batch.add_column(sa.Column("refresh_sealed", sa.Text))
        batch.add_column(sa.Column("needs_reconnect", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "setup_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("subdomain", sa.String(63), nullable=False),
        sa.Column("app_id", sa.BigInteger),
        sa.Column("installation_id", sa.BigInteger),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("setup_states")
    with op.batch_alter_table("installations") as batch:
        batch.drop_column("needs_reconnect")
        batch.drop_column("refresh_sealed")
        batch.drop_column("auth_kind")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("category")
