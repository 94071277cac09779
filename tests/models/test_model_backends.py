"""The real backends: llama.cpp in-process with the packaged model, and the OpenAI-compatible
client against a real `llama_cpp.server` on loopback. Answers are a few tokens long."""

from __future__ import annotations

import pytest

from jamie.models import Message, complete
from jamie.models.llamacpp import LlamaCppBackend
from jamie.models.openai_compat import OpenAICompatibleBackend
from jamie.prompting import Trim, fit, input_budget
from tests.models.conftest import StartServer

QUESTION = [
    Message("system", "You are Jamie. Answer in one short sentence."),
    Message("user", "What does a P0 incident mean?"),
]


async def test_embedded_backend_streams_a_short_answer(embedded: LlamaCppBackend) -> None:
    pieces = [p async for p in embedded.stream(QUESTION, max_tokens=6, time_limit=30)]

    assert pieces and "".join(pieces).strip()
    assert embedded.count_tokens("".join(pieces)) <= 6 + 1


async def test_embedded_backend_counts_with_the_model_tokenizer(
    embedded: LlamaCppBackend,
) -> None:
    text = "Pool de conexões esgotado no PostgreSQL"
    llama = embedded.load()

    expected = len(llama.tokenize(text.encode(), add_bos=False, special=False))

    assert embedded.count_tokens(text) == expected


def _used(backend: LlamaCppBackend, messages: list[Message]) -> int:
    return sum(backend.count_tokens(m.content) + 4 for m in messages) + 2


def test_passages_are_dropped_until_the_prompt_fits_the_real_window(
    embedded: LlamaCppBackend,
) -> None:
    passages = [{"citation": f"runbook.md#s{i}", "text": "word " * 60} for i in range(10)]
    values = {"history": [], "passages": passages, "question": "What now?",
              "language_name": "English"}  # fmt: skip

    messages = fit("ask", values, embedded, max_tokens=64, trims=[Trim("passages")])

    assert _used(embedded, messages) <= input_budget(embedded, 64)
    assert "runbook.md#s0" in messages[1].content and "runbook.md#s9" not in messages[1].content
    assert "<question>What now?</question>" in messages[1].content


def test_oversized_input_is_summarised_with_a_note_not_refused(
    embedded: LlamaCppBackend,
) -> None:
    question = " ".join(f"Sentence {i} about the failing database pool." for i in range(400))
    values = {"history": [], "passages": [], "question": question, "language_name": "English"}

    messages = fit("ask", values, embedded, max_tokens=64, text_key="question")

    assert _used(embedded, messages) <= input_budget(embedded, 64)
    assert "too long and is shortened" in messages[1].content
    assert "Sentence 0 " in messages[1].content and "Sentence 399 " in messages[1].content


async def test_openai_compatible_backend_answers_from_a_real_server(
    start_server: StartServer,
) -> None:
    server = start_server()
    backend = OpenAICompatibleBackend(
        "llama-server", base_url=server.base_url, model="smollm2", remote=False
    )

    healthy = await backend.health(5)
    done = await complete(backend, QUESTION, max_tokens=8, time_limit=60)

    assert healthy
    assert done.text.strip() and done.backend == "llama-server"
    assert done.first_token_s <= done.total_s


async def test_openai_compatible_backend_reports_a_dead_server_as_unhealthy(
    start_server: StartServer,
) -> None:
    server = start_server()
    server.kill()
    backend = OpenAICompatibleBackend("gone", base_url=server.base_url, model="smollm2")

    assert not await backend.health(2)
    with pytest.raises(Exception, match="gone"):
        await complete(backend, QUESTION, max_tokens=4, time_limit=5)
