"""leases, incident schedules, schedule marks, notifications, pages, flags, notices

Revision ID: 0004_sla
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_sla"
down_revision = "0001"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "incident_schedules",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("next_at", _AT, nullable=True),
        sa.Column("seen_version", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index("ix_incident_schedules_next_at", "incident_schedules", ["next_at"])
    op.create_table(
        "schedule_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("fired_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_schedule_marks_incident_id", "schedule_marks", ["incident_id"])
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("next_repeat_at", _AT, nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("acked_at", _AT, nullable=True),
        sa.Column("acked_by", sa.String(length=120), nullable=True),
        sa.Column("closed_at", _AT, nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_pages_incident_id", "pages", ["incident_id"])
    op.create_index("ix_pages_next_repeat_at", "pages", ["next_repeat_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("available_at", _AT, nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", _AT, nullable=True),
        sa.Column("delivered_at", _AT, nullable=True),
        sa.Column("failed_at", _AT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])
    op.create_index("ix_notifications_pending", "notifications", ["delivered_at", "available_at"])
    op.create_table(
        "incident_flags",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=32), nullable=False),
        sa.Column("set_at", _AT, nullable=False),
        sa.Column("set_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id", "flag"),
    )
    op.create_table(
        "regulatory_notices",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("regulator", sa.String(length=32), nullable=False),
        sa.Column("notified_at", _AT, nullable=False),
        sa.Column("notified_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id", "regulator"),
    )


def downgrade() -> None:
    op.drop_table("regulatory_notices")
    op.drop_table("incident_flags")
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.drop_index("ix_notifications_incident_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_pages_next_repeat_at", table_name="pages")
    op.drop_index("ix_pages_incident_id", table_name="pages")
    op.drop_table("pages")
    op.drop_index("ix_schedule_marks_incident_id", table_name="schedule_marks")
    op.drop_table("schedule_marks")
    op.drop_index("ix_incident_schedules_next_at", table_name="incident_schedules")
    op.drop_table("incident_schedules")
    op.drop_table("leases")
