"""alerts, alert groups, notifications, checklists and hook runs

Revision ID: 0003_alerts
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0001"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("group_labels", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("truncated_max", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", _AT, nullable=False),
        sa.Column("last_seen_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_hash"),
    )
    op.create_index("ix_alert_groups_incident_id", "alert_groups", ["incident_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("alertname", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.Text(), nullable=True),
        sa.Column("starts_at", _AT, nullable=False),
        sa.Column("ends_at", _AT, nullable=True),
        sa.Column("first_seen_at", _AT, nullable=False),
        sa.Column("last_seen_at", _AT, nullable=False),
        sa.Column("resolved_at", _AT, nullable=True),
        sa.Column("fire_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["alert_groups.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "fingerprint"),
    )
    op.create_index("ix_alerts_group_id", "alerts", ["group_id"])
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])

    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("spool_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Integer(), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.Column("processed_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["alert_groups.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("spool_id"),
    )
    op.create_index("ix_alert_notifications_group_id", "alert_notifications", ["group_id"])

    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hook", sa.String(length=80), nullable=True),
        sa.Column("attached_at", _AT, nullable=False),
        sa.Column("ticked_at", _AT, nullable=True),
        sa.Column("ticked_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "number"),
        sa.UniqueConstraint("incident_id", "playbook", "position"),
    )
    op.create_index("ix_checklist_items_incident_id", "checklist_items", ["incident_id"])

    op.create_table(
        "hook_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("hook", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", _AT, nullable=False),
        sa.Column("confirmed_by", sa.String(length=120), nullable=True),
        sa.Column("confirmed_at", _AT, nullable=True),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["checklist_items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hook_runs_incident_id", "hook_runs", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_hook_runs_incident_id", table_name="hook_runs")
    op.drop_table("hook_runs")
    op.drop_index("ix_checklist_items_incident_id", table_name="checklist_items")
    op.drop_table("checklist_items")
    op.drop_index("ix_alert_notifications_group_id", table_name="alert_notifications")
    op.drop_table("alert_notifications")
    op.drop_index("ix_alerts_incident_id", table_name="alerts")
    op.drop_index("ix_alerts_group_id", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_alert_groups_incident_id", table_name="alert_groups")
    op.drop_table("alert_groups")
