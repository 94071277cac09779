"""telegram: incident topics, chat fates, voice notes and their drafts

Revision ID: 0005_telegram
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_telegram"
down_revision = "0001"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "telegram_incident_topics",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("card_message_id", sa.Integer(), nullable=True),
        sa.Column("claimed_until", _AT, nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("migrated_to", sa.String(length=32), nullable=True),
        sa.Column("gone_at", _AT, nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    op.create_table(
        "voice_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("file_ref", sa.String(length=300), nullable=False),
        sa.Column("conversation", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=32), nullable=True),
        sa.Column("reply_ref", sa.String(length=64), nullable=True),
        sa.Column("audio_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transport", "source_key"),
    )
    with op.batch_alter_table("voice_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_notes_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_notes_incident_id"))
    op.drop_table("voice_notes")
    op.drop_table("telegram_chats")
    op.drop_table("telegram_incident_topics")
