"""Hybrid retrieval over Jamie's Markdown runbooks.

`KnowledgeIndex.build` chunks the runbooks by heading and stores them in a persistent Chroma
collection; `KnowledgeIndex.search` fuses a vector ranking (multilingual e5, so Portuguese
questions find English runbooks) with a BM25 ranking (exact terms such as P0 or ANVISA) and
returns `Passage` objects that carry a citation, ``file.md#anchor``.

Errors: everything this package raises on purpose derives from `KnowledgeError`.
`IndexNotBuilt` means there is nothing to search yet (run ``jamie index``); `IndexMismatch`
means the stored index was built with another embedding model or dimension (run
``jamie index --rebuild``). `jamie.knowledge.store` turns the Chroma states behind them (no
collection, a collection with other model metadata) into these; other Chroma errors propagate.

Importing this package is cheap: Chroma, LangChain and the embedding model load on the first
build or search.
"""

from jamie.knowledge.errors import IndexMismatch, IndexNotBuilt, KnowledgeError
from jamie.knowledge.index import KnowledgeIndex
from jamie.knowledge.passage import IndexStats, Passage

__all__ = [
    "IndexMismatch",
    "IndexNotBuilt",
    "IndexStats",
    "KnowledgeError",
    "KnowledgeIndex",
    "Passage",
]
