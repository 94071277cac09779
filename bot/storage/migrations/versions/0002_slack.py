"""slack: incident channels and handled requests

Revision ID: 0002_slack
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_slack"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_incident_channels",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
        sa.UniqueConstraint("channel_id"),
    )
    op.create_table(
        "slack_requests",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("slack_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_requests_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slack_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_requests_created_at"))
    op.drop_table("slack_requests")
    op.drop_table("slack_incident_channels")
