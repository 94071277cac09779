"""The Chroma side of the index: the persistent client and the runbook collection.

This is the only module that imports chromadb. The states we expect from it (no collection,
one built with another model) become our errors here; anything else propagates. Collections
are always opened with ``embedding_function=None``: Chroma's default embedding function
downloads a model, and every vector here comes from `E5Embeddings`.
"""

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Final

import chromadb
from chromadb.config import Settings
from chromadb.errors import NotFoundError
from langchain_chroma import Chroma

from jamie.knowledge.embedder import DIMENSION, MODEL_NAME, E5Embeddings
from jamie.knowledge.errors import IndexMismatch

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

_MODEL_KEY = "embedding_model"
_DIMENSION_KEY = "embedding_dim"
_SPACE: Final = "cosine"


def open_client(persist_dir: Path) -> "ClientAPI":
    # Telemetry off: it would try to reach the network. Chroma refuses a second client for
    # the same folder with other settings, so every client here gets the same ones.
    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    return chromadb.PersistentClient(path=str(persist_dir), settings=settings)


def find_collection(client: "ClientAPI", persist_dir: Path, name: str) -> "Collection | None":
    """The collection, or None if it was never created; raises IndexMismatch if foreign."""
    try:
        collection = client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None
    _check(collection, persist_dir)
    return collection


def count_chunks(client: "ClientAPI", name: str) -> int:
    """Chunks in the collection, 0 if it does not exist; no model check."""
    try:
        return client.get_collection(name, embedding_function=None).count()
    except NotFoundError:
        return 0


def create_collection(client: "ClientAPI", name: str) -> "Collection":
    return client.create_collection(
        name,
        embedding_function=None,
        metadata={_MODEL_KEY: MODEL_NAME, _DIMENSION_KEY: DIMENSION},
        configuration={"hnsw": {"space": _SPACE}},
    )


def drop_collection(client: "ClientAPI", name: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.delete_collection(name)


def vector_store(client: "ClientAPI", name: str, embeddings: E5Embeddings) -> Chroma:
    """LangChain's view of an existing collection."""
    return Chroma(
        collection_name=name,
        client=client,
        embedding_function=embeddings,
        create_collection_if_not_exists=True,
    )


def _check(collection: "Collection", persist_dir: Path) -> None:
    metadata = collection.metadata or {}
    hnsw = collection.configuration_json.get("hnsw") or {}
    found = (metadata.get(_MODEL_KEY), metadata.get(_DIMENSION_KEY), hnsw.get("space"))
    if found != (MODEL_NAME, DIMENSION, _SPACE):
        raise IndexMismatch(
            persist_dir,
            collection.name,
            found=f"{found[0]} ({found[1]} dimensions, {found[2]} distance)",
            expected=f"{MODEL_NAME} ({DIMENSION} dimensions, {_SPACE} distance)",
        )
