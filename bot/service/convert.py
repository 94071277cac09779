"""Rows to domain snapshots."""

from __future__ import annotations

from bot.domain.enums import EntryKind, Severity, Status, Transport
from bot.domain.incident import Incident, TimelineEntry
from bot.storage.models import IncidentRow, TimelineRow


def entry_from_row(row: TimelineRow) -> TimelineEntry:
    return TimelineEntry(
        at=row.at,
        kind=EntryKind(row.kind),
        actor=row.actor,
        transport=Transport(row.transport),
        text=row.text,
        data=dict(row.data or {}),
    )


def incident_from_row(row: IncidentRow, *, with_timeline: bool = False) -> Incident:
    return Incident(
        number=row.id,
        title=row.title,
        severity=Severity(row.severity),
        status=Status(row.status),
        departments=tuple(row.departments or ()),
        patient_impact=row.patient_impact,
        commander=row.commander,
        declared_by=row.declared_by,
        source=Transport(row.source),
        started_at=row.started_at,
        detected_at=row.detected_at,
        declared_at=row.declared_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        mitigated_at=row.mitigated_at,
        resolved_at=row.resolved_at,
        root_cause=row.root_cause,
        severity_since=row.severity_since,
        last_update=row.last_update,
        last_update_at=row.last_update_at,
        next_status_at=row.next_status_at,
        reopen_count=row.reopen_count,
        timeline=tuple(entry_from_row(e) for e in row.timeline) if with_timeline else (),
    )
