"""Alerts: rules per user, their firings, and the deliveries of each firing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("user_id", TEXT(), nullable=False),
        sa.Column("symbol", TEXT(), nullable=False),
        sa.Column("condition_json", TEXT(), nullable=False),
        sa.Column("channels_json", TEXT(), nullable=False),
        sa.Column("secret", TEXT(), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("checked_at", WHEN(), nullable=True),
        sa.Column("last_detail", TEXT(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.create_index(batch.f("ix_alerts_user_id"), ["user_id"], unique=False)
    op.create_table(
        "alert_events",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("alert_id", TEXT(), nullable=False),
        sa.Column("fired_at", WHEN(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("measured", sa.Float(), nullable=True),
        sa.Column("message", TEXT(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_events") as batch:
        batch.create_index(batch.f("ix_alert_events_alert_id"), ["alert_id"], unique=False)
    op.create_table(
        "alert_deliveries",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("event_id", TEXT(), nullable=False),
        sa.Column("alert_id", TEXT(), nullable=False),
        sa.Column("channel_json", TEXT(), nullable=False),
        sa.Column("status", TEXT(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN(), nullable=False),
        sa.Column("claimed_until", WHEN(), nullable=True),
        sa.Column("last_error", TEXT(), nullable=True),
        sa.Column("delivered_at", WHEN(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.create_index(batch.f("ix_alert_deliveries_event_id"), ["event_id"], unique=False)
        batch.create_index(batch.f("ix_alert_deliveries_alert_id"), ["alert_id"], unique=False)
        batch.create_index(
            batch.f("ix_alert_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_events")
    op.drop_table("alerts")
