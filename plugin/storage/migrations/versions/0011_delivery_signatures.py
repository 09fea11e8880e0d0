"""Webhook deliveries remember their call's signature, so a replayed call under a new
invocation id is recognised as the same call.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("signature_digest", sa.String(64)))
    op.create_index("ux_webhook_deliveries_signature", "webhook_deliveries",
                    ["account_id", "signature_digest"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_webhook_deliveries_signature", table_name="webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("signature_digest")
