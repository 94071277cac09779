"""Text normalisation shared by heading anchors, the BM25 tokeniser and the safety check."""

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+")
_NOT_IN_ANCHOR = re.compile(r"[^a-z0-9 _-]")

# Function words of English and Portuguese, accent-folded. Left in, they made BM25 rank the
# one Portuguese runbook first for almost any Portuguese question: "de", "um", "o" occur only
# there, so they look like rare, telling terms.
_ENGLISH_STOPWORDS = """
    a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its me must my no not of on or our should so than that the their them then there
    these they this those to us was we were what when where which who why will with would you
    your
"""
_PORTUGUESE_STOPWORDS = """
    a ao aos as com como da das de deve devem do dos e ela ele em entre esta estao este eu foi
    ha isso mais mas me meu minha na nas nao no nos nossa nosso num numa o os ou para pela pelo
    por qual quais quando que quem se sem ser seu sua sao tem um uma umas uns voce
"""
STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split()) | frozenset(_PORTUGUESE_STOPWORDS.split())


def fold_accents(text: str) -> str:
    """Drop diacritics: "notificação" -> "notificacao"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tokenize(text: str) -> list[str]:
    """Lowercase, accent-folded alphanumeric tokens; keeps "p0", "rto", "5s", "100ms"."""
    return _TOKEN.findall(fold_accents(text).lower())


def search_terms(text: str) -> list[str]:
    """`tokenize` without `STOPWORDS`: what BM25 indexes and looks up."""
    return [token for token in tokenize(text) if token not in STOPWORDS]


def slugify(heading: str) -> str:
    """GitHub-style anchor: lowercase, punctuation dropped, each space a hyphen.

    Unlike GitHub, accented letters are folded to ASCII, so anchors stay plain in chat links.
    """
    folded = fold_accents(heading).strip().lower()
    return _NOT_IN_ANCHOR.sub("", folded).replace(" ", "-")
