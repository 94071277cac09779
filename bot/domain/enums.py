"""Named values of the incident domain."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 is the most severe."""
        return int(self.value[1])

    def raised(self) -> Severity | None:
        """The next more severe level, or None at P0."""
        return None if self.rank == 0 else Severity(f"P{self.rank - 1}")

    def lowered(self) -> Severity | None:
        """The next less severe level, or None at P3."""
        return None if self.rank == 3 else Severity(f"P{self.rank + 1}")

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        cleaned = text.strip().upper().replace("SEV", "P")
        return cls.__members__.get(cleaned)


class Status(StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        return self is not Status.RESOLVED


class Stage(StrEnum):
    """The SLA stages the plan sets a target for."""

    DETECTION = "detection"
    RESPONSE = "response"
    MITIGATION = "mitigation"
    RESOLUTION = "resolution"


class Transport(StrEnum):
    CONSOLE = "console"
    SLACK = "slack"
    TELEGRAM = "telegram"
    ALERTMANAGER = "alertmanager"
    SYSTEM = "system"


class EntryKind(StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    DOWNGRADED = "downgraded"
    UPDATE = "update"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ASSIGNED = "assigned"


class Role(StrEnum):
    """What a person may do; see bot.commands.policy for the table."""

    OBSERVER = "observer"
    RESPONDER = "responder"
    COMMANDER = "commander"

    @property
    def level(self) -> int:
        return {"observer": 0, "responder": 1, "commander": 2}[self.value]
