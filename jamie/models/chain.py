"""The ordered failover chain: the first usable backend answers; a failure opens its
circuit and the next one is tried within the same call.

A dead backend therefore costs one timeout (or one refused connection) once; later calls
skip it until a background health check sees it answer again. Which backend served is
logged and returned. Before a prompt reaches a backend it passes the privacy gate:
secrets are scrubbed for every backend, patient data is redacted for remote ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from jamie.models.base import Backend, Completion, Message
from jamie.models.breaker import Breaker, BreakerState
from jamie.models.errors import BackendUnavailable, NoBackendAvailable
from jamie.privacy import PrivacyGate

log = logging.getLogger(__name__)

PromptFactory = Callable[[Backend], list[Message]]
"""Builds the prompt for one backend: its tokenizer and window decide what fits."""


@dataclass(frozen=True, slots=True)
class ChainPolicy:
    call_timeout: float = 20.0
    health_timeout: float = 3.0
    health_interval: float = 30.0
    failures_to_open: int = 1
    cooldown: float = 30.0


@dataclass(frozen=True, slots=True)
class BackendStatus:
    name: str
    state: BreakerState
    remote: bool
    reason: str


class Stream:
    """A started answer: `backend` served it; iterate for the text."""

    def __init__(self, backend: str, first: str, rest: AsyncIterator[str]) -> None:
        self.backend = backend
        self._first: str | None = first
        self._rest = rest

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        async for piece in self._rest:
            yield piece


class ModelChain:
    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        policy: ChainPolicy | None = None,
        gate: PrivacyGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backends = list(backends)
        self.policy = policy or ChainPolicy()
        self._gate = gate or PrivacyGate()
        self._breakers = {
            b.name: Breaker(self.policy.failures_to_open, self.policy.cooldown, clock)
            for b in self.backends
        }

    def __bool__(self) -> bool:
        return bool(self.backends)

    def status(self) -> list[BackendStatus]:
        statuses = []
        for backend in self.backends:
            breaker = self._breakers[backend.name]
            breaker.usable()
            statuses.append(
                BackendStatus(backend.name, breaker.state, backend.remote, breaker.last_reason)
            )
        return statuses

    def available(self) -> bool:
        """True when some backend may be tried now."""
        return any(self._breakers[b.name].usable() for b in self.backends)

    # -- calls ---------------------------------------------------------------------------

    async def complete(
        self, prompt: PromptFactory, *, max_tokens: int, time_limit: float | None = None
    ) -> Completion:
        """The first backend's whole answer; a failure mid-answer moves on to the next."""
        attempts: dict[str, str] = {}
        for backend in self._usable():
            started = time.perf_counter()
            try:
                messages = await self._prepare(backend, prompt)
                parts: list[str] = []
                first = 0.0
                async for piece in backend.stream(
                    messages,
                    max_tokens=max_tokens,
                    time_limit=time_limit or self.policy.call_timeout,
                ):
                    if not parts:
                        first = time.perf_counter() - started
                    parts.append(piece)
            except BackendUnavailable as exc:
                attempts[backend.name] = exc.reason
                self._failed(backend, exc.reason)
                continue
            total = time.perf_counter() - started
            if not "".join(parts).strip():
                attempts[backend.name] = "empty answer"
                self._failed(backend, "empty answer")
                continue
            self._served(backend, total)
            return Completion("".join(parts), backend.name, first or total, total, len(parts))
        raise NoBackendAvailable(attempts)

    async def stream(
        self, prompt: PromptFactory, *, max_tokens: int, time_limit: float | None = None
    ) -> Stream:
        """Started on the first backend that produces a token; failover happens only before
        that token (after it, a failure ends the stream with BackendUnavailable)."""
        attempts: dict[str, str] = {}
        for backend in self._usable():
            started = time.perf_counter()
            try:
                messages = await self._prepare(backend, prompt)
                pieces = backend.stream(
                    messages,
                    max_tokens=max_tokens,
                    time_limit=time_limit or self.policy.call_timeout,
                )
                first = await anext(pieces, "")
            except BackendUnavailable as exc:
                attempts[backend.name] = exc.reason
                self._failed(backend, exc.reason)
                continue
            self._served(backend, time.perf_counter() - started)
            return Stream(backend.name, first, pieces)
        raise NoBackendAvailable(attempts)

    # -- health --------------------------------------------------------------------------

    async def check_health(self, *, all_backends: bool = False) -> dict[str, bool]:
        """Probe open circuits whose cooldown passed (every backend with `all_backends`)."""
        results: dict[str, bool] = {}
        for backend in self.backends:
            breaker = self._breakers[backend.name]
            if not (all_backends or breaker.wants_probe()):
                continue
            healthy = await self._probe(backend)
            results[backend.name] = healthy
            if healthy:
                if breaker.state is not BreakerState.CLOSED:
                    log.info("model %s is healthy again", backend.name)
                breaker.success()
            else:
                self._failed(backend, "health check failed")
        return results

    async def _probe(self, backend: Backend) -> bool:
        try:
            return await asyncio.wait_for(
                backend.health(self.policy.health_timeout), self.policy.health_timeout + 1
            )
        except TimeoutError:
            return False

    async def run_health_checks(self, stop: asyncio.Event) -> None:
        """Every `health_interval`: probe what is open; until `stop` is set."""
        await self.check_health(all_backends=True)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.policy.health_interval)
            except TimeoutError:
                await self.check_health()

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()

    # -- internals -----------------------------------------------------------------------

    def _usable(self) -> list[Backend]:
        return [b for b in self.backends if self._breakers[b.name].usable()]

    async def _prepare(self, backend: Backend, prompt: PromptFactory) -> list[Message]:
        # Counting tokens may load a tokenizer or a model: keep it off the event loop.
        messages = await asyncio.to_thread(prompt, backend)
        return self._gate.outbound(messages, remote=backend.remote)

    def _failed(self, backend: Backend, reason: str) -> None:
        opened = self._breakers[backend.name].failure(reason)
        log.warning(
            "model %s failed (%s)%s", backend.name, reason, "; circuit open" if opened else ""
        )

    def _served(self, backend: Backend, seconds: float) -> None:
        self._breakers[backend.name].success()
        log.info("model call served by %s in %.2fs", backend.name, seconds)
