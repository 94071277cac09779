"""The failover chain's rules, on scripted backends: order, failover, the circuit breaker,
health probes, the privacy gate per backend and streaming."""

from __future__ import annotations

import time

import pytest

from jamie.models import ChainPolicy, Message, ModelChain, NoBackendAvailable
from jamie.models.base import Backend
from jamie.privacy import PrivacyGate, SecretScrubber
from tests.jamie.doubles_models import ScriptedBackend

POLICY = ChainPolicy(call_timeout=0.3, cooldown=30.0)


def ask(text: str = "paciente Maria Souza CPF 529.982.247-25 token hunter2-secret"):
    def prompt(backend: Backend) -> list[Message]:
        return [Message("system", "Answer."), Message("user", text)]

    return prompt


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_first_backend_answers_and_is_named() -> None:
    chain = ModelChain([ScriptedBackend("a", ["from a"]), ScriptedBackend("b")], policy=POLICY)

    done = await chain.complete(ask(), max_tokens=8)

    assert (done.text.strip(), done.backend) == ("from a", "a")


@pytest.mark.parametrize("mode", ["down", "hang", "empty"])
async def test_a_failing_backend_hands_over_to_the_next(mode: str) -> None:
    first, second = ScriptedBackend("a", mode=mode), ScriptedBackend("b", ["from b"])
    chain = ModelChain([first, second], policy=POLICY)

    done = await chain.complete(ask(), max_tokens=8)

    assert done.backend == "b"
    assert [s.state for s in chain.status()] == ["open", "closed"]


async def test_an_open_circuit_is_skipped_until_a_health_check_passes() -> None:
    clock = Clock()
    first, second = ScriptedBackend("a", mode="hang"), ScriptedBackend("b")
    chain = ModelChain([first, second], policy=POLICY, clock=clock)

    await chain.complete(ask(), max_tokens=4)
    started = time.perf_counter()
    await chain.complete(ask(), max_tokens=4)
    skipped_in = time.perf_counter() - started
    calls_while_open = first.calls
    first.mode = "ok"
    clock.now = 10.0
    early = await chain.check_health()
    clock.now = 31.0
    probed = await chain.check_health()
    done = await chain.complete(ask(), max_tokens=4)

    assert calls_while_open == 1 and skipped_in < POLICY.call_timeout
    assert (early, probed, done.backend) == ({}, {"a": True}, "a")


async def test_a_failed_probe_keeps_the_circuit_open() -> None:
    clock = Clock()
    first = ScriptedBackend("a", mode="down")
    chain = ModelChain([first, ScriptedBackend("b")], policy=POLICY, clock=clock)
    await chain.complete(ask(), max_tokens=4)
    first.healthy = False
    clock.now = 31.0

    assert await chain.check_health() == {"a": False}
    assert chain.status()[0].state == "open"


async def test_no_usable_backend_raises_with_every_attempt() -> None:
    chain = ModelChain(
        [ScriptedBackend("a", mode="down"), ScriptedBackend("b", mode="hang")], policy=POLICY
    )

    with pytest.raises(NoBackendAvailable) as raised:
        await chain.complete(ask(), max_tokens=4)

    assert set(raised.value.attempts) == {"a", "b"}
    assert not chain.available()


async def test_an_empty_chain_is_falsy_and_never_available() -> None:
    chain = ModelChain([])

    assert not chain and not chain.available()
    with pytest.raises(NoBackendAvailable):
        await chain.complete(ask(), max_tokens=4)


async def test_only_remote_backends_receive_redacted_prompts_and_none_see_secrets() -> None:
    local, cloud = ScriptedBackend("local", mode="down"), ScriptedBackend("cloud", remote=True)
    gate = PrivacyGate(scrubber=SecretScrubber(["hunter2-secret"]))
    chain = ModelChain([local, cloud], policy=POLICY, gate=gate)

    await chain.complete(ask(), max_tokens=4)

    assert local.received[0][1].content == (
        "paciente Maria Souza CPF 529.982.247-25 token [SECRET]"
    )
    assert cloud.received[0][1].content == "paciente [NAME] CPF [CPF] token [SECRET]"


async def test_a_stream_fails_over_before_its_first_token() -> None:
    chain = ModelChain(
        [ScriptedBackend("a", mode="down"), ScriptedBackend("b", ["one two three"])],
        policy=POLICY,
    )

    stream = await chain.stream(ask(), max_tokens=8)
    text = "".join([piece async for piece in stream])

    assert (stream.backend, text.split()) == ("b", ["one", "two", "three"])
