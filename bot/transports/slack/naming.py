"""Incident channel names: `inc-<date>-<slug>`, lowercase ASCII, at most 80 characters.

Slack allows lowercase letters, digits, `-` and `_` in channel names, up to 80 characters
(https://api.slack.com/methods/conversations.create#naming). Accents are folded
("Falha na UTI às 3h" -> "falha-na-uti-as-3h"); a title with no letter at all ("!!!",
"503") falls back to the incident number; `name_taken` is answered with a suffix.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MAX_LENGTH = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def slug(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).encode(
        "ascii", "ignore"
    )
    return _NOT_ALLOWED.sub("-", ascii_only.decode("ascii")).strip("-")


def channel_name(day: date, title: str, number: int, attempt: int = 1) -> str:
    """The name to try on `attempt` (1, 2, …): the first without a suffix, then `-2`, `-3`."""
    prefix = f"inc-{day.isoformat()}-"
    words = slug(title)
    if not any(ch.isalpha() for ch in words):
        words = f"{number:04d}"
    suffix = "" if attempt <= 1 else f"-{attempt}"
    room = MAX_LENGTH - len(prefix) - len(suffix)
    return prefix + words[:room].rstrip("-") + suffix
