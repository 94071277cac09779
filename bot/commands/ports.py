"""What the command layer needs from Jamie's assistant, stated here so bot/ never imports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class AssistantUnavailable(Exception):
    """The assistant cannot answer now; `reason_key` is `not_ready` or `unavailable`."""

    def __init__(self, reason_key: str, detail: str = "") -> None:
        self.reason_key = reason_key
        self.detail = detail
        super().__init__(f"{reason_key}: {detail}")


class Assistant(Protocol):
    async def ask(self, question: str, *, language: str) -> Answer: ...
