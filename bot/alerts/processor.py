"""Drains the spool into the database: one notification at a time, in arrival order.

A database error that may pass (SQLite's "database is locked", a dropped PostgreSQL
connection) stops the round and retries it after a growing pause, file untouched: nothing
is lost and the order is kept. Any other error is a bug or a notification Jamie cannot
handle: it is logged once with the spool id, that file waits with its own back-off, and the
files after it go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.alerts.payload import PayloadError, parse_notification
from bot.alerts.spool import Spool, SpoolEntry
from bot.alerts.tracker import AlertTracker, Outcome

log = logging.getLogger(__name__)

MAX_PAUSE = 30.0


@dataclass
class _Failure:
    attempts: int
    retry_at: float


class AlertProcessor:
    def __init__(
        self,
        spool: Spool,
        tracker: AlertTracker,
        *,
        poll_seconds: float = 1.0,
        on_processed: Callable[[SpoolEntry, Outcome], None] | None = None,
    ) -> None:
        self._spool = spool
        self._tracker = tracker
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._failures: dict[str, _Failure] = {}
        self.on_processed = on_processed or (lambda entry, outcome: None)
        self._pause = 0.0

    def poke(self) -> None:
        """Process soon: the intake calls it after storing a notification."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                log.exception("alert processing round failed; retrying")
            waiters = [asyncio.create_task(stop.wait())]
            if not self._pause:  # while the database is busy, new arrivals do not wake us
                waiters.append(asyncio.create_task(self._wake.wait()))
            wait = self._pause or self._poll
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def drain(self) -> int:
        """Process every stored notification that is due; returns how many were processed."""
        entries = await asyncio.to_thread(self._spool.pending)
        processed = 0
        for entry in entries:
            failure = self._failures.get(entry.id)
            if failure is not None and failure.retry_at > time.monotonic():
                continue
            try:
                outcome = await self._process(entry)
            except (OperationalError, DBAPIError) as exc:
                self._pause = min(max(self._pause * 2, 0.2), MAX_PAUSE)
                log.warning(
                    "database busy while processing alert %s (%s); retrying in %.1fs",
                    entry.id, type(exc.orig).__name__ if exc.orig else type(exc).__name__,
                    self._pause,
                )  # fmt: skip
                return processed
            except Exception as exc:
                self._fail(entry, exc)
                continue
            self._pause = 0.0
            self._failures.pop(entry.id, None)
            await asyncio.to_thread(self._spool.done, entry)
            processed += 1
            self.on_processed(entry, outcome)
        return processed

    async def _process(self, entry: SpoolEntry) -> Outcome:
        started = time.perf_counter()
        body = await asyncio.to_thread(entry.read)
        try:
            notification = parse_notification(body)
        except PayloadError:
            # Validated before it was stored, so only a hand-edited file gets here.
            log.error("spooled alert %s is not a valid notification; left in place", entry.id)
            raise
        outcome = await self._tracker.process(
            notification, spool_id=entry.id, received_at=entry.received_at
        )
        log.info(
            "alert notification %s group=%s incident=%s opened=%s reopened=%s changes=%s "
            "in %.0f ms",
            entry.id, outcome.group[:12], outcome.incident, outcome.opened, outcome.reopened,
            {k: len(v) for k, v in outcome.changes.items()},
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return outcome

    def _fail(self, entry: SpoolEntry, exc: Exception) -> None:
        previous = self._failures.get(entry.id)
        attempts = previous.attempts + 1 if previous else 1
        pause = min(2.0**attempts, MAX_PAUSE * 10)
        self._failures[entry.id] = _Failure(attempts, time.monotonic() + pause)
        log.error(
            "alert notification %s failed (attempt %d); kept in the spool, retry in %.0fs",
            entry.id, attempts, pause, exc_info=exc,
        )  # fmt: skip
