"""Hybrid search over a loaded collection: e5 vectors and BM25, fused by reciprocal rank.

The vector ranking carries meaning across languages (a Portuguese question finds an English
runbook); BM25 carries exact terms the embedding blurs (P0, ANVISA, RTO). BM25 is built from
the documents already stored in Chroma, so there is no second store to keep in step.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rank_bm25 import BM25Okapi

from jamie.knowledge.glossary import bridge
from jamie.knowledge.passage import Passage
from jamie.knowledge.text import search_terms, tokenize

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

RRF_K = 60
MAX_PER_SOURCE = 2
# How deep each ranking goes before fusion. Past a few dozen, a rank adds under 1/100 to a
# fused score and only costs time.
_MIN_DEPTH = 20
_DEPTH_PER_RESULT = 4


@dataclass(frozen=True, slots=True)
class _Entry:
    document: str
    metadata: dict[str, str | int | float | bool]

    def passage(self, score: float) -> Passage:
        offset = int(self.metadata.get("body_offset", 0))
        return Passage(
            source=str(self.metadata.get("source", "")),
            heading=str(self.metadata.get("heading", "")),
            anchor=str(self.metadata.get("anchor", "")),
            text=self.document[offset:],
            score=score,
            language=str(self.metadata.get("language", "en")),
            suspicious=bool(self.metadata.get("suspicious", False)),
        )


class HybridRetriever:
    """An immutable snapshot of the collection; safe to search from several threads."""

    def __init__(self, store: "Chroma", embeddings: "Embeddings") -> None:
        stored = store.get(include=["documents", "metadatas"])
        self._store = store
        self._embeddings = embeddings
        self._ids: list[str] = list(stored["ids"])
        self._entries = {
            chunk_id: _Entry(document or "", dict(metadata or {}))
            for chunk_id, document, metadata in zip(
                self._ids, stored["documents"], stored["metadatas"], strict=True
            )
        }
        self._bm25 = BM25Okapi([search_terms(self._entries[i].document) for i in self._ids])

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[Passage]:
        depth = min(len(self._ids), max(_MIN_DEPTH, k * _DEPTH_PER_RESULT))
        fused = reciprocal_rank_fusion(
            [self._vector_ranking(query, depth), self._lexical_ranking(query, depth)]
        )
        return self._diverse(_prefer_named_severity(query, fused, self._entries), k)

    def _diverse(self, fused: list[tuple[str, float]], k: int) -> list[Passage]:
        """The top `k`, at most MAX_PER_SOURCE from one runbook, so that a short runbook whose
        words resemble the question (the Portuguese quick guide) cannot fill every slot."""
        chosen: list[Passage] = []
        per_source: dict[str, int] = {}
        for chunk_id, score in fused:
            passage = self._entries[chunk_id].passage(score)
            if per_source.get(passage.source, 0) >= MAX_PER_SOURCE:
                continue
            per_source[passage.source] = per_source.get(passage.source, 0) + 1
            chosen.append(passage)
            if len(chosen) == k:
                break
        return chosen

    def _vector_ranking(self, query: str, depth: int) -> list[str]:
        vector = self._embeddings.embed_query(query)
        hits = self._store.similarity_search_by_vector_with_relevance_scores(vector, k=depth)
        # A chunk written by another process after this snapshot has no entry: skip it.
        return [doc.id for doc, _ in hits if doc.id is not None and doc.id in self._entries]

    def _lexical_ranking(self, query: str, depth: int) -> list[str]:
        tokens = bridge(search_terms(query))
        if not tokens:
            return []
        scores = cast(Sequence[float], self._bm25.get_scores(tokens))
        ranked = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
        return [self._ids[i] for i in ranked[:depth] if scores[i] > 0]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
    """Sum 1 / (RRF_K + rank) over the rankings; ties keep the earlier ranking's order."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


_SEVERITIES = frozenset({"p0", "p1", "p2", "p3"})


def _severities(text: str) -> frozenset[str]:
    return _SEVERITIES.intersection(tokenize(text))


def _prefer_named_severity(
    query: str, fused: list[tuple[str, float]], entries: dict[str, _Entry]
) -> list[tuple[str, float]]:
    """When the question names a severity, passages about only other severities go last.

    "How fast must we respond to a P1?" must not be answered from a P0-only passage, however
    close its wording; passages that name no severity at all keep their place.
    """
    asked = _severities(query)
    if not asked:
        return fused

    def off_topic(item: tuple[str, float]) -> bool:
        named = _severities(entries[item[0]].document)
        return bool(named) and not (named & asked)

    return sorted(fused, key=off_topic)  # stable: keeps the fused order within each group
