"""Alembic environment: runs on the connection that bot.storage.db.migrate hands over."""

from __future__ import annotations

from alembic import context

import bot.storage.alert_models  # noqa: F401  (registers the alert and playbook tables)
from bot.storage import (
    sla_models,  # noqa: F401  (clocks, notifications, leases)
    slack_models,  # noqa: F401  (registers Slack's tables on Base)
    telegram_models,  # noqa: F401  (Telegram topics and chats)
    voice_models,  # noqa: F401  (voice notes and their drafts)
)
from bot.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `jamie migrate` (bot.storage.db.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
