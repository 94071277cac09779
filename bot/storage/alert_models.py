"""Tables for alerts and playbooks: the groups Alertmanager notifies about, each alert's
state per incident, the log of notifications processed, checklist steps and hook runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class AlertGroupRow(Base):
    """An Alertmanager group (receiver + group key) and the incident it currently feeds."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_hash: Mapped[str] = mapped_column(String(64), unique=True)
    group_key: Mapped[str] = mapped_column(Text)
    receiver: Mapped[str] = mapped_column(String(200))
    group_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    truncated_max: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AlertRow(Base):
    """One alert (by fingerprint) on one incident: firing or resolved, and when."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("incident_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    alertname: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(2))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    generator_url: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    fire_count: Mapped[int] = mapped_column(Integer, default=1)


class AlertNotificationRow(Base):
    """Each notification processed, once (the spool id is unique): the intake's audit log."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    spool_id: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    status: Mapped[str] = mapped_column(String(16))
    alerts: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime]


class ChecklistItemRow(Base):
    """A playbook step on an incident, numbered per incident; ticked at most once."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        UniqueConstraint("incident_id", "number"),
        UniqueConstraint("incident_id", "playbook", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    playbook: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    hook: Mapped[str | None] = mapped_column(String(80))
    attached_at: Mapped[datetime]
    ticked_at: Mapped[datetime | None]
    ticked_by: Mapped[str | None] = mapped_column(String(120))


class HookRunRow(Base):
    """A hook asked for (`run`), confirmed (`confirm`) and run, with its recorded output."""

    __tablename__ = "hook_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"))
    hook: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime]
    confirmed_by: Mapped[str | None] = mapped_column(String(120))
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    exit_code: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[str | None] = mapped_column(Text)
