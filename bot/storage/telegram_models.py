"""Telegram's tables: each incident's topic (or group) and card, and what Jamie learnt
about chats it posts to (moved to a supergroup, or removed Jamie)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class TelegramTopicRow(Base):
    """Where an incident lives in the ops group: a forum topic (`thread_id`), or the group
    itself when topics are off (`thread_id` None), and its card message. The row is claimed
    (state `creating`) before `createForumTopic`, so two workers never make two topics."""

    __tablename__ = "telegram_incident_topics"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # creating, ready
    chat_id: Mapped[str | None] = mapped_column(String(32))
    thread_id: Mapped[int | None] = mapped_column(Integer)
    card_message_id: Mapped[int | None] = mapped_column(Integer)
    claimed_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class TelegramChatRow(Base):
    """A chat's fate: upgraded to a supergroup (`migrated_to`), or Jamie removed (`gone_at`)."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    migrated_to: Mapped[str | None] = mapped_column(String(32))
    gone_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
