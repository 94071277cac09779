"""What falls due for one incident at a moment, and when the next thing will: pure arithmetic
over the incident, the plan and the time (no database, no clock of its own).

Each due item carries a key that names it for good: the stage and the moment its clock
started (so a severity change, which restarts open clocks, makes new warnings), the
cadence slot, the reminder number. The sweep inserts the key before acting, so a key acts
once however often, by however many instances, the agenda is computed. Repeating things
(cadences, reminders) only ever offer their latest slot: a machine that slept through
five slots sends one late notice, not five.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.enums import Severity, Stage
from bot.domain.incident import Incident
from bot.domain.sla import WARNING_SHARE, Clock, clocks
from bot.plan.model import Channel, Plan, RegulatoryDeadline, RegulatoryFlag


class DueKind(StrEnum):
    WARNING = "sla_warning"
    BREACH = "sla_breach"
    ESCALATION = "escalation"
    CADENCE = "cadence"
    RESOLUTION = "resolution"
    REMINDER = "regulatory"


@dataclass(frozen=True, slots=True)
class Due:
    key: str
    kind: DueKind
    at: datetime
    contacts: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    clock: Clock | None = None
    tier: int = 0
    regulator: str | None = None
    deadline: datetime | None = None
    include_workarounds: bool = False

    @property
    def stage(self) -> Stage | None:
        return self.clock.stage if self.clock else None


@dataclass(frozen=True, slots=True)
class Agenda:
    due: list[Due] = field(default_factory=list)
    next_at: datetime | None = None


def stamp(moment: datetime) -> str:
    """A compact, stable UTC form for keys: 20260302T150000.000000."""
    return moment.strftime("%Y%m%dT%H%M%S.%f")


def sla_clocks(incident: Incident, plan: Plan, now: datetime) -> list[Clock]:
    targets = plan.policy(incident.severity).targets
    return clocks(incident, {s: targets.for_stage(s) for s in Stage}, now)


def agenda(
    incident: Incident,
    plan: Plan,
    now: datetime,
    *,
    flags: dict[RegulatoryFlag, datetime] | None = None,
    notified: Iterable[str] = (),
) -> Agenda:
    """Everything due at `now` (not yet filtered by what already fired) and the next moment."""
    due: list[Due] = []
    later: list[datetime] = []
    if incident.is_active:
        _clock_items(incident, plan, now, due, later)
        _escalation_items(incident, plan, now, due, later)
        _cadence_items(incident, plan, now, due, later)
    else:
        _resolution_items(incident, plan, due)
    _regulatory_items(plan, now, flags or {}, set(notified), due, later)
    return Agenda(due, min(later) if later else None)


def _clock_items(
    incident: Incident, plan: Plan, now: datetime, due: list[Due], later: list[datetime]
) -> None:
    policy = plan.policy(incident.severity)
    for clock in sla_clocks(incident, plan, now):
        if not clock.is_open or clock.target <= timedelta(0):
            continue
        origin = f"{clock.stage.value}:{stamp(clock.started_at)}"
        warn_at = clock.started_at + clock.target * WARNING_SHARE
        if now < warn_at:
            later.append(warn_at)
            continue
        if now < clock.deadline:
            due.append(Due(f"warn:{origin}", DueKind.WARNING, warn_at, clock=clock))
            later.append(clock.deadline)
            continue
        tiers = policy.breach or []
        routing = tuple(plan.routing.get(incident.severity, [Channel.EMAIL]))
        for i in range(max(1, len(tiers))):
            tier = tiers[i] if tiers else None
            at = clock.deadline + (tier.after if tier else timedelta(0))
            if now < at:
                later.append(at)
                continue
            contacts = tuple(plan.expand(tier.notify)) if tier else ()
            channels = tuple(tier.channels) if tier and tier.channels else routing
            due.append(
                Due(f"breach:{origin}:{i}", DueKind.BREACH, at, contacts, channels, clock, tier=i)
            )


def cadence_contacts(plan: Plan, severity: Severity) -> set[str]:
    """Stakeholders the plan's cadences keep informed at this severity."""
    found: set[str] = set()
    for cadence in plan.cadences:
        if severity in cadence.severities:
            found.update(plan.expand(cadence.notify))
    return found


