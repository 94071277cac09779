"""Free text (impact, updates) translated between Portuguese and English by the model.

Before the model sees the text, everything that must not change is swapped for a marker
⟦n⟧: incident ids, severities, service and product names, acronyms, times, numbers with
units, links, mentions, code and redaction tags. The translation is accepted only if every
marker comes back exactly once and the output passes the checks; otherwise, and when no
model is healthy, the original is returned with its language, for the caller to mark.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.commands.ports import Translation
from bot.i18n.detect import guess_language
from jamie.guard import OutputGuard
from jamie.models.base import Backend, Message
from jamie.models.chain import ModelChain
from jamie.models.errors import ModelError
from jamie.prompting import fit

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"pt-BR": "Brazilian Portuguese", "en": "English"}
DEFAULT_TERMS = (
    "Mac Studio", "M3 Ultra", "Jamie", "Slack", "Telegram", "Grafana", "Prometheus",
    "Alertmanager", "PostgreSQL", "Redis", "Google Cloud", "GCP", "MedGemma", "WiFi",
)  # fmt: skip
_PROTECTED = re.compile(
    r"`[^`\n]+`"
    r"|https?://\S+"
    r"|<[@#!][^>\s]+>|@[\w.-]+"
    r"|\[[A-Z]+\]"
    r"|\bINC-\d+\b|#\d+\b"
    r"|\b[Pp][0-3]\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b\d+(?:[.,]\d+)?\s?(?:ms|s|min|h|%|GB|MB|TB|Gbps|rps|tps)?(?![\w])"
    r"|\b[A-Z][A-Z0-9_-]{1,}\b"
)
_MARKER = re.compile(r"⟦(\d+)⟧")
MAX_TOKENS = 384


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    originals: tuple[str, ...]

    def restore(self, translated: str) -> str | None:
        """`translated` with the originals back, or None if a marker was lost or invented."""
        found = [int(n) for n in _MARKER.findall(translated)]
        if sorted(found) != list(range(1, len(self.originals) + 1)):
            return None
        return _MARKER.sub(lambda m: self.originals[int(m.group(1)) - 1], translated)


def mask(text: str, terms: Sequence[str] = DEFAULT_TERMS) -> Masked:
    names = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    pattern = re.compile(rf"(?:{names})|{_PROTECTED.pattern}" if names else _PROTECTED.pattern)
    originals: list[str] = []

    def swap(match: re.Match[str]) -> str:
        originals.append(match.group(0))
        return f"⟦{len(originals)}⟧"

    return Masked(pattern.sub(swap, text), tuple(originals))


class Translator:
    def __init__(
        self,
        chain: ModelChain | None,
        *,
        terms: Sequence[str] = DEFAULT_TERMS,
        guard: OutputGuard | None = None,
    ) -> None:
        self._chain = chain
        self._terms = tuple(terms)
        self._guard = guard or OutputGuard()

    async def translate(
        self, text: str, *, target_language: str, source_language: str | None = None
    ) -> Translation:
        source = source_language or guess_language(text)
        if source == target_language or not text.strip():
            return Translation(text, target_language, True, source)
        original = Translation(text, source or "und", False, source)
        if self._chain is None or not self._chain.available():
            return original
        masked = mask(text, self._terms)
        values = {
            "text": masked.text,
            "source_name": LANGUAGE_NAMES.get(source or "", "the original language"),
            "target_name": LANGUAGE_NAMES.get(target_language, target_language),
        }

        def prompt(backend: Backend) -> list[Message]:
            return fit("translate", values, backend, max_tokens=MAX_TOKENS)

        try:
            done = await self._chain.complete(prompt, max_tokens=MAX_TOKENS)
        except ModelError as exc:
            log.info("translation without a model: %s", type(exc).__name__)
            return original
        restored = masked.restore(_unwrap(done.text))
        if restored is None:
            log.info("translation by %s rejected: markers changed", done.backend)
            return original
        checked = self._guard.check(restored, [text], grounded=False)
        if checked.changed or not checked.text or guess_language(checked.text) == source:
            return original  # mangled, or the original echoed back
        return Translation(checked.text, target_language, True, source, done.backend)


def _unwrap(text: str) -> str:
    """The model sometimes echoes the <text> tags or quotes; keep what is inside."""
    cleaned = re.sub(r"</?text>", "", text).strip()
    return cleaned.strip('"“”').strip()
