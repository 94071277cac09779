"""Root-cause suggestions: structure first, the model second.

The candidates come from the plan and the runbook, not from the model: the matching
playbook (its trigger as the hypothesis, its first diagnostic action as the next step) and
the runbook sections that share words with the incident (their heading as the area to
look at, their first diagnostic sentence as the step). The model, when one answers, only
ranks the candidates and gives each a one-line reason; the reasons pass the output checks
(no command outside the passages, no relayed instruction, grounded in the passages) and a
playbook confirmed by the incident's own alerts always stays first. With no candidate,
the answer is "I don't know". Nothing here acts on any system.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from bot.commands.ports import Hypothesis, IncidentBrief, PlaybookRef, Suggestion
from jamie.guard import OutputGuard
from jamie.knowledge import Passage
from jamie.knowledge.text import search_terms
from jamie.models.base import Backend, Message
from jamie.models.chain import ModelChain
from jamie.models.errors import ModelError
from jamie.playbook_match import PlaybookMatch, PlaybookMatcher, incident_terms, labels_text
from jamie.prompting import Trim, clip, fit

log = logging.getLogger(__name__)

MAX_CANDIDATES = 3
MIN_SHARED_TERMS = 2
RANK_TOKENS = 48
PLAN_CITATION = "deploy/plan.yaml#playbooks.{key}"
_DIAGNOSTIC = ("health check", "diagnos", "profil", "analys", "investigat", "check", "verif")
_STEP_VERBS = re.compile(
    r"(?i)\b(check|verify|confirm|review|inspect|run|analy[sz]e|profile|look|compare|test"
    r"|watch|measure|diagnos\w*|investigate)\b"
)
_RANK_LINE = re.compile(r"^\s*(?:candidate\s*)?#?(\d)\s*[:.)\-–]\s*(.*)$", re.IGNORECASE)

Search = Callable[[str, int], Awaitable[list[Passage]]]


@dataclass(frozen=True, slots=True)
class _Candidate:
    hypothesis: Hypothesis
    sources: str  # the text the hypothesis rests on, for checking the model's reason
    source: Passage | None = None  # the runbook section quoted to the model
    confirmed: bool = False


class RootCauseAdvisor:
    def __init__(
        self,
        search: Search,
        playbooks: Sequence[PlaybookRef],
        chain: ModelChain | None,
        *,
        guard: OutputGuard | None = None,
    ) -> None:
        self._search = search
        self._matcher = PlaybookMatcher(playbooks)
        self._chain = chain
        self._guard = guard or OutputGuard()

    def query(self, brief: IncidentBrief) -> str:
        labels = " ".join(labels_text(labels) for labels in brief.alert_labels)
        recent = " ".join(brief.timeline[-4:])
        return " ".join(f"{brief.severity} {brief.title} {labels} {recent}".split())[:600]

    async def suggest(self, brief: IncidentBrief, passages: Sequence[Passage]) -> Suggestion:
        """Ranked hypotheses for `brief` from `passages` (the search for `query(brief)`)."""
        matches = self._matcher.rank(brief, passages)
        playbook_passages = await self._playbook_passages(matches[:2])
        candidates = self._candidates(brief, matches, passages, playbook_passages)
        top = matches[0].playbook if matches else None
        if not candidates:
            return Suggestion(brief.ref, (), top)
        ranked, served_by, removed = await self._rank(brief, candidates, passages)
        return Suggestion(brief.ref, ranked, top, served_by=served_by, removed=removed)

    # -- candidates from structure --------------------------------------------------------

    async def _playbook_passages(self, matches: Sequence[PlaybookMatch]) -> dict[str, Passage]:
        found: dict[str, Passage] = {}
        for match in matches:
            book = match.playbook
            section = self._matcher.section_of(
                book.key, await self._search(f"{book.key} {book.trigger}", 4)
            )
            if section is not None:
                found[book.key] = section
        return found

    def _candidates(
        self,
        brief: IncidentBrief,
        matches: Sequence[PlaybookMatch],
        passages: Sequence[Passage],
        sections: dict[str, Passage],
    ) -> list[_Candidate]:
        candidates: list[_Candidate] = []
        best = matches[0].score if matches else 0.0
        for match in matches[:2]:
            if match is not matches[0] and match.score < best * 0.6:
                break
            candidates.append(self._from_playbook(match, sections.get(match.playbook.key)))
        terms = set(incident_terms(brief))
        used = {c for candidate in candidates for c in candidate.hypothesis.citations}
        for passage in passages:
            if len(candidates) >= MAX_CANDIDATES:
                break
            if passage.citation in used or passage.suspicious:
                continue
            if len(terms & set(search_terms(passage.text + " " + passage.heading))) < (
                MIN_SHARED_TERMS
            ):
                continue
            step = _first_step(passage.text)
            if step is None:
                continue
            used.add(passage.citation)
            hypothesis = Hypothesis(passage.heading, step, (passage.citation,))
            candidates.append(_Candidate(hypothesis, passage.text, passage))
        return candidates

    def _from_playbook(self, match: PlaybookMatch, section: Passage | None) -> _Candidate:
        book = match.playbook
        citations = [PLAN_CITATION.format(key=book.key)]
        if section is not None:
            citations.insert(0, section.citation)
        hypothesis = Hypothesis(
            cause=book.trigger,
            next_step=_diagnostic_action(book.actions),
            citations=tuple(citations),
            confirmed_by_alerts=match.confirmed,
        )
        sources = "\n".join([book.trigger, *book.actions, section.text if section else ""])
        return _Candidate(hypothesis, sources, section, match.confirmed)

    # -- ranking by the model -------------------------------------------------------------

    async def _rank(
        self,
        brief: IncidentBrief,
        candidates: list[_Candidate],
        passages: Sequence[Passage],
    ) -> tuple[tuple[Hypothesis, ...], str | None, int]:
        structural = tuple(c.hypothesis for c in candidates)
        if self._chain is None or not self._chain.available():
            return structural, None, 0
        quoted = [c.source for c in candidates if c.source is not None]

        def prompt(backend: Backend) -> list[Message]:
            values = {
                "incident": {
                    "ref": brief.ref,
                    "severity": brief.severity,
                    "title": brief.title,
                    "departments": list(brief.departments),
                },
                "timeline": list(brief.timeline),
                "alert_labels": [labels_text(labels) for labels in brief.alert_labels],
                "passages": [{"citation": p.citation, "text": clip(p.text)} for p in quoted],
                "candidates": [
                    f"{c.hypothesis.cause}. Next: {c.hypothesis.next_step}" for c in candidates
                ],
            }
            trims = [Trim("timeline", oldest_first=True), Trim("passages")]
            return fit("rca", values, backend, max_tokens=RANK_TOKENS, trims=trims)

        try:
            done = await self._chain.complete(prompt, max_tokens=RANK_TOKENS)
        except ModelError as exc:
            log.info("rca for %s without a model: %s", brief.ref, type(exc).__name__)
            return structural, None, 0
        order, reasons = _parse_ranking(done.text, len(candidates))
        removed = 0
        ranked: list[Hypothesis] = []
        for index in order:
            candidate = candidates[index]
            reason = reasons.get(index)
            if reason and _restates(reason, candidate.hypothesis):
                reason = None  # an echo of the candidate adds nothing
            if reason:
                checked = self._guard.check(reason, [candidate.sources])
                removed += sum(checked.dropped.values())
                reason = checked.text or None
            ranked.append(replace(candidate.hypothesis, reason=reason))
        # Alerts outrank a small model: a confirmed playbook stays first.
        ranked.sort(key=lambda h: not h.confirmed_by_alerts)
        return tuple(ranked), done.backend, removed


def _parse_ranking(text: str, count: int) -> tuple[list[int], dict[int, str]]:
    """Candidate order and reasons from "2: reason" lines; unnamed candidates keep their
    structural order after the named ones."""
    order: list[int] = []
    reasons: dict[int, str] = {}
    for line in text.splitlines():
        match = _RANK_LINE.match(line)
        if match is None:
            continue
        index = int(match.group(1)) - 1
        if 0 <= index < count and index not in order:
            order.append(index)
            reason = match.group(2).strip()
            if reason:
                reasons[index] = reason[:240]
    order += [i for i in range(count) if i not in order]
    return order, reasons


def _restates(reason: str, hypothesis: Hypothesis) -> bool:
    said = set(search_terms(reason))
    known = set(search_terms(f"{hypothesis.cause} {hypothesis.next_step} next"))
    return not (said - known)


def _diagnostic_action(actions: Sequence[str]) -> str:
    for marker in _DIAGNOSTIC:
        for action in actions:
            if marker in action.lower():
                return action
    return actions[0] if actions else ""


def _first_step(text: str) -> str | None:
    """The first list item or sentence of a passage that tells someone to look at something."""
    for line in re.split(r"\n+|(?<=[.!?])\s+", text):
        cleaned = re.sub(r"^\s*(?:[-*]|\d+[.)])\s*", "", line).strip()
        if 12 <= len(cleaned) <= 240 and _STEP_VERBS.search(cleaned):
            return cleaned
    return None