def _escalation_items(
    incident: Incident, plan: Plan, now: datetime, due: list[Due], later: list[datetime]
) -> None:
    """The plan's escalation steps, from the last severity change. Stakeholders who have a
    cadence at this severity hear from the cadence instead, so nobody gets two messages."""
    covered = cadence_contacts(plan, incident.severity)
    since = incident.severity_since
    response = next(
        (c for c in sla_clocks(incident, plan, now) if c.stage is Stage.RESPONSE), None
    )
    for i, step in enumerate(plan.policy(incident.severity).escalation):
        at = since + step.after
        if now < at:
            later.append(at)
            continue
        contacts = tuple(c for c in plan.expand(step.notify) if c not in covered)
        if contacts:
            key = f"esc:{incident.severity.value}:{stamp(since)}:{i}"
            channels = tuple(step.channels)
            due.append(Due(key, DueKind.ESCALATION, at, contacts, channels, clock=response))


def _cadence_items(
    incident: Incident, plan: Plan, now: datetime, due: list[Due], later: list[datetime]
) -> None:
    since = incident.severity_since
    for j, cadence in enumerate(plan.cadences):
        if incident.severity not in cadence.severities:
            continue
        first = since + cadence.first_after
        if now < first:
            later.append(first)
            continue
        slot = int((now - first) / cadence.every)
        due.append(
            Due(
                f"cad:{j}:{stamp(since)}:{slot}",
                DueKind.CADENCE,
                first + slot * cadence.every,
                tuple(plan.expand(cadence.notify)),
                tuple(cadence.channels),
                include_workarounds=cadence.include_workarounds,
            )
        )
        later.append(first + (slot + 1) * cadence.every)


def _resolution_items(incident: Incident, plan: Plan, due: list[Due]) -> None:
    """The resolution notice, to every stakeholder whose cadence had started."""
    resolved = incident.resolved_at
    if resolved is None:
        return
    for j, cadence in enumerate(plan.cadences):
        started = incident.severity_since + cadence.first_after <= resolved
        if cadence.on_resolution and incident.severity in cadence.severities and started:
            due.append(
                Due(
                    f"res:{j}:{stamp(resolved)}",
                    DueKind.RESOLUTION,
                    resolved,
                    tuple(plan.expand(cadence.notify)),
                    tuple(cadence.channels),
                )
            )


def reminder_times(rule: RegulatoryDeadline, flagged_at: datetime) -> list[datetime]:
    """The reminders up to the deadline; after it, one every `overdue_every`."""
    times = [flagged_at + rule.deadline * share for share in rule.remind_at]
    return sorted(dict.fromkeys(times))


def _regulatory_items(
    plan: Plan,
    now: datetime,
    flags: dict[RegulatoryFlag, datetime],
    notified: set[str],
    due: list[Due],
    later: list[datetime],
) -> None:
    for name, rule in plan.regulatory.items():
        flagged_at = flags.get(rule.trigger)
        if flagged_at is None or name in notified:
            continue
        deadline = flagged_at + rule.deadline
        times = reminder_times(rule, flagged_at)
        if now < times[0]:
            later.append(times[0])
            continue
        overdue = int((now - deadline) / rule.overdue_every) if now >= deadline else 0
        if overdue >= 1:
            number, at = len(times) - 1 + overdue, deadline + overdue * rule.overdue_every
        else:
            number = max(i for i, t in enumerate(times) if t <= now)
            at = times[number]
        if number + 1 < len(times):
            later.append(times[number + 1])
        else:
            later.append(deadline + (overdue + 1) * rule.overdue_every)
        due.append(
            Due(
                f"reg:{name}:{stamp(flagged_at)}:{number}",
                DueKind.REMINDER,
                at,
                tuple(plan.expand(rule.notify)),
                tuple(rule.channels),
                regulator=name,
                deadline=deadline,
            )
        )
