"""Checks on what a model wrote, before anyone sees it.

A sentence is dropped when it: echoes the prompt's markup; names a command that no quoted
passage contains (Jamie never suggests a command the runbooks do not hold); relays an
instruction ("ignore the rules", "reveal the token"); mentions settings or secrets; carries
a secret-shaped string; shares too few words with the passages it should rest on; or
repeats an earlier sentence.
What is dropped is counted and logged by reason, never by content.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from jamie.knowledge.safety import looks_like_injection
from jamie.knowledge.text import STOPWORDS, fold_accents, search_terms, tokenize
from jamie.privacy import SecretScrubber

log = logging.getLogger(__name__)

_BACKTICKS = re.compile(r"`([^`\n]{2,200})`")
_SHELL_LINE = re.compile(r"(?m)^\s*[$#>]\s+(\S.{1,200})$")
_COMMAND = re.compile(
    r"(?i)\b(?:sudo|rm|rmdir|kubectl|systemctl|launchctl|docker|podman|psql|pg_ctl|pg_dump"
    r"|mysql|redis-cli|curl|wget|ssh|scp|rsync|chmod|chown|killall|pkill|reboot|shutdown"
    r"|mkfs|iptables|ufw|brew|apt-get|yum|mlx_lm\.server)"
    r"[ \t]+-{0,2}[\w./:=@~*-]+(?:[ \t]+-{0,2}[\w./:=@~*\"'-]+)*"
    r"|\bkill[ \t]+-\w+[ \t]+\S+"
    r"|\b(?:drop\s+(?:table|database|schema)|truncate\s+table|delete\s+from|format\s+c:)"
    r"[^.;\n]*"
)
_SETTINGS = re.compile(
    r"(?i)\b(?:api[_ ]?keys?|tokens?|passwords?|senhas?|secrets?|segredos?|credentials?"
    r"|credenciais|environment variables?|vari[aá]veis de ambiente|settings file"
    r"|SLACK_\w+|TELEGRAM_\w+|JAMIE_\w+|DATABASE_URL)\b"
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_MARKUP = re.compile(r"</?[a-z]+\b[^>]*>|[‹›]|\bsource=|\bid=\"", re.IGNORECASE)
MIN_OVERLAP = 0.34
MIN_CONTENT_WORDS = 3


@dataclass(frozen=True, slots=True)
class Checked:
    text: str
    dropped: dict[str, int]

    @property
    def changed(self) -> bool:
        return bool(self.dropped)


def commands_in(text: str) -> list[str]:
    """Command-like spans: `backticked`, `$ lines` and known programs with arguments."""
    found = [m.group(1) for m in _BACKTICKS.finditer(text)]
    found += [m.group(1) for m in _SHELL_LINE.finditer(text)]
    found += [m.group(0) for m in _COMMAND.finditer(text)]
    return [c.strip() for c in found if c.strip()]


def _normal(text: str) -> str:
    return " ".join(fold_accents(text).lower().replace("`", " ").split())


class OutputGuard:
    def __init__(self, scrubber: SecretScrubber | None = None) -> None:
        self._scrub = scrubber or SecretScrubber()

    def problem(self, sentence: str, sources: str, *, grounded: bool = True) -> str | None:
        """Why `sentence` must go, or None. `sources` is the quoted passages' text."""
        if _MARKUP.search(sentence):
            return "prompt_echoed"
        normal_sources = _normal(sources)
        for command in commands_in(sentence):
            if _normal(command) not in normal_sources:
                return "command_not_in_runbook"
        if looks_like_injection(sentence):
            return "instruction_relayed"
        if _SETTINGS.search(sentence) and not _SETTINGS.search(sources):
            return "settings_or_secrets"
        if self._scrub(sentence) != sentence:
            return "secret_shaped"
        if grounded and len(_content_words(sentence)) < MIN_CONTENT_WORDS:
            return "too_thin"  # numbering, timestamps, fragments: "1. 2. 3. The"
        if grounded and not _overlaps(sentence, sources):
            return "not_grounded"
        return None

    def check(self, text: str, sources: Sequence[str], *, grounded: bool = True) -> Checked:
        """`text` without the sentences that fail; the reasons, counted."""
        joined = "\n".join(sources)
        kept: list[str] = []
        dropped: dict[str, int] = {}
        seen: list[set[str]] = []
        sentences = [s for s in _SENTENCES.split(text.strip()) if s.strip()]
        for position, sentence in enumerate(sentences):
            reason = self.problem(sentence, joined, grounded=grounded)
            if reason is None and position == len(sentences) - 1 and _unfinished(sentence):
                reason = "unfinished"  # cut off by the token budget mid-sentence
            terms = set(search_terms(sentence))
            if reason is None and any(_similar(terms, earlier) for earlier in seen):
                reason = "repeated"  # small models loop; say it once
            seen.append(terms)
            if reason is None:
                kept.append(sentence.strip())
            else:
                dropped[reason] = dropped.get(reason, 0) + 1
        if dropped:
            log.warning("model output: dropped %s", dropped)
        return Checked(" ".join(kept), dropped)


def _similar(one: set[str], other: set[str]) -> bool:
    return bool(one) and len(one & other) / len(one | other) >= 0.8


def _content_words(sentence: str) -> set[str]:
    return {t for t in search_terms(sentence) if len(t) > 2 and t.isalpha()}


def _unfinished(sentence: str) -> bool:
    """Cut off mid-sentence: no closing punctuation and a last word that cannot end one
    ("…de uma P", "…of the"). Short phrases such as a ranked reason need no full stop."""
    if sentence.rstrip().endswith((".", "!", "?", ":", ")", "”", '"', "»")):
        return False
    words = tokenize(sentence)
    return not words or len(words[-1]) <= 2 or words[-1] in STOPWORDS


def _overlaps(sentence: str, sources: str) -> bool:
    terms = {t for t in search_terms(sentence) if len(t) > 2 and not t.isdigit()}
    if not terms:
        return False
    known = set(search_terms(sources))
    return len(terms & known) / len(terms) >= MIN_OVERLAP
