"""Jamie's plain text as Telegram HTML, and long text cut to Telegram's message size.

Jamie writes plain text with `backticks` around commands. Telegram gets it as HTML (the
one parse mode Jamie uses): everything escaped, backticks as <code>. The 4096 limit
counts the text after entity parsing in UTF-16 code units, so chunks are measured on the
plain text that way (https://core.telegram.org/bots/api#sendmessage).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

LIMIT = 4096
_CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True, slots=True)
class Formatted:
    """The same message as HTML and as plain text (sent when the HTML is refused)."""

    html: str
    plain: str


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def formatted(plain: str, *, bold_first_line: bool = False) -> Formatted:
    body = _CODE.sub(r"<code>\1</code>", html.escape(plain, quote=False))
    if bold_first_line:
        first, sep, rest = body.partition("\n")
        body = f"<b>{first}</b>{sep}{rest}"
    return Formatted(body, plain)


def split(
    plain: str, limit: int = LIMIT, separators: tuple[str, ...] = ("\n\n", "\n", " ")
) -> list[str]:
    """Chunks of at most `limit` units, cut between paragraphs, else lines, else words."""
    if units(plain) <= limit:
        return [plain]
    if not separators:
        return _cut(plain, limit)
    separator, finer = separators[0], separators[1:]
    chunks: list[str] = []
    current = ""
    for piece in plain.split(separator):
        if units(piece) > limit:
            chunks += [current] if current else []
            chunks += split(piece, limit, finer)
            current = ""
            continue
        candidate = f"{current}{separator}{piece}" if current else piece
        if units(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    chunks += [current] if current else []
    return [c for c in chunks if c.strip()]


def _cut(text: str, limit: int) -> list[str]:
    """One unbroken run longer than a message: cut anywhere."""
    chunks, current = [], ""
    for char in text:
        if units(current + char) > limit:
            chunks.append(current)
            current = ""
        current += char
    return [*chunks, current] if current else chunks
