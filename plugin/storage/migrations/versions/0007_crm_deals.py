"""A CRM's contacts (by email) and deals, synced for the spend of every customer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_contact_emails",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("contact_id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), primary_key=True),
    )
    op.create_index("ix_crm_contact_emails_email", "crm_contact_emails",
                    ["account_id", "source", "email"])
    op.create_table(
        "crm_deals",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("contact_id", sa.String(64)),
        sa.Column("won", sa.Boolean),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("modified_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_crm_deals_contact", "crm_deals", ["account_id", "source", "contact_id"])


def downgrade() -> None:
    op.drop_index("ix_crm_deals_contact", table_name="crm_deals")
    op.drop_table("crm_deals")
    op.drop_index("ix_crm_contact_emails_email", table_name="crm_contact_emails")
    op.drop_table("crm_contact_emails")
