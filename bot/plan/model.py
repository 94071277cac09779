"""The shape of the plan file. Every field a person can get wrong is validated here."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.alerts.policy import AlertPolicy
from bot.domain.enums import Role, Severity, Stage
from bot.plan.durations import parse_duration
from bot.playbooks.model import Condition, Hook, MatcherSet, StepItem

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Channel(StrEnum):
    """How a person is reached."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    PAGING = "paging"
    CHAT = "chat"
    BROADCAST = "broadcast"


def _at_least_one_second(value: timedelta) -> timedelta:
    if value.total_seconds() < 1:
        raise ValueError("an interval must be at least 1s")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Targets(_Strict):
    detection: Duration
    response: Duration
    mitigation: Duration | None = None
    resolution: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Targets:
        chain = [self.response, self.mitigation, self.resolution]
        present = [d for d in chain if d is not None]
        if present != sorted(present):
            raise ValueError("targets must grow: response <= mitigation <= resolution")
        return self

    def for_stage(self, stage: Stage) -> timedelta | None:
        value: timedelta | None = getattr(self, stage.value)
        return value


class EscalationStep(_Strict):
    notify: list[str] = Field(min_length=1, description="contact or group keys")
    after: Duration = timedelta(0)
    channels: list[Channel] = Field(default_factory=lambda: [Channel.SMS])
    note: str = ""


class BreachTier(_Strict):
    """Who hears of an SLA breach, `after` the deadline, while the stage is still open.
    Without `channels`, the plan's `routing` for the incident's severity decides."""

    notify: list[str] = Field(min_length=1, description="contact or group keys")
    after: Duration = timedelta(0)
    channels: list[Channel] | None = None


class SeverityPolicy(_Strict):
    name: str
    label: dict[str, str] = Field(description="short label per language, e.g. pt-BR, en")
    summary: dict[str, str]
    scenarios: list[str] = Field(default_factory=list)
    targets: Targets
    escalation: list[EscalationStep] = Field(default_factory=list)
    breach: list[BreachTier] = Field(default_factory=list, description="tiers paged on breach")
    status_update_every: Duration | None = None

    @field_validator("status_update_every")
    @classmethod
    def _interval_positive(cls, value: timedelta | None) -> timedelta | None:
        return None if value is None else _at_least_one_second(value)

    business_hours_only: bool = False


class Cadence(_Strict):
    """A stakeholder's recurring update while an incident of these severities is active."""

    notify: list[str] = Field(min_length=1)
    severities: list[Severity] = Field(min_length=1)
    first_after: Duration = timedelta(0)
    every: Duration
    channels: list[Channel] = Field(default_factory=lambda: [Channel.SMS])
    include_workarounds: bool = False
    on_resolution: bool = True


class Contact(_Strict):
    name: str
    role: str
    phone: str | None = None
    phone_secondary: str | None = None
    email: str | None = None
    pager: str | None = None  # the paging system's id; the phone when absent
    chat: dict[str, str] = Field(default_factory=dict, description="transport -> DM address")
    language: str = "pt-BR"
    response_time: Duration | None = None
    availability: str = ""
    escalates_for: str = ""


class RegulatoryFlag(StrEnum):
    PATIENT_SAFETY = "patient_safety"
    PERSONAL_DATA_BREACH = "personal_data_breach"
    MEDICAL_PRACTICE_FAILURE = "medical_practice_failure"


class RegulatoryDeadline(_Strict):
    authority: str
    trigger: RegulatoryFlag
    deadline: Duration
    contact: str
    description: dict[str, str]
    notify: list[str] = Field(default_factory=list, description="who is reminded, besides chat")
    channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL])
    remind_at: list[float] = Field(
        default_factory=lambda: [0.0, 0.5, 0.75, 0.9, 1.0],
        description="reminders as shares of the deadline, from the moment of the flag",
    )
    overdue_every: Duration = timedelta(hours=1)

    @model_validator(mode="after")
    def _shares(self) -> RegulatoryDeadline:
        if not self.remind_at or any(not 0 <= s <= 1 for s in self.remind_at):
            raise ValueError("remind_at: shares of the deadline between 0 and 1, e.g. [0, 0.5]")
        if self.remind_at != sorted(self.remind_at):
            raise ValueError("remind_at: shares must grow, e.g. [0, 0.5, 0.9, 1]")
        if self.overdue_every <= timedelta(0):
            raise ValueError("overdue_every: must be longer than 0s, e.g. 1h")
        return self


class Responder(_Strict):
    """A person who may act on incidents, with the identities they use per transport."""

    name: str
    role: Role
    language: str = "pt-BR"
    identities: dict[str, list[str]] = Field(default_factory=dict)
    contact: str | None = None  # their entry in `contacts`: whose pages their `ack` stops


class Department(_Strict):
    name: dict[str, str]
    aliases: list[str] = Field(default_factory=list)
    head: str | None = None


