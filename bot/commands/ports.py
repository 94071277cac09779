"""What the command layer needs from Jamie's assistant, stated here so bot/ never imports it.

`Assistant` answers runbook questions (every assistant, including the test doubles, has
it). `Advisor` is the model-backed part: answers that remember the incident's conversation,
root-cause suggestions and translations. Both are met by `jamie.assistant.RunbookAssistant`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Citation:
    citation: str  # "file.md#anchor"
    heading: str
    excerpt: str
    language: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A grounded answer: passages always; a synthesis only when a model wrote one."""

    passages: tuple[Citation, ...]
    synthesis: str | None = None
    served_by: str | None = None
    note: str | None = None  # e.g. the question was shortened to fit the model


class AssistantUnavailable(Exception):
    """The assistant cannot answer now; `reason_key` is `not_ready` or `unavailable`."""

    def __init__(self, reason_key: str, detail: str = "") -> None:
        self.reason_key = reason_key
        self.detail = detail
        super().__init__(f"{reason_key}: {detail}")


class Assistant(Protocol):
    async def ask(self, question: str, *, language: str) -> Answer: ...


# -- the model-backed advisor ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaybookRef:
    """A plan playbook as the advisor sees it (deploy/plan.yaml `playbooks:`)."""

    key: str
    trigger: str
    severity: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IncidentBrief:
    """What the advisor may read about an incident: its facts, never who reported it."""

    ref: str
    title: str
    severity: str
    status: str
    departments: tuple[str, ...] = ()
    patient_impact: bool = False
    timeline: tuple[str, ...] = ()  # "HH:MM kind: text", oldest first
    alert_labels: tuple[Mapping[str, str], ...] = ()
    playbooks: tuple[str, ...] = ()  # attached to it, or triggered by its alerts


@dataclass(frozen=True, slots=True)
class Hypothesis:
    cause: str
    next_step: str
    citations: tuple[str, ...]
    reason: str | None = None  # the model's one-line reason, when it passed the checks
    confirmed_by_alerts: bool = False


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Ranked hypotheses, each with its next diagnostic step and sources; no hypotheses
    means "I don't know". A suggestion never acts."""

    ref: str
    hypotheses: tuple[Hypothesis, ...]
    playbook: PlaybookRef | None = None
    served_by: str | None = None
    removed: int = 0  # model statements dropped by the output checks
    note: str | None = None
    passages: tuple[Citation, ...] = field(default=())

    @property
    def known(self) -> bool:
        return bool(self.hypotheses)


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    language: str  # the language `text` is in
    translated: bool
    source_language: str | None = None
    served_by: str | None = None


@runtime_checkable
class Advisor(Protocol):
    def models_available(self) -> bool: ...

    async def ask_in_thread(self, question: str, *, language: str, thread: str) -> Answer: ...

    async def suggest(self, brief: IncidentBrief, *, language: str) -> Suggestion: ...

    async def translate(
        self, text: str, *, target_language: str, source_language: str | None = None
    ) -> Translation: ...

    async def run_health_checks(self, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...
