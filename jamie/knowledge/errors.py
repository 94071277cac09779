"""The knowledge package's errors; the hierarchy is described in the package docstring."""

from pathlib import Path


class KnowledgeError(Exception):
    """Base class for the errors this package raises on purpose."""


class IndexNotBuilt(KnowledgeError):
    """There is no index to search yet, or it holds no runbook chunk."""

    def __init__(self, persist_dir: Path, collection: str, *, empty: bool = False) -> None:
        state = "is empty" if empty else "has not been built"
        super().__init__(
            f"The knowledge index {collection!r} in {persist_dir} {state}: "
            "run `jamie index` to index the runbooks."
        )


class IndexMismatch(KnowledgeError):
    """The stored index was built with a different embedding model or dimension."""

    def __init__(self, persist_dir: Path, collection: str, *, found: str, expected: str) -> None:
        super().__init__(
            f"The knowledge index {collection!r} in {persist_dir} was built with {found}, "
            f"but this Jamie embeds with {expected}: run `jamie index --rebuild`."
        )
