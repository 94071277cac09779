"""How much listener work runs at once: a few jobs at a time, one at a time per incident.

Acknowledging is cheap; the work after it (database, runbook, Slack calls) is not. Letting
every request's work run at once fills the event loop, and the acknowledgements of new
requests queue behind it, past Slack's 3 seconds. A few slots keep the loop responsive
(work queues instead, and its results arrive a little later through `response_url`), and
one job per incident at a time spares the incident's optimistic version check from
conflicts that would otherwise exhaust its retries when a crowd clicks on one card.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_SLOTS = 8


class WorkGate:
    def __init__(self, slots: int = DEFAULT_SLOTS) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._incidents: dict[int, asyncio.Lock] = {}

    @asynccontextmanager
    async def job(self, incident: int | None = None) -> AsyncIterator[None]:
        lock = self._incidents.setdefault(incident, asyncio.Lock()) if incident else None
        if lock is not None:
            await lock.acquire()
        try:
            async with self._slots:
                yield
        finally:
            if lock is not None:
                lock.release()
