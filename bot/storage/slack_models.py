"""Slack's tables: the channel made for each incident, and the requests already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class SlackChannelRow(Base):
    """The incident's Slack channel and its pinned card. One per incident: the row is claimed
    (state `creating`) before `conversations.create`, so two workers never make two channels."""

    __tablename__ = "slack_incident_channels"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # creating, ready, failed
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SlackRequestRow(Base):
    """A Slack request already handled, keyed by Slack's own ids (event_id, trigger_id, view
    id) or by what a click means (action, incident, card revision)."""

    __tablename__ = "slack_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(index=True)
