"""Questions Jamie asked with a reply field (ForceReply), waiting for their answer: the
root cause for a Resolve press, the corrected text for an Edit press.

Held in memory: a restart forgets them, and the person presses the button again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

MAX_OPEN = 500


class PromptKind(StrEnum):
    ROOT_CAUSE = "root_cause"
    EDIT_DRAFT = "edit_draft"


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: PromptKind
    target: int  # the incident (root cause) or the voice note (edit)
    user_id: str
    language: str


class Prompts:
    def __init__(self) -> None:
        self._open: OrderedDict[tuple[int, int], Prompt] = OrderedDict()

    def add(self, chat: int, message_id: int, prompt: Prompt) -> None:
        self._open[(chat, message_id)] = prompt
        while len(self._open) > MAX_OPEN:
            self._open.popitem(last=False)

    def take(self, chat: int, message_id: int, user_id: str) -> Prompt | None:
        """The prompt this message answers, if its asker is the one answering."""
        prompt = self._open.get((chat, message_id))
        if prompt is None or prompt.user_id != user_id:
            return None
        del self._open[(chat, message_id)]
        return prompt
