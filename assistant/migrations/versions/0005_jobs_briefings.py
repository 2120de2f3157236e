"""Background jobs, widget notifications, briefings and their schedules; alerts on
documents remember what they reported; deliveries say what they deliver.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("name", TEXT(), nullable=False),
        sa.Column("next_run_at", WHEN(), nullable=False),
        sa.Column("claimed_until", WHEN(), nullable=True),
        sa.Column("last_started_at", WHEN(), nullable=True),
        sa.Column("last_finished_at", WHEN(), nullable=True),
        sa.Column("last_error", TEXT(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.create_index(batch.f("ix_jobs_next_run_at"), ["next_run_at"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("user_id", TEXT(), nullable=False),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("source_id", TEXT(), nullable=False),
        sa.Column("title", TEXT(), nullable=False),
        sa.Column("text", TEXT(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.create_index(batch.f("ix_notifications_user_id"), ["user_id"], unique=False)
    op.create_table(
        "briefings",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("user_id", TEXT(), nullable=False),
        sa.Column("watchlist", TEXT(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("schedule_id", TEXT(), nullable=True),
        sa.Column("conversation_id", TEXT(), nullable=False),
        sa.Column("text", TEXT(), nullable=False),
        sa.Column("citations_json", TEXT(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("briefings") as batch:
        batch.create_index(batch.f("ix_briefings_user_id"), ["user_id"], unique=False)
    op.create_table(
        "briefing_schedules",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("user_id", TEXT(), nullable=False),
        sa.Column("watchlist", TEXT(), nullable=False),
        sa.Column("cadence", TEXT(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("channels_json", TEXT(), nullable=False),
        sa.Column("secret", TEXT(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("briefing_schedules") as batch:
        batch.create_index(batch.f("ix_briefing_schedules_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("seen_json", TEXT(), nullable=True))
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("kind", TEXT(), nullable=False, server_default="alert"))


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("seen_json")
    op.drop_table("briefing_schedules")
    op.drop_table("briefings")
    op.drop_table("notifications")
    op.drop_table("jobs")
