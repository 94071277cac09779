"""A circuit breaker per backend: after `failures` consecutive failures the backend is
skipped for `cooldown` seconds; after that only a health check (never a person's question)
may close it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # in use
    OPEN = "open"  # skipped until the cooldown passes
    PROBING = "probing"  # cooldown over: waiting for a health check to pass


@dataclass
class Breaker:
    failures: int = 1
    cooldown: float = 30.0
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    consecutive: int = 0
    opened_at: float = 0.0
    last_reason: str = ""
    _history: list[str] = field(default_factory=list)

    def usable(self) -> bool:
        if self.state is BreakerState.OPEN and self.clock() - self.opened_at >= self.cooldown:
            self.state = BreakerState.PROBING
        return self.state is BreakerState.CLOSED

    def wants_probe(self) -> bool:
        self.usable()
        return self.state is BreakerState.PROBING

    def success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive = 0
        self.last_reason = ""

    def failure(self, reason: str) -> bool:
        """Count a failure; True when this one opened the circuit."""
        self.consecutive += 1
        self.last_reason = reason
        if self.state is not BreakerState.OPEN and self.consecutive >= self.failures:
            self.state = BreakerState.OPEN
            self.opened_at = self.clock()
            return True
        if self.state is BreakerState.OPEN:
            self.opened_at = self.clock()
        return False
