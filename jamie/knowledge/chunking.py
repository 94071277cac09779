"""Runbook files to heading-sized chunks with stable ids and citations.

A chunk's stored document is what gets embedded: the runbook title and heading path, a blank
line, then the section body. The path makes "P0 ... Immediate actions" findable even when the
body never repeats it; `Chunk.body_offset` marks where the body starts, so a search returns
the body alone.
"""

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from jamie.knowledge.safety import COMMENT_MARK, looks_like_injection, mark_html_comments
from jamie.knowledge.text import slugify

log = logging.getLogger(__name__)

MAX_SECTION_CHARS = 1500
PIECE_OVERLAP_CHARS = 150
DEFAULT_LANGUAGE = "en"

_HEADER_KEYS = ("h1", "h2", "h3")
_HEADER_SPLITTER = MarkdownHeaderTextSplitter(
    [("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=True
)
_PIECE_SPLITTER = RecursiveCharacterTextSplitter(
    chunk_size=MAX_SECTION_CHARS, chunk_overlap=PIECE_OVERLAP_CHARS
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_HEADING_LINE = re.compile(r"(#{1,6})[ \t]+(.+)")

MetadataValue = str | int | bool


@dataclass(frozen=True, slots=True)
class Runbook:
    """One Markdown file, front matter parsed and removed from `body`."""

    source: str
    title: str
    language: str
    tags: tuple[str, ...]
    body: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A section, or one piece of a long section, ready to be embedded and stored."""

    id: str
    document: str
    body_offset: int
    source: str
    heading: str
    anchor: str
    heading_path: tuple[str, ...]
    piece: int
    title: str
    language: str
    tags: tuple[str, ...]
    suspicious: bool

    @property
    def citation(self) -> str:
        return f"{self.source}#{self.anchor}" if self.anchor else self.source

    def metadata(self) -> dict[str, MetadataValue]:
        """Chroma metadata, including a hash of everything stored, to skip unchanged chunks."""
        fields: dict[str, MetadataValue] = {
            "source": self.source,
            "heading": self.heading,
            "anchor": self.anchor,
            "heading_path": " > ".join(self.heading_path),
            "piece": self.piece,
            "title": self.title,
            "language": self.language,
            "tags": ", ".join(self.tags),
            "suspicious": self.suspicious,
            "body_offset": self.body_offset,
        }
        fields["content_hash"] = _digest([self.document, fields])
        return fields


@dataclass(frozen=True, slots=True)
class ChunkedRunbook:
    """A runbook's chunks, and the citations of sections that looked like an injection."""

    chunks: tuple[Chunk, ...]
    suspicious: tuple[str, ...]


def find_runbooks(knowledge_dir: Path) -> list[Path]:
    """Every ``*.md`` file under `knowledge_dir`, hidden folders and files left out."""
    if not knowledge_dir.is_dir():
        raise FileNotFoundError(
            f"The knowledge folder {knowledge_dir} does not exist: "
            "point Jamie at the folder that holds the Markdown runbooks."
        )
    return sorted(
        path
        for path in knowledge_dir.rglob("*.md")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(knowledge_dir).parts)
    )


def read_runbook(path: Path, knowledge_dir: Path) -> Runbook:
    """Read one file; front matter that is not a YAML mapping falls back to defaults."""
    source = path.relative_to(knowledge_dir).as_posix()
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    front, body = _split_front_matter(text, source)
    title = front.get("title")
    language = front.get("language")
    return Runbook(
        source=source,
        title=str(title).strip() if title else _first_h1(body) or path.stem,
        language=str(language).strip().lower() if language else DEFAULT_LANGUAGE,
        tags=_tags(front.get("tags")),
        body=body,
    )


def chunk_runbook(runbook: Runbook) -> ChunkedRunbook:
    """Split by #, ## and ### headings; sections over `MAX_SECTION_CHARS` split further."""
    markdown = mark_html_comments(runbook.body)
    anchors = _heading_anchors(markdown)
    occurrences: Counter[tuple[str, ...]] = Counter()
    chunks: list[Chunk] = []
    suspicious: list[str] = []
    for section in _HEADER_SPLITTER.split_text(markdown):
        path = tuple(str(section.metadata[key]) for key in _HEADER_KEYS if key in section.metadata)
        anchor = _next_anchor(anchors, path[-1]) if path else ""
        context = _context(runbook.title, path)
        flagged = looks_like_injection(f"{context}\n{section.page_content}")
        if flagged:
            suspicious.append(f"{runbook.source}#{anchor}" if anchor else runbook.source)
        body = _clean(section.page_content)
        if not body:
            continue
        occurrence = occurrences[path]
        occurrences[path] += 1
        pieces = [body] if len(body) <= MAX_SECTION_CHARS else _PIECE_SPLITTER.split_text(body)
        for number, piece in enumerate(pieces):
            chunks.append(
                Chunk(
                    id=_digest([runbook.source, list(path), occurrence, number]),
                    document=f"{context}\n\n{piece}",
                    body_offset=len(context) + 2,
                    source=runbook.source,
                    heading=path[-1] if path else runbook.title,
                    anchor=anchor,
                    heading_path=path,
                    piece=number,
                    title=runbook.title,
                    language=runbook.language,
                    tags=runbook.tags,
                    suspicious=flagged,
                )
            )
    return ChunkedRunbook(chunks=tuple(chunks), suspicious=tuple(suspicious))


def _split_front_matter(text: str, source: str) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    body = text[match.end() :]
    try:
        front = yaml.safe_load(match[1])
    except yaml.YAMLError:
        log.warning("front matter of %s is not valid YAML; indexing it with defaults", source)
        return {}, body
    if not isinstance(front, dict):
        return {}, body
    return {str(key): value for key, value in front.items()}, body


def _first_h1(markdown: str) -> str | None:
    for line in markdown.split("\n"):
        if line.startswith("# "):
            return line[2:].strip() or None
    return None


def _tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(str(tag).strip() for tag in value if str(tag).strip())


def _heading_anchors(markdown: str) -> Iterator[tuple[str, str]]:
    """(text, anchor) of each #..### heading in order, anchors numbered as GitHub numbers them.

    The splitter drops headings whose section is empty, so anchors are counted here, on every
    heading outside code fences (#### and deeper count too, as on GitHub).
    """
    seen: Counter[str] = Counter()
    in_fence = False
    for line in markdown.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING_LINE.fullmatch(stripped)
        if match is None:
            continue
        text = match[2].strip()
        slug = slugify(text)
        anchor = f"{slug}-{seen[slug]}" if seen[slug] else slug
        seen[slug] += 1
        if len(match[1]) <= len(_HEADER_KEYS):
            yield text, anchor


def _next_anchor(anchors: Iterator[tuple[str, str]], heading: str) -> str:
    """Advance to the next heading with this text; sections arrive in document order."""
    for text, anchor in anchors:
        if text == heading:
            return anchor
    return slugify(heading)


def _context(title: str, path: tuple[str, ...]) -> str:
    """Title and heading path, the title left out when the top heading repeats it."""
    if not path:
        return title
    trail = " > ".join(path)
    return trail if path[0] == title else f"{title}\n{trail}"


def _clean(section: str) -> str:
    """Remove comment marks and the hard-break spaces the header splitter adds to lines."""
    lines = []
    for line in section.split("\n"):
        if COMMENT_MARK in line:
            line = line.replace(COMMENT_MARK, "")
            if not line.strip():
                continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def _digest(value: object) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]
