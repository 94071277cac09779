"""In-process mlx-lm, for Jamie running on the Mac Studio itself (Apple Silicon only).

mlx-lm loads a Hugging Face-format folder (config, safetensors, tokenizer), never a GGUF,
and is not installed with Jamie: `pip install mlx-lm` on the Mac. On the Mac Studio the
usual setup is `mlx_lm.server` reached as an OpenAI-compatible backend (deploy/models/);
this backend is for a single-machine install without a server. It cannot run on Linux CI,
so only its import guard and its refusal are tested here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import platform
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

from jamie.models.base import Message
from jamie.models.errors import BackendTimeout, BackendUnavailable


def mlx_available() -> bool:
    """True on Apple Silicon with mlx-lm installed."""
    on_apple_silicon = platform.system() == "Darwin" and platform.machine() == "arm64"
    return on_apple_silicon and importlib.util.find_spec("mlx_lm") is not None


class MlxBackend:
    remote = False

    def __init__(self, name: str, model_dir: Path, *, context_tokens: int = 8192) -> None:
        self.name = name
        self.context_tokens = context_tokens
        self.prompt_tokens: int | None = None
        self._dir = model_dir
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        self._busy = asyncio.Lock()

    def _load(self) -> tuple[Any, Any]:
        if not mlx_available():
            raise BackendUnavailable(
                self.name, "mlx-lm needs Apple Silicon and `pip install mlx-lm`"
            )
        with self._lock:
            if self._loaded is None:
                from mlx_lm import load

                self._loaded = load(str(self._dir))
            return self._loaded

    def count_tokens(self, text: str) -> int:
        _, tokenizer = self._load()
        return len(tokenizer.encode(text))

    async def health(self, time_limit: float) -> bool:
        if not mlx_available() or not self._dir.is_dir():
            return False
        try:
            await asyncio.wait_for(asyncio.to_thread(self._load), time_limit)
        except (TimeoutError, BackendUnavailable, OSError, ValueError):
            return False
        return True

    def _generate(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        from mlx_lm import stream_generate

        model, tokenizer = self._load()
        chat = [{"role": m.role, "content": m.content} for m in messages]
        prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True)
        for response in stream_generate(model, tokenizer, prompt, max_tokens=max_tokens):
            yield str(response.text)

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int, time_limit: float
    ) -> AsyncIterator[str]:
        async with self._busy:
            pieces = await asyncio.to_thread(self._generate, messages, max_tokens)
            done = object()
            try:
                async with asyncio.timeout(time_limit):
                    while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
                        yield str(piece)
            except TimeoutError as exc:
                raise BackendTimeout(self.name, time_limit) from exc

    async def close(self) -> None:
        self._loaded = None
