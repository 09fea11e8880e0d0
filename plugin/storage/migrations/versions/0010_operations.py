"""What the people who run support use: settings authors by name, tier overrides and their
history, the overview's stored values and tier shares, alert rules and the alerts they raised.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)
CUSTOMER_VALUE_INDEXES = {
    "value": ("value", "user_id"), "tier": ("tier", "value", "user_id"),
    "change": ("change_30d", "user_id"), "organization": ("organization_name", "value"),
    "segment": ("segment", "value"), "risk": ("at_risk", "value"),
    "tier_risk": ("tier", "at_risk", "value", "user_id"),
    "refreshed": ("refreshed_at",),
}


def _account(**options) -> sa.Column:
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), **options)


def upgrade() -> None:
    with op.batch_alter_table("settings_versions") as batch:
        batch.add_column(sa.Column("author_name", sa.String(200)))
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_by_name", sa.String(200), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("ended_at", _WHEN),
    )
    op.create_index("ix_overrides_subject", "overrides", ["account_id", "subject", "subject_id"])
    op.create_table(
        "override_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(nullable=False),
        sa.Column("override_id", sa.Integer, sa.ForeignKey("overrides.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("actor_id", sa.BigInteger, nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
    )
    op.create_index("ix_override_events_override", "override_events",
                    ["account_id", "override_id"])
    op.create_table(
        "customer_values",
        _account(primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("search", sa.Text, nullable=False),
        sa.Column("organization_id", sa.BigInteger),
        sa.Column("organization_name", sa.Text, nullable=False),
        sa.Column("segment", sa.String(80), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("value_30d", sa.Float),
        sa.Column("tier_30d", sa.String(8)),
        sa.Column("change_30d", sa.Float, nullable=False),
        sa.Column("little_data", sa.Boolean, nullable=False),
        sa.Column("at_risk", sa.Boolean, nullable=False),
        sa.Column("risks", sa.JSON, nullable=False),
        sa.Column("drivers", sa.JSON, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("refreshed_at", _WHEN, nullable=False),
    )
    for name, columns in CUSTOMER_VALUE_INDEXES.items():
        op.create_index(f"ix_customer_values_{name}", "customer_values",
                        ["account_id", *columns])
    op.create_table(
        "tier_shares",
        _account(primary_key=True),
        sa.Column("day", _WHEN, primary_key=True),
        sa.Column("high", sa.Integer, nullable=False),
        sa.Column("medium", sa.Integer, nullable=False),
        sa.Column("low", sa.Integer, nullable=False),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(nullable=False),
        sa.Column("rule_id", sa.Integer, sa.ForeignKey("alert_rules.id"), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("fired_at", _WHEN, nullable=False),
        sa.Column("ended_at", _WHEN),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("done", sa.JSON, nullable=False),
    )
    op.create_index("ix_alert_events_open", "alert_events",
                    ["account_id", "rule_id", "user_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_open", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_rules")
    op.drop_table("tier_shares")
    for name in CUSTOMER_VALUE_INDEXES:
        op.drop_index(f"ix_customer_values_{name}", table_name="customer_values")
    op.drop_table("customer_values")
    op.drop_index("ix_override_events_override", table_name="override_events")
    op.drop_table("override_events")
    op.drop_index("ix_overrides_subject", table_name="overrides")
    op.drop_table("overrides")
    with op.batch_alter_table("settings_versions") as batch:
        batch.drop_column("author_name")
