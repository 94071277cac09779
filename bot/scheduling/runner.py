"""APScheduler behind a small facade: leader-only jobs, run one round at a time.

Every instance renews (or tries to take) the leader lease every `renew_seconds`. The
instance that holds it runs a round every `sweep_seconds`: each job, under a wrapper that
times it and logs a failure once, then reports the earliest moment it next has work. When
that moment falls before the next round, a one-shot job is set for it, so a deadline
between two rounds is met on time rather than up to a round late. Nothing lives only in
the scheduler: each round reads what is due from the database, so a restart or a new
leader has nothing to rebuild.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling.lease import LeaderLease

log = logging.getLogger(__name__)

# A leader job: does what is due at `now`, returns when it next has work (None: no idea).
Job = Callable[[datetime], Awaitable[datetime | None]]
_WAKE_ID = "wake"


@dataclass(frozen=True, slots=True)
class _Named:
    name: str
    run: Job


class Scheduler:
    def __init__(
        self,
        lease: LeaderLease,
        *,
        sweep_seconds: float,
        renew_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.lease = lease
        self._every = sweep_seconds
        self._renew_every = renew_seconds
        self._now = clock
        self._jobs: list[_Named] = []
        self._lock = asyncio.Lock()
        self._aps: AsyncIOScheduler | None = None
        self.rounds = 0

    def add(self, name: str, job: Job) -> None:
        self._jobs.append(_Named(name, job))

    async def start(self) -> None:
        aps = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        aps.add_job(
            self._renew,
            "interval",
            seconds=self._renew_every,
            id="lease",
            max_instances=1,
            coalesce=True,
            next_run_time=now,
        )
        aps.add_job(
            self.tick,
            "interval",
            seconds=self._every,
            id="sweep",
            max_instances=1,
            coalesce=True,
            next_run_time=now,
        )
        aps.start()
        self._aps = aps

    async def stop(self) -> None:
        """No new rounds; let the running one finish; hand the lease over. (APScheduler's
        shutdown cancels jobs still running, so it comes last, when none is.)"""
        aps = self._aps
        if aps is None:
            return
        aps.pause()
        async with self._lock:
            self._aps = None
            await self.lease.release()
        for _ in range(5):
            await asyncio.sleep(0)  # a job waiting for the lock sees the stop and returns
        aps.shutdown(wait=False)

    async def _renew(self) -> None:
        async with self._lock:
            if self._aps is None:
                return
            was_leader = self.lease.held
            now_leader = await self.lease.acquire()
        if now_leader and not was_leader:
            await self.tick()  # a new leader looks at once; nothing to rebuild

    async def tick(self) -> None:
        """One round of every job, if we lead; then a wake-up for the earliest next work."""
        async with self._lock:
            if self._aps is None or not self.lease.held:
                return
            upcoming = [when for job in self._jobs if (when := await self._run(job))]
            self.rounds += 1
        if upcoming:
            self._wake_at(min(upcoming))

    async def _run(self, job: _Named) -> datetime | None:
        started = time.monotonic()
        try:
            when = await job.run(self._now())
        except Exception:
            log.exception("job %s failed; the next round retries", job.name)
            return None
        elapsed = time.monotonic() - started
        if elapsed > self._every:
            log.warning("job %s took %.1fs, longer than a round", job.name, elapsed)
        return when

    def _wake_at(self, when: datetime) -> None:
        if self._aps is None:
            return
        delay = (when - self._now()).total_seconds()
        if delay <= 0 or delay >= self._every:
            # Past: what the round could not do waits for the next round, not a hot loop.
            return
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self._aps.add_job(
            self.tick,
            "date",
            run_date=run_at,
            id=_WAKE_ID,
            replace_existing=True,
            misfire_grace_time=None,
        )
