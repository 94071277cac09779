"""Short memory per conversation and incident, so a follow-up question keeps its context.

Bounded twice: the turns kept per thread and the threads kept at all (least recently used
go first). It lives in memory only: a restart forgets, which is acceptable for follow-ups.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: str  # the synthesis, or the cited headings when no model wrote one


class ThreadMemory:
    def __init__(self, *, max_threads: int = 256, max_turns: int = 4, max_chars: int = 400):
        self._threads: OrderedDict[str, list[Turn]] = OrderedDict()
        self._max_threads = max_threads
        self._max_turns = max_turns
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def recall(self, thread: str) -> list[Turn]:
        with self._lock:
            turns = self._threads.get(thread)
            if turns is None:
                return []
            self._threads.move_to_end(thread)
            return list(turns)

    def remember(self, thread: str, question: str, answer: str) -> None:
        turn = Turn(question[: self._max_chars], answer[: self._max_chars])
        with self._lock:
            turns = self._threads.setdefault(thread, [])
            turns.append(turn)
            del turns[: -self._max_turns]
            self._threads.move_to_end(thread)
            while len(self._threads) > self._max_threads:
                self._threads.popitem(last=False)

    def __len__(self) -> int:
        return len(self._threads)
