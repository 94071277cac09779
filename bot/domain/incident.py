"""Read-only snapshots of an incident and its timeline, handed to renderers and transports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.enums import EntryKind, Severity, Status, Transport

_REF = re.compile(r"^\s*(?:#|inc[-_ ]?)?0*(\d{1,9})\s*$", re.IGNORECASE)


def format_ref(number: int) -> str:
    return f"INC-{number:04d}"


def parse_ref(text: str) -> int | None:
    """INC-0042, inc-42, #42 and 42 all name incident 42."""
    match = _REF.match(text)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def looks_like_ref(text: str) -> bool:
    stripped = text.strip()
    return bool(_REF.match(stripped)) and (not stripped.isdigit() or len(stripped) <= 6)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: EntryKind
    actor: str
    transport: Transport
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incident:
    number: int
    title: str
    severity: Severity
    status: Status
    departments: tuple[str, ...]
    patient_impact: bool
    commander: str | None
    declared_by: str
    source: Transport
    started_at: datetime
    detected_at: datetime
    declared_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    root_cause: str | None
    severity_since: datetime
    last_update: str | None
    last_update_at: datetime | None
    next_status_at: datetime | None
    reopen_count: int
    timeline: tuple[TimelineEntry, ...] = ()

    @property
    def ref(self) -> str:
        return format_ref(self.number)

    @property
    def is_active(self) -> bool:
        return self.status.is_active
