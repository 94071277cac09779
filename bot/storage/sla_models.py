"""Tables for clocks, people and leadership (migration 0004_sla).

leases               who runs the scheduled work; taken over when it expires
incident_schedules   per incident: when its clocks next need looking at
schedule_marks       each warning, breach, cadence slot or reminder, fired once (unique key)
notifications        the outbox to people: one row per person and channel
pages                a page to a person that repeats until they acknowledge it
incident_flags       regulatory flags on an incident (patient safety, data breach, ...)
regulatory_notices   a regulator notified for an incident, by whom and when
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class LeaseRow(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IncidentScheduleRow(Base):
    """`next_at`: the earliest moment something may fall due for the incident (a warning,
    breach, tier, cadence slot or reminder); `seen_version`: the incident's version when it
    was computed, so any change to the incident makes the sweep look again at once."""

    __tablename__ = "incident_schedules"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    next_at: Mapped[datetime | None] = mapped_column(index=True)
    seen_version: Mapped[int] = mapped_column(Integer, default=0)
    evaluated_at: Mapped[datetime]


class ScheduleMarkRow(Base):
    """Something that must happen once per incident: inserting the key is the claim."""

    __tablename__ = "schedule_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime]


class NotificationRow(Base):
    """A message to one person on one channel, written with the change that caused it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "delivered_at", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    contact: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class PageRow(Base):
    """Repeats every `paging.repeat_every` until acknowledged, its stage is done, the
    incident is resolved, or `paging.max_repeats` ran out (`closed_at` with the reason)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    contact: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(16))
    channels: Mapped[list[str]] = mapped_column(default=list)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    next_repeat_at: Mapped[datetime | None] = mapped_column(index=True)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(32))


class IncidentFlagRow(Base):
    __tablename__ = "incident_flags"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(32), primary_key=True)
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(120))


class RegulatoryNoticeRow(Base):
    __tablename__ = "regulatory_notices"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    regulator: Mapped[str] = mapped_column(String(32), primary_key=True)
    notified_at: Mapped[datetime]
    notified_by: Mapped[str] = mapped_column(String(120))
