"""What every backend is: a name, a tokenizer, a health check and a token stream.

`complete` is written once here, over `stream`, so a backend implements only the stream.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished answer and what it cost."""

    text: str
    backend: str
    first_token_s: float
    total_s: float
    chunks: int


@runtime_checkable
class Tokenizer(Protocol):
    def count(self, text: str) -> int: ...


class ApproximateTokenizer:
    """For endpoints whose tokenizer is not on this machine: a deliberately high estimate.

    Gemma and Llama tokenizers average 3.5-4.5 characters per token on English and
    Portuguese prose; counting one token per 3 characters keeps prompts inside the window.
    """

    def __init__(self, chars_per_token: float = 3.0) -> None:
        self._ratio = chars_per_token

    def count(self, text: str) -> int:
        return math.ceil(len(text) / self._ratio)


@runtime_checkable
class Backend(Protocol):
    """One place a language model answers. `remote` means text leaves the premises."""

    name: str
    remote: bool
    context_tokens: int
    prompt_tokens: int | None  # a soft cap below the window, for speed; None: the window

    def count_tokens(self, text: str) -> int: ...

    async def health(self, time_limit: float) -> bool: ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, time_limit: float
    ) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...


async def complete(
    backend: Backend, messages: Sequence[Message], *, max_tokens: int, time_limit: float
) -> Completion:
    """The whole answer of one backend (the stream, gathered)."""
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    async for piece in backend.stream(messages, max_tokens=max_tokens, time_limit=time_limit):
        if first is None:
            first = time.perf_counter() - started
        parts.append(piece)
    total = time.perf_counter() - started
    return Completion("".join(parts), backend.name, first or total, total, len(parts))


def count_messages(backend: Backend, messages: Sequence[Message]) -> int:
    """Tokens of a chat prompt, with a few per message for the chat template's markers."""
    return sum(backend.count_tokens(m.content) + 4 for m in messages) + 2
