"""The leader lease: one row in `leases` with a holder and an expiry. The holder renews it
every few seconds; when it stops (killed, frozen, cut off), the row expires and another
instance takes it over on its next try.

The lease decides who does the scheduled work, not whether the work is correct: every
scheduled item is claimed in the database (a compare-and-set or a unique key), so two
instances that both believe they lead, for the moment a frozen leader needs to notice, do
the work once between them. Expiry is compared with each instance's own clock: keep the
machines on NTP (a skew well under the lease's length is all it needs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.sla_models import LeaseRow

log = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"


class LeaderLease:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        holder: str,
        ttl: timedelta,
        clock: Callable[[], datetime],
        name: str = SCHEDULER_LEASE,
    ) -> None:
        self._sessions = sessions
        self.holder = holder
        self.ttl = ttl
        self._now = clock
        self.name = name
        self._held_until: datetime | None = None

    @property
    def held(self) -> bool:
        """True while our last successful renewal has not run out (by our own clock)."""
        return self._held_until is not None and self._now() < self._held_until

    async def acquire(self) -> bool:
        """Take or renew the lease; True when we hold it afterwards."""
        now = self._now()
        expires = now + self.ttl
        was_held = self.held
        try:
            got = await self._try(now, expires)
        except Exception:
            log.exception("lease %s: renewal failed; acting as a follower", self.name)
            got = False
        self._held_until = expires if got else None
        if got and not was_held:
            log.info("lease %s taken by %s until %s", self.name, self.holder, expires)
        elif was_held and not got:
            log.warning("lease %s lost by %s", self.name, self.holder)
        return got

    async def _try(self, now: datetime, expires: datetime) -> bool:
        async with self._sessions.begin() as session:
            renewed = await session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self.name,
                    or_(LeaseRow.holder == self.holder, LeaseRow.expires_at < now),
                )
                .values(
                    holder=self.holder,
                    expires_at=expires,
                    acquired_at=case(
                        (LeaseRow.holder == self.holder, LeaseRow.acquired_at), else_=now
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            if renewed.rowcount == 1:  # type: ignore[attr-defined]
                return True
            insert = (
                pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            )
            created = await session.scalar(
                insert(LeaseRow)
                .values(name=self.name, holder=self.holder, acquired_at=now, expires_at=expires)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(LeaseRow.name)
            )
            return created is not None

    async def release(self) -> None:
        """Let another instance take over at once (a clean stop)."""
        if self._held_until is None:
            return
        self._held_until = None
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                    .values(expires_at=self._now() - timedelta(seconds=1))
                )
            log.info("lease %s released by %s", self.name, self.holder)
        except Exception:
            log.exception("lease %s: release failed; it expires on its own", self.name)
