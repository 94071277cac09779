"""SLA clocks: how each stage of an incident stands against the plan's targets.

A stage's clock starts at detection, or at the last severity change when that came later
and the stage was still open then: escalating a P1 to P0 gives the team the P0 targets
from the moment of escalation, not a clock that was already breached before it began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.enums import Stage
from bot.domain.incident import Incident

WARNING_SHARE = 0.8


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Clock:
    stage: Stage
    target: timedelta
    started_at: datetime
    deadline: datetime
    done_at: datetime | None
    state: ClockState

    def remaining(self, now: datetime) -> timedelta:
        """Time left before the deadline (negative once breached)."""
        return self.deadline - (self.done_at or now)

    @property
    def is_open(self) -> bool:
        return self.done_at is None


def _done_at(incident: Incident, stage: Stage) -> datetime | None:
    return {
        Stage.DETECTION: incident.detected_at,
        Stage.RESPONSE: incident.acknowledged_at,
        Stage.MITIGATION: incident.mitigated_at,
        Stage.RESOLUTION: incident.resolved_at,
    }[stage]


def _origin(incident: Incident, stage: Stage, done_at: datetime | None) -> datetime:
    if stage is Stage.DETECTION:
        return incident.started_at
    if incident.severity_since > incident.detected_at and (
        done_at is None or done_at > incident.severity_since
    ):
        return incident.severity_since
    return incident.detected_at


def _state(
    started: datetime, target: timedelta, done: datetime | None, now: datetime
) -> ClockState:
    deadline = started + target
    if done is not None:
        return ClockState.MET if done <= deadline else ClockState.MISSED
    if now > deadline:
        return ClockState.BREACHED
    if target.total_seconds() > 0 and (now - started) >= target * WARNING_SHARE:
        return ClockState.WARNING
    return ClockState.RUNNING


def clock_for(incident: Incident, stage: Stage, target: timedelta, now: datetime) -> Clock:
    done = _done_at(incident, stage)
    started = _origin(incident, stage, done)
    return Clock(
        stage=stage,
        target=target,
        started_at=started,
        deadline=started + target,
        done_at=done,
        state=_state(started, target, done, now),
    )


def clocks(
    incident: Incident, targets: dict[Stage, timedelta | None], now: datetime
) -> list[Clock]:
    """One clock per stage that has a target, in lifecycle order."""
    return [
        clock_for(incident, stage, target, now)
        for stage in Stage
        if (target := targets.get(stage)) is not None
    ]
