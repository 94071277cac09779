"""A cheap guess of whether free text is Portuguese or English, for choosing reply language.

Only decisive evidence counts (accented letters, frequent function words); anything
ambiguous returns None and the caller keeps its default.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ]+")
_PT = frozenset(
    [
        "que",
        "de",
        "do",
        "da",
        "dos",
        "das",
        "um",
        "uma",
        "o",
        "os",
        "as",
        "é",
        "e",
        "em",
        "no",
        "na",
        "nos",
        "nas",
        "para",
        "por",
        "com",
        "como",
        "qual",
        "quais",
        "quando",
        "onde",
        "quem",
        "não",
        "sim",
        "está",
        "são",
        "ser",
        "tem",
        "temos",
        "precisa",
        "deve",
        "devo",
        "fazer",
        "primeiros",
        "primeiro",
        "minutos",
        "horas",
        "prazo",
        "quanto",
        "quantos",
    ]
)
_EN = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "are",
        "what",
        "which",
        "when",
        "where",
        "who",
        "how",
        "do",
        "does",
        "must",
        "should",
        "first",
        "minutes",
        "hours",
        "deadline",
        "within",
        "for",
        "with",
        "about",
        "after",
        "before",
    ]
)
_PT_LETTERS = set("ãõçáéíóúâêô")


def guess_language(text: str) -> str | None:
    lowered = text.lower()
    words = _WORD.findall(lowered)
    pt = sum(word in _PT for word in words) + 2 * sum(ch in _PT_LETTERS for ch in lowered)
    en = sum(word in _EN for word in words)
    if pt >= 2 and pt > en:
        return "pt-BR"
    if en >= 2 and en > pt:
        return "en"
    return None
