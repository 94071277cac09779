"""Which plan playbook an incident matches, from its words, its alerts and the runbook.

A playbook named by the incident (attached, or triggered by its alert labels) is certain.
Otherwise each playbook is scored by the discriminative terms it shares with the incident
(its key, trigger and actions; Portuguese words bridged to English) plus a bonus when the
runbook search ranked that playbook's own section highly. Below `MIN_SCORE` nothing
matches: Jamie would rather say it does not know.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.commands.ports import IncidentBrief, PlaybookRef
from jamie.knowledge import Passage
from jamie.knowledge.glossary import bridge
from jamie.knowledge.text import search_terms

MIN_SCORE = 2.0
CONFIRMED = 100.0
_PASSAGE_BONUS = 3.0
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_LABEL_KEYS_SKIPPED = {"severity", "jamie_playbook", "job", "prometheus", "receiver"}


@dataclass(frozen=True, slots=True)
class PlaybookMatch:
    playbook: PlaybookRef
    score: float
    confirmed: bool


def incident_terms(brief: IncidentBrief) -> list[str]:
    """The incident's words for matching: title, timeline, alert label names and values."""
    parts = [brief.title, *brief.timeline]
    for labels in brief.alert_labels:
        for key, value in labels.items():
            if key not in _LABEL_KEYS_SKIPPED:
                parts.append(_CAMEL.sub(" ", str(value)).replace("_", " "))
    return bridge(search_terms(" ".join(parts)))


class PlaybookMatcher:
    def __init__(self, playbooks: Sequence[PlaybookRef]) -> None:
        self.playbooks = list(playbooks)
        self._profiles = {p.key: _profile(p) for p in self.playbooks}
        documents = len(self.playbooks) or 1
        frequency: Counter[str] = Counter()
        for profile in self._profiles.values():
            frequency.update(profile.keys())
        self._idf = {t: math.log(1 + documents / n) for t, n in frequency.items()}

    def rank(self, brief: IncidentBrief, passages: Sequence[Passage] = ()) -> list[PlaybookMatch]:
        """Matching playbooks, best first; empty when none reaches `MIN_SCORE`."""
        terms = set(incident_terms(brief))
        matches = []
        for playbook in self.playbooks:
            profile = self._profiles[playbook.key]
            score = sum(self._idf[t] * min(profile[t], 2) for t in terms if t in profile)
            score += _passage_bonus(playbook.key, passages)
            confirmed = playbook.key in brief.playbooks
            if confirmed:
                score += CONFIRMED
            if score >= MIN_SCORE:
                matches.append(PlaybookMatch(playbook, round(score, 3), confirmed))
        return sorted(matches, key=lambda m: m.score, reverse=True)

    def section_of(self, key: str, passages: Iterable[Passage]) -> Passage | None:
        """The runbook section that documents playbook `key` (its anchor carries the key)."""
        return next((p for p in passages if key in p.anchor), None)


def _profile(playbook: PlaybookRef) -> Counter[str]:
    profile: Counter[str] = Counter()
    profile.update(2 * search_terms(playbook.key.replace("_", " ")))
    profile.update(2 * search_terms(playbook.trigger))
    profile.update(search_terms(" ".join(playbook.actions)))
    return profile


def _passage_bonus(key: str, passages: Sequence[Passage]) -> float:
    for rank, passage in enumerate(passages):
        if key in passage.anchor:
            return _PASSAGE_BONUS / (1 + rank)
    return 0.0


def labels_text(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items() if k not in _LABEL_KEYS_SKIPPED)