class Playbook(_Strict):
    """An automated playbook: what triggers it and the steps it puts on the incident."""

    trigger: str
    severity: Severity
    actions: list[StepItem] = Field(min_length=1)
    alerts: list[MatcherSet] = Field(default_factory=list, description="label matcher sets")
    condition: Condition | None = None


class StatusUpdates(_Strict):
    every: Duration = timedelta(minutes=5)

    @field_validator("every")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        return _at_least_one_second(value)


class Paging(_Strict):
    """A page to a person on an urgent channel repeats until they acknowledge it."""

    repeat_every: Duration = timedelta(minutes=5)
    max_repeats: int = Field(default=12, ge=0)
    urgent_channels: list[Channel] = Field(
        default_factory=lambda: [Channel.CALL, Channel.SMS, Channel.PAGING]
    )


def _default_routing() -> dict[Severity, list[Channel]]:
    urgent, routine = [Channel.SMS, Channel.PAGING], [Channel.EMAIL]
    return {Severity.P0: urgent, Severity.P1: urgent, Severity.P2: routine, Severity.P3: routine}


class Plan(_Strict):
    version: str
    organisation: str
    timezone: str = "America/Sao_Paulo"
    default_language: str = "pt-BR"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. America/Sao_Paulo)") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in ("pt-BR", "en"):
            raise ValueError(f"{value!r} is not supported: use pt-BR or en")
        return value

    severities: dict[Severity, SeverityPolicy]
    status_updates: StatusUpdates = StatusUpdates()
    contacts: dict[str, Contact]
    groups: dict[str, list[str]] = Field(default_factory=dict)
    departments: dict[str, Department] = Field(default_factory=dict)
    cadences: list[Cadence] = Field(default_factory=list)
    regulatory: dict[str, RegulatoryDeadline] = Field(default_factory=dict)
    responders: dict[str, Responder] = Field(default_factory=dict)
    playbooks: dict[str, Playbook] = Field(default_factory=dict)
    hooks: dict[str, Hook] = Field(default_factory=dict)
    alerts: AlertPolicy = AlertPolicy()
    routing: dict[Severity, list[Channel]] = Field(default_factory=_default_routing)
    paging: Paging = Paging()

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        missing = [s.value for s in Severity if s not in self.severities]
        if missing:
            raise ValueError(f"severities: missing {', '.join(missing)}")
        known = set(self.contacts) | set(self.groups)
        for group, members in self.groups.items():
            for member in members:
                if member not in self.contacts:
                    raise ValueError(f"groups.{group}: unknown contact {member!r}")
        for sev, policy in self.severities.items():
            for i, step in enumerate(policy.escalation):
                for key in step.notify:
                    if key not in known:
                        raise ValueError(
                            f"severities.{sev.value}.escalation.{i}.notify: unknown contact "
                            f"or group {key!r}"
                        )
            for i, tier in enumerate(policy.breach):
                for key in tier.notify:
                    if key not in known:
                        raise ValueError(
                            f"severities.{sev.value}.breach.{i}.notify: unknown contact "
                            f"or group {key!r}"
                        )
        for i, cadence in enumerate(self.cadences):
            for key in cadence.notify:
                if key not in known:
                    raise ValueError(f"cadences.{i}.notify: unknown contact or group {key!r}")
        for name, reg in self.regulatory.items():
            if reg.contact not in self.contacts:
                raise ValueError(f"regulatory.{name}.contact: unknown contact {reg.contact!r}")
            for key in reg.notify:
                if key not in known:
                    raise ValueError(f"regulatory.{name}.notify: unknown contact or group {key!r}")
        for name, person in self.responders.items():
            if person.contact and person.contact not in self.contacts:
                raise ValueError(f"responders.{name}.contact: unknown contact {person.contact!r}")
        for name, dept in self.departments.items():
            if dept.head and dept.head not in self.contacts:
                raise ValueError(f"departments.{name}.head: unknown contact {dept.head!r}")
        for name, book in self.playbooks.items():
            for i, action in enumerate(book.actions):
                if action.hook is not None and action.hook not in self.hooks:
                    raise ValueError(
                        f"playbooks.{name}.actions.{i}.hook: unknown hook {action.hook!r}"
                    )
        return self

    def policy(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]

    def status_interval(self, severity: Severity) -> timedelta:
        return self.severities[severity].status_update_every or self.status_updates.every

    def expand(self, keys: list[str]) -> list[str]:
        """Contact keys for a list of contact or group keys, in order, without repeats."""
        seen: dict[str, None] = {}
        for key in keys:
            for member in self.groups.get(key, [key]):
                seen.setdefault(member, None)
        return list(seen)

    def department_key(self, text: str) -> str | None:
        """The department named by a key, alias or localised name (case-insensitive)."""
        wanted = text.strip().casefold()
        for key, dept in self.departments.items():
            names = [key, *dept.aliases, *dept.name.values()]
            if wanted in (n.casefold() for n in names):
                return key
        return None
