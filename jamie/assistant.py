"""Jamie's answer to `ask`: ranked runbook passages, each cited.

This is the no-model path and the grounding of every model path to come: a model may
phrase a synthesis over these passages, but the passages are always part of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from bot.commands.ports import Answer, AssistantUnavailable, Citation
from jamie.knowledge import IndexMismatch, IndexNotBuilt, KnowledgeError, KnowledgeIndex

log = logging.getLogger(__name__)


class RunbookAssistant:
    def __init__(self, index: KnowledgeIndex, *, passages: int = 3) -> None:
        self._index = index
        self._k = passages
        self._lock = threading.Lock()

    def _search(self, question: str) -> Answer:
        with self._lock:
            found = self._index.search(question, k=self._k)
        return Answer(
            passages=tuple(
                Citation(
                    citation=p.citation, heading=p.heading, excerpt=p.text, language=p.language
                )
                for p in found
            )
        )

    async def ask(self, question: str, *, language: str) -> Answer:
        try:
            return await asyncio.to_thread(self._search, question)
        except IndexNotBuilt as exc:
            raise AssistantUnavailable("not_ready", str(exc)) from exc
        except IndexMismatch as exc:
            raise AssistantUnavailable("unavailable", "index built with another model") from exc
        except KnowledgeError as exc:
            log.warning("runbook search failed: %s", type(exc).__name__)
            raise AssistantUnavailable("unavailable", type(exc).__name__) from exc

    def warm_up(self) -> None:
        """Load the embedding model and the index now rather than on the first question."""
        try:
            self._search("P0")
        except KnowledgeError as exc:
            log.info("runbook index not ready at warm-up: %s", type(exc).__name__)
