"""Ratings keep Zendesk's good/neutral/bad reading of a survey answer (its scale may be 2, 3
or 5 points).

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


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("category")
