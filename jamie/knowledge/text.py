"""Text normalisation shared by heading anchors, the BM25 tokeniser and the safety check."""

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+")
_NOT_IN_ANCHOR = re.compile(r"[^a-z0-9 _-]")


def fold_accents(text: str) -> str:
    """Drop diacritics: "notificação" -> "notificacao"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tokenize(text: str) -> list[str]:
    """Lowercase, accent-folded alphanumeric tokens; keeps "p0", "rto", "5s", "100ms"."""
    return _TOKEN.findall(fold_accents(text).lower())


def slugify(heading: str) -> str:
    """GitHub-style anchor: lowercase, punctuation dropped, each space a hyphen.

    Unlike GitHub, accented letters are folded to ASCII, so anchors stay plain in chat links.
    """
    folded = fold_accents(heading).strip().lower()
    return _NOT_IN_ANCHOR.sub("", folded).replace(" ", "-")
