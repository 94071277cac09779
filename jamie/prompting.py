"""Prompt templates (prompts/*.j2) rendered into chat messages that fit a backend's window.

`fit` renders, counts with the backend's own tokenizer and, while the prompt is too long,
drops the least useful items (oldest memory, lowest-ranked passages, oldest timeline
lines) one at a time; if the main text alone is still too long it is cut to a summary of
its opening and closing sentences and the prompt says so (`note`); as a last resort the
whole user message is cut the same way. It never raises because of size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from jamie.models.base import Backend, Message, count_messages

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
TASKS = ("rca", "ask", "translate", "summarise")
SAFETY_MARGIN = 16
PASSAGE_CHARS = 480
_TAG_CHARS = str.maketrans({"<": "‹", ">": "›"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+")


def as_data(value: object) -> str:
    """User, runbook or alert text as inert data: no tags it could close, no control bytes."""
    if isinstance(value, Mapping):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    return _CONTROL.sub(" ", str(value)).translate(_TAG_CHARS)


@cache
def _environment(folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data"] = as_data
    return env


def template(task: str, folder: Path = PROMPTS_DIR) -> Template:
    if task not in TASKS:
        raise KeyError(f"no prompt template for task {task!r}; known: {', '.join(TASKS)}")
    return _environment(folder).get_template(f"{task}.j2")


def render(task: str, values: Mapping[str, Any], folder: Path = PROMPTS_DIR) -> list[Message]:
    """The task's system and user messages for these values."""
    tmpl = template(task, folder)
    context = tmpl.new_context(dict(values))
    system = "".join(tmpl.blocks["system"](context)).strip()
    user = "".join(tmpl.blocks["user"](context)).strip()
    return [Message("system", system), Message("user", re.sub(r"\n{3,}", "\n\n", user))]


@dataclass(frozen=True, slots=True)
class Trim:
    """A list value that may lose items to fit: from the front (oldest) or the back."""

    key: str
    oldest_first: bool = False


def input_budget(backend: Backend, max_tokens: int) -> int:
    window = backend.context_tokens - max_tokens - SAFETY_MARGIN
    return min(window, backend.prompt_tokens) if backend.prompt_tokens else window


def fit(
    task: str,
    values: Mapping[str, Any],
    backend: Backend,
    *,
    max_tokens: int,
    trims: Sequence[Trim] = (),
    text_key: str | None = None,
    note: str = "",
) -> list[Message]:
    """Render `task` for `backend`, trimmed to leave `max_tokens` for the answer."""
    budget = input_budget(backend, max_tokens)
    current: dict[str, Any] = {"note": note, **values}
    current.update({t.key: list(values.get(t.key, ())) for t in trims})
    messages = render(task, current)
    while count_messages(backend, messages) > budget:
        trim = next((t for t in trims if current[t.key]), None)
        if trim is None:
            break
        current[trim.key].pop(0 if trim.oldest_first else -1)
        messages = render(task, current)
    overflow = count_messages(backend, messages) - budget
    if overflow > 0 and text_key is not None:
        text = str(current[text_key])
        keep = max(backend.count_tokens(text) - overflow - 24, 16)
        current[text_key] = shorten(text, backend.count_tokens, keep)
        current["note"] = (note + " " if note else "") + (
            "the text was too long and is shortened; [...] marks what was left out."
        )
        messages = render(task, current)
    if count_messages(backend, messages) > budget:
        # Still too long (e.g. a list that may not be trimmed): shorten the whole user part.
        system, user = messages
        room = budget - count_messages(backend, [system]) - 8
        messages = [system, Message("user", shorten(user.content, backend.count_tokens, room))]
    return messages


def clip(text: str, chars: int = PASSAGE_CHARS) -> str:
    """A passage cut at a word boundary: a small model reads the start of a section best,
    and every token of prompt costs time on a CPU."""
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + " [...]"


def shorten(text: str, count: Callable[[str], int], tokens: int) -> str:
    """An extractive summary: opening and closing sentences, alternately, within `tokens`."""
    if count(text) <= tokens:
        return text
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    head: list[str] = []
    tail: list[str] = []
    used = count(" [...] ")
    while sentences:
        take_head = len(head) <= len(tail)
        sentence = sentences.pop(0) if take_head else sentences.pop()
        cost = count(sentence) + 1
        if used + cost > tokens:
            break
        used += cost
        if take_head:
            head.append(sentence)
        else:
            tail.insert(0, sentence)
    if not head:
        # One sentence longer than the budget: keep its first words.
        words = text.split()
        while words and count(" ".join(words)) > tokens - used:
            words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
        head = [" ".join(words)]
    return " ".join(head) + " [...] " + " ".join(tail)
