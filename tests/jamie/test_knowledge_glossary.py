"""The lexical bridge: Portuguese words and numbers written as words reach English runbooks."""

from __future__ import annotations

import pytest

from jamie.knowledge.glossary import bridge
from jamie.knowledge.text import search_terms


@pytest.mark.parametrize(
    ("question", "added"),
    [
        ("what happens in the first two minutes of a P0?", {"2"}),
        ("o que fazer nos primeiros dois minutos?", {"2", "first", "minutes"}),
        ("qual o prazo para notificar a ANPD sobre vazamento?", {"deadline", "notify", "breach"}),
    ],
)
def test_the_query_gains_the_terms_the_runbooks_use(question: str, added: set[str]) -> None:
    terms = bridge(search_terms(question))

    assert added <= set(terms)
    assert len(terms) == len(set(terms))
