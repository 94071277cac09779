"""Scripted model backends for tests: each answers from a list, records what it was sent,
and can be told to fail, hang or go quiet. No network, no model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from jamie.models import BackendTimeout, BackendUnavailable, Message


class ScriptedBackend:
    """Answers `replies` in turn (the last one repeats); `mode` may be ok, down, hang or empty."""

    def __init__(
        self, name: str, replies: Sequence[str] = ("ok",), *, remote: bool = False,
        mode: str = "ok", context_tokens: int = 4096,
    ) -> None:  # fmt: skip
        self.name = name
        self.remote = remote
        self.context_tokens = context_tokens
        self.prompt_tokens: int | None = None
        self.mode = mode
        self.healthy = True
        self.replies = list(replies)
        self.received: list[list[Message]] = []
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def health(self, time_limit: float) -> bool:
        return self.healthy

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int, time_limit: float
    ) -> AsyncIterator[str]:
        self.calls += 1
        self.received.append(list(messages))
        if self.mode == "down":
            raise BackendUnavailable(self.name, "connection refused")
        if self.mode == "hang":
            try:
                async with asyncio.timeout(time_limit):
                    await asyncio.sleep(3600)
            except TimeoutError as exc:
                raise BackendTimeout(self.name, time_limit) from exc
        if self.mode == "empty":
            return
        reply = self.replies[min(self.calls - 1, len(self.replies) - 1)]
        for word in reply.split(" ")[:max_tokens]:
            yield word + " "

    async def close(self) -> None:
        pass
