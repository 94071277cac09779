"""What a search returns and what a build reports."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Passage:
    """One runbook section (or piece of a long one) found by a search."""

    source: str
    heading: str
    anchor: str
    text: str
    score: float
    language: str = "en"
    suspicious: bool = False  # the section held an HTML comment or read like an injection

    @property
    def citation(self) -> str:
        """``file.md#anchor``; just the file for text that sits before any heading."""
        return f"{self.source}#{self.anchor}" if self.anchor else self.source


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Counts from one build: chunks added, updated and removed since the previous build."""

    files: int
    chunks: int
    added: int
    updated: int
    removed: int
    seconds: float
    suspicious: int = 0
