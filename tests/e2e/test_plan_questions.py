"""Questions about the plan, in English and Portuguese, answered from the real runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jamie.knowledge import KnowledgeIndex

QUESTIONS = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "data" / "plan_questions.yaml").read_text("utf-8")
)


@pytest.fixture(scope="module")
def index(index_dir: Path) -> KnowledgeIndex:
    return KnowledgeIndex(index_dir)


def test_question_set_covers_both_languages() -> None:
    languages = [q["language"] for q in QUESTIONS]
    assert languages.count("pt") >= 5
    assert languages.count("en") >= 5


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["question"][:50] for q in QUESTIONS])
def test_cited_passage_holds_the_fact(index: KnowledgeIndex, case: dict[str, object]) -> None:
    passages = index.search(case["question"], k=3)
    facts = case["expect_fact"] if isinstance(case["expect_fact"], list) else [case["expect_fact"]]
    holding = [p for p in passages if any(f.lower() in p.text.lower() for f in facts)]
    assert holding, [p.citation for p in passages]
    assert all("#" in p.citation for p in holding)


def test_expected_runbook_ranks_first_for_most_questions(index: KnowledgeIndex) -> None:
    first = [index.search(q["question"], k=1)[0].source == q["expect_file"] for q in QUESTIONS]
    assert sum(first) / len(first) >= 0.7
