"""`KnowledgeIndex`: build the runbook index, then search it.

Chroma, LangChain and the embedding model are imported inside the methods that need them:
they take over a second to import, and importing `jamie.knowledge` for `Passage` or the
errors should not pay for that.
"""

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from jamie.knowledge.errors import IndexMismatch, IndexNotBuilt
from jamie.knowledge.passage import IndexStats, Passage

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_chroma import Chroma

    from jamie.knowledge.chunking import Chunk
    from jamie.knowledge.retrieval import HybridRetriever

log = logging.getLogger(__name__)

_UPSERT_BATCH = 64


class KnowledgeIndex:
    """Runbook chunks in a persistent Chroma collection, searched by meaning and by term.

    Creating one touches no file. The first search (or `load`) reads every chunk into memory
    for BM25; a build in this process drops that snapshot so the next search sees the new
    chunks. Safe to share between threads: building and loading take a lock, searching a
    loaded index does not.
    """

    def __init__(self, persist_dir: Path, *, collection: str = "runbooks") -> None:
        self._persist_dir = Path(persist_dir)
        self._name = collection
        self._lock = threading.Lock()
        self._client: ClientAPI | None = None
        self._retriever: HybridRetriever | None = None

    def build(self, knowledge_dir: Path, *, rebuild: bool = False) -> IndexStats:
        """Index every runbook under `knowledge_dir`; re-running it only writes what changed.

        Chunks keep their ids between builds, so unchanged ones are skipped, edited ones are
        re-embedded and ones whose section disappeared are deleted. `rebuild` drops the
        collection first: the way out of `IndexMismatch`.
        """
        from jamie.knowledge import store
        from jamie.knowledge.embedder import E5Embeddings

        started = time.perf_counter()
        files, chunks, suspicious = _chunk_folder(Path(knowledge_dir))
        with self._lock:
            self._retriever = None
            self._persist_dir.mkdir(parents=True, exist_ok=True)
            client = self._open()
            if rebuild:
                store.drop_collection(client, self._name)
            if store.find_collection(client, self._persist_dir, self._name) is None:
                store.create_collection(client, self._name)
            vectors = store.vector_store(client, self._name, E5Embeddings())
            added, updated, removed = _sync(vectors, chunks)
        stats = IndexStats(
            files=files,
            chunks=len(chunks),
            added=added,
            updated=updated,
            removed=removed,
            seconds=time.perf_counter() - started,
            suspicious=suspicious,
        )
        log.info(
            "indexed %d runbooks into %r: %d chunks, %d added, %d updated, %d removed, "
            "%d suspicious, %.1f s",
            stats.files,
            self._name,
            stats.chunks,
            stats.added,
            stats.updated,
            stats.removed,
            stats.suspicious,
            stats.seconds,
        )
        return stats

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The `k` best passages for `query`, best first; raises IndexNotBuilt or IndexMismatch."""
        if k < 1 or not query.strip():
            return []
        started = time.perf_counter()
        passages = self._loaded().search(query, k)
        log.debug(
            "search found %s in %.0f ms",
            [passage.citation for passage in passages],
            (time.perf_counter() - started) * 1000,
        )
        return passages

    def load(self) -> None:
        """Load the chunks and the embedding model now rather than on the first search."""
        from jamie.knowledge.embedder import E5Embeddings

        self._loaded()
        E5Embeddings().embed_query("warm-up")

    def is_ready(self) -> bool:
        """True if the collection exists, holds chunks and was built with this model."""
        from jamie.knowledge import store

        if self._retriever is not None:
            return True
        if not self._persist_dir.is_dir():
            return False
        with self._lock:
            try:
                found = store.find_collection(self._open(), self._persist_dir, self._name)
            except IndexMismatch:
                return False
            return found is not None and found.count() > 0

    @property
    def size(self) -> int:
        """Number of chunks stored; 0 before the first build."""
        from jamie.knowledge import store

        retriever = self._retriever
        if retriever is not None:
            return len(retriever)
        if not self._persist_dir.is_dir():
            return 0
        with self._lock:
            return store.count_chunks(self._open(), self._name)

    def _loaded(self) -> "HybridRetriever":
        retriever = self._retriever
        if retriever is not None:
            return retriever
        with self._lock:
            if self._retriever is None:
                self._retriever = self._load()
            return self._retriever

    def _load(self) -> "HybridRetriever":
        from jamie.knowledge import store
        from jamie.knowledge.embedder import E5Embeddings
        from jamie.knowledge.retrieval import HybridRetriever

        if not self._persist_dir.is_dir():
            raise IndexNotBuilt(self._persist_dir, self._name)
        client = self._open()
        collection = store.find_collection(client, self._persist_dir, self._name)
        if collection is None:
            raise IndexNotBuilt(self._persist_dir, self._name)
        if collection.count() == 0:
            raise IndexNotBuilt(self._persist_dir, self._name, empty=True)
        embeddings = E5Embeddings()
        retriever = HybridRetriever(store.vector_store(client, self._name, embeddings), embeddings)
        log.info("loaded knowledge index %r: %d chunks", self._name, len(retriever))
        return retriever

    def _open(self) -> "ClientAPI":
        """The Chroma client; the caller holds `_lock`."""
        from jamie.knowledge import store

        if self._client is None:
            self._client = store.open_client(self._persist_dir)
        return self._client


def _chunk_folder(knowledge_dir: Path) -> tuple[int, list["Chunk"], int]:
    """Files read, their chunks, and how many sections looked suspicious (each logged)."""
    from jamie.knowledge.chunking import chunk_runbook, find_runbooks, read_runbook

    files = 0
    chunks: list[Chunk] = []
    suspicious = 0
    for path in find_runbooks(knowledge_dir):
        try:
            runbook = read_runbook(path, knowledge_dir)
        except (OSError, UnicodeDecodeError) as error:
            log.warning("skipped runbook %s: %s", path.name, type(error).__name__)
            continue
        chunked = chunk_runbook(runbook)
        for citation in chunked.suspicious:
            log.warning(
                "runbook section %s reads like instructions to the model or hides an HTML "
                "comment; comments were stripped, please review it",
                citation,
            )
        files += 1
        chunks.extend(chunked.chunks)
        suspicious += len(chunked.suspicious)
    return files, chunks, suspicious


def _sync(vectors: "Chroma", chunks: list["Chunk"]) -> tuple[int, int, int]:
    """Upsert new and changed chunks, delete vanished ones; returns (added, updated, removed)."""
    stored = vectors.get(include=["metadatas"])
    stored_hashes = {
        chunk_id: (metadata or {}).get("content_hash")
        for chunk_id, metadata in zip(stored["ids"], stored["metadatas"], strict=True)
    }
    metadata = {chunk.id: chunk.metadata() for chunk in chunks}
    changed = [c for c in chunks if stored_hashes.get(c.id) != metadata[c.id]["content_hash"]]
    stale = sorted(stored_hashes.keys() - metadata.keys())
    for start in range(0, len(changed), _UPSERT_BATCH):
        batch = changed[start : start + _UPSERT_BATCH]
        vectors.add_texts(
            [chunk.document for chunk in batch],
            metadatas=[dict(metadata[chunk.id]) for chunk in batch],
            ids=[chunk.id for chunk in batch],
        )
    if stale:
        vectors.delete(ids=stale)
    added = sum(1 for chunk in changed if chunk.id not in stored_hashes)
    return added, len(changed) - added, len(stale)
