"""The plan's `alerts:` section: how alerts become incidents (severity, where they are
posted, what happens when every alert resolves, when a re-fire reopens)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bot.domain.enums import Severity, Transport
from bot.domain.people import ConversationRef


def _duration(value: object) -> object:
    # Imported here: bot.plan imports this module, and bot.plan.durations lives in bot.plan.
    from bot.plan.durations import parse_duration

    return parse_duration(value) if isinstance(value, str | int | float) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class OnAllResolved(StrEnum):
    """What Jamie does when every alert of an incident has resolved."""

    PROPOSE = "propose"  # a timeline entry and a post asking a commander to resolve
    RESOLVE = "resolve"  # resolve it as Alertmanager


def _default_map() -> dict[str, Severity]:
    return {
        "page": Severity.P0,
        "critical": Severity.P1,
        "high": Severity.P2,
        "error": Severity.P2,
        "warning": Severity.P3,
        "info": Severity.P3,
    }


class AlertPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    conversations: list[str] = Field(
        default_factory=list, description="where alert incidents are posted: transport:address"
    )
    severity_label: str = "severity"
    override_label: str = "jamie_severity"
    severity_map: dict[str, Severity] = Field(default_factory=_default_map)
    default_severity: Severity = Severity.P3
    departments_label: str = "jamie_departments"
    on_all_resolved: OnAllResolved = OnAllResolved.PROPOSE
    reopen_within: Duration = timedelta(hours=1)

    @field_validator("conversations")
    @classmethod
    def _conversations(cls, values: list[str]) -> list[str]:
        for value in values:
            transport, sep, address = value.partition(":")
            if not sep or not address or transport not in Transport.__members__.values():
                known = ", ".join(t.value for t in Transport)
                raise ValueError(
                    f"{value!r} is not transport:address (transports: {known}), "
                    "e.g. slack:C0INCIDENTS or console:local"
                )
        return values

    @field_validator("severity_map")
    @classmethod
    def _folded_keys(cls, mapping: dict[str, Severity]) -> dict[str, Severity]:
        return {key.casefold(): value for key, value in mapping.items()}

    def conversation_refs(self) -> list[ConversationRef]:
        refs = []
        for value in self.conversations:
            transport, _, address = value.partition(":")
            refs.append(ConversationRef(Transport(transport), address))
        return refs

    def severity_for(self, labels: Mapping[str, str]) -> Severity:
        """The override label if it names a level, else the mapped severity label, else the
        default. A severity label that already says P0-P3 is taken as written."""
        override = Severity.parse(labels.get(self.override_label, ""))
        if override is not None:
            return override
        given = labels.get(self.severity_label, "").strip()
        mapped = self.severity_map.get(given.casefold()) or Severity.parse(given)
        return mapped or self.default_severity
