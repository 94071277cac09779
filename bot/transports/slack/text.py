"""Text crossing the Slack boundary: decoded once on the way in, escaped once on the way out.

Slack sends `&`, `<` and `>` as HTML entities and mentions as `<@U123|ana>`, `<#C123|sre>`,
`<!here>`; Jamie stores plain text ("@ana", "#sre", "a < b"). On the way out, mrkdwn needs
the three entities again, and nothing a user typed may ping a whole channel: `@here`,
`@channel` and `@everyone` get an invisible word joiner after the `@`, and a raw `<!here>`
cannot survive because `<` is escaped
(https://api.slack.com/reference/surfaces/formatting#escaping).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
WORD_JOINER = "\u2060"
ELLIPSIS = "…"


def _markup(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label.lstrip("@#") or target[1:])
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return _SPECIAL.get(name) or label or name
    return label or target


def from_slack(text: str) -> str:
    """Mentions and links to plain words, then the entities, each exactly once."""
    plain = _MARKUP.sub(_markup, text)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], plain)


def quiet(text: str) -> str:
    """`@here`, `@channel`, `@everyone` that notify nobody."""
    return _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)


def mrkdwn(text: str) -> str:
    """Jamie's text for a mrkdwn field: entities escaped, broadcasts quieted."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return quiet(escaped)


def plain(text: str) -> str:
    """Jamie's text for a plain_text field. Slack shows it as is and parses no mentions;
    broadcasts are quieted anyway, and `<!` broken, in case a field's type ever changes."""
    return quiet(text.replace("<!", "<" + WORD_JOINER + "!"))


def clip(text: str, limit: int, escape: Callable[[str], str] = mrkdwn) -> str:
    """`escape(text)` cut to `limit` characters, never inside an entity, `…` when cut."""
    whole = escape(text)
    if len(whole) <= limit:
        return whole
    return escape(text[: _fit(text, limit - 1, escape)]).rstrip() + ELLIPSIS


def chunks(text: str, limit: int, escape: Callable[[str], str] = mrkdwn) -> list[str]:
    """`escape(text)` in pieces of at most `limit` characters, split between lines where it
    can, inside a line only when one line alone is too long."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(escape(candidate)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(escape(current))
        while len(escape(line)) > limit:
            cut = max(_fit(line, limit, escape), 1)
            pieces.append(escape(line[:cut]))
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(escape(current))
    return pieces


def _fit(text: str, limit: int, escape: Callable[[str], str]) -> int:
    """The longest prefix length of `text` whose escaped form fits in `limit` characters."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(text[:middle])) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
