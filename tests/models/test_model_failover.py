"""Failover across real servers: the first one is killed mid-test, the second answers; a
backend that hangs costs one timeout once; with nothing healthy, the chain says so."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from jamie.models import ChainPolicy, Message, ModelChain, NoBackendAvailable, complete
from jamie.models.base import Backend
from jamie.models.openai_compat import OpenAICompatibleBackend
from tests.models.conftest import StartServer

PROMPT = [Message("system", "Answer in one word."), Message("user", "Say yes.")]
LIMIT = 4.0
POLICY = ChainPolicy(call_timeout=20.0, health_timeout=2.0, cooldown=60.0)


def prompt(backend: Backend) -> list[Message]:
    return PROMPT


def openai_backend(name: str, base_url: str) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(name, base_url=base_url, model="smollm2", remote=False)


async def test_killing_the_first_server_moves_answers_to_the_second(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = start_server(), start_server()
    chain = ModelChain(
        [openai_backend("mac-studio-a", first.base_url),
         openai_backend("mac-studio-b", second.base_url)],
        policy=POLICY,
    )  # fmt: skip
    caplog.set_level(logging.INFO, logger="jamie.models.chain")

    before = await chain.complete(prompt, max_tokens=4)
    first.kill()
    after = await chain.complete(prompt, max_tokens=4)
    started = time.perf_counter()
    again = await chain.complete(prompt, max_tokens=4)
    skipped_in = time.perf_counter() - started

    assert (before.backend, after.backend, again.backend) == (
        "mac-studio-a", "mac-studio-b", "mac-studio-b",
    )  # fmt: skip
    assert [s.state for s in chain.status()] == ["open", "closed"]
    assert "model mac-studio-a failed" in caplog.text
    assert "served by mac-studio-b" in caplog.text
    assert skipped_in < POLICY.call_timeout


@contextlib.asynccontextmanager
async def hanging_server() -> AsyncIterator[str]:
    """A loopback HTTP server that accepts requests and never answers."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await reader.read(65536)
            await asyncio.sleep(3600)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()


async def test_a_hanging_backend_costs_one_timeout_once(start_server: StartServer) -> None:
    healthy = start_server()
    await complete(openai_backend("warm-up", healthy.base_url), PROMPT, max_tokens=2,
                   time_limit=60)  # fmt: skip
    async with hanging_server() as hung_url:
        chain = ModelChain(
            [openai_backend("hung", hung_url), openai_backend("healthy", healthy.base_url)],
            policy=POLICY,
        )
        started = time.perf_counter()
        first = await chain.complete(prompt, max_tokens=4, time_limit=LIMIT)
        first_took = time.perf_counter() - started
        started = time.perf_counter()
        second = await chain.complete(prompt, max_tokens=4, time_limit=LIMIT)
        second_took = time.perf_counter() - started

    assert (first.backend, second.backend) == ("healthy", "healthy")
    assert first_took >= LIMIT
    assert second_took < LIMIT


async def test_a_recovered_backend_is_used_again_after_its_health_check(
    start_server: StartServer,
) -> None:
    server = start_server()
    clock = [0.0]
    chain = ModelChain(
        [openai_backend("flaky", server.base_url)],
        policy=ChainPolicy(call_timeout=20.0, cooldown=30.0),
        clock=lambda: clock[0],
    )
    chain._breakers["flaky"].failure("simulated outage")

    with pytest.raises(NoBackendAvailable):
        await chain.complete(prompt, max_tokens=4)
    clock[0] = 31.0
    probed = await chain.check_health()
    done = await chain.complete(prompt, max_tokens=4)

    assert probed == {"flaky": True}
    assert done.backend == "flaky"


async def test_with_every_server_down_the_chain_names_each_attempt(
    start_server: StartServer,
) -> None:
    server = start_server()
    server.kill()
    chain = ModelChain([openai_backend("only", server.base_url)], policy=POLICY)

    with pytest.raises(NoBackendAvailable, match="only"):
        await chain.complete(prompt, max_tokens=4)
    assert not chain.available()
