"""Delivers the notifications table: claims due rows with a lease, sends each through its
channel, and records the result. Rows are sent concurrently, so one slow or failing
channel or person never holds up the others. A transient failure backs off and retries;
a permanent one, or the last attempt, marks the row failed and says so on the incident's
timeline and in its conversations.

Delivery guarantee: a row is marked delivered after its channel accepted it. A process
killed between the two sends the row again once its claim lapses, with the same key:
the webhook and chat channels are idempotent on that key (the receiver, or the outbox,
drops the repeat); SMTP is not, so e-mail is at-least-once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.incident import format_ref
from bot.notify.channels.base import DeliveryError, Notification, NotificationChannel
from bot.plan.model import Channel, Plan
from bot.scheduling import journal
from bot.scheduling.texts import NoticeWriter
from bot.storage.sla_models import NotificationRow

log = logging.getLogger(__name__)

BATCH = 100
CONCURRENCY = 16
MAX_ATTEMPTS = 5
MAX_BACKOFF = timedelta(minutes=2)
FAILED_KIND = "notify_failed"

# Test-only: called at "before_send" and "after_send" with the row id (see testing.py).
PausePoint = Callable[[str, int], Awaitable[None]]


class NotificationDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        writer: NoticeWriter,
        *,
        clock: Callable[[], datetime],
        claim_for: timedelta = timedelta(seconds=30),
        poll_seconds: float = 1.0,
        on_outbox: Callable[[], None] | None = None,
        instance: str | None = None,
        pause: PausePoint | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._writer = writer
        self._now = clock
        self._claim_for = claim_for
        self._poll = poll_seconds
        self._on_outbox = on_outbox or (lambda: None)
        self._channels: dict[Channel, NotificationChannel] = {}
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._pause = pause
        self.instance = instance or uuid.uuid4().hex[:12]

    def register(self, channel: NotificationChannel) -> None:
        for name in channel.serves:
            self._channels[name] = channel

    @property
    def available(self) -> frozenset[Channel]:
        return frozenset(self._channels)

    def poke(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.deliver_pending() >= BATCH:
                    pass
            except Exception:
                log.exception("notification round failed; retrying")
            self._wake.clear()
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def deliver_pending(self) -> int:
        """One round: claim what is due and deliver it; returns the rows handled."""
        if not self._channels:
            return 0
        rows = await self._claim_batch(self._now())
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _claim_batch(self, now: datetime) -> list[NotificationRow]:
        claimable = (
            NotificationRow.delivered_at.is_(None),
            NotificationRow.failed_at.is_(None),
            NotificationRow.available_at <= now,
            NotificationRow.channel.in_([c.value for c in self._channels]),
            or_(NotificationRow.claimed_until.is_(None), NotificationRow.claimed_until < now),
        )
        async with self._sessions.begin() as session:
            ids = list(
                (
                    await session.scalars(
                        select(NotificationRow.id)
                        .where(*claimable)
                        .order_by(NotificationRow.id)
                        .limit(BATCH)
                    )
                ).all()
            )
            if not ids:
                return []
            claimed = await session.scalars(
                update(NotificationRow)
                .where(NotificationRow.id.in_(ids), *claimable)
                .values(claimed_by=self.instance, claimed_until=now + self._claim_for)
                .returning(NotificationRow)
                .execution_options(synchronize_session=False)
            )
            return sorted(claimed.all(), key=lambda row: row.id)

    async def _deliver(self, row: NotificationRow) -> None:
        channel = self._channels[Channel(row.channel)]
        notification = _notification(row, self._plan)
        async with self._limit:
            if self._pause is not None:
                await self._pause("before_send", row.id)
            try:
                await asyncio.wait_for(
                    channel.send(notification), self._claim_for.total_seconds() / 2
                )
            except (DeliveryError, TimeoutError) as exc:
                await self._failed(row, exc)
                return
            except Exception as exc:
                log.exception("notification %d: channel %s crashed", row.id, row.channel)
                await self._failed(row, DeliveryError(type(exc).__name__))
                return
            if self._pause is not None:
                await self._pause("after_send", row.id)
        await self._record(row.id, {"delivered_at": self._now(), "attempts": row.attempts + 1})
        log.info("notification %d delivered channel=%s kind=%s", row.id, row.channel, row.kind)

    async def _failed(self, row: NotificationRow, exc: DeliveryError | TimeoutError) -> None:
        error = exc if isinstance(exc, DeliveryError) else DeliveryError("timed out")
        attempts = row.attempts + 1
        now = self._now()
        log.warning(
            "notification %d via %s failed (attempt %d): %s",
            row.id,
            row.channel,
            attempts,
            error.reason,
        )
        values: dict[str, object] = {"attempts": attempts, "last_error": error.reason[:500]}
        if error.permanent or attempts >= MAX_ATTEMPTS:
            values["failed_at"] = now
            await self._record(row.id, values, give_up=(row, error.reason, attempts))
            return
        backoff = min(timedelta(seconds=2**attempts), MAX_BACKOFF)
        values["available_at"] = now + max(backoff, error.retry_after or timedelta(0))
        await self._record(row.id, values)

    async def _record(
        self,
        row_id: int,
        values: dict[str, object],
        give_up: tuple[NotificationRow, str, int] | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == row_id)
                .values(claimed_until=None, **values)
            )
            if give_up is not None:
                await self._tell_failure(session, *give_up)
        if give_up is not None:
            self._on_outbox()

    async def _tell_failure(
        self, session: AsyncSession, row: NotificationRow, reason: str, attempts: int
    ) -> None:
        """Failures are part of the incident's story: on its timeline and in its chats."""
        if row.incident_id is None:
            return
        number, now = row.incident_id, self._now()

        def render(language: str) -> str:
            return self._writer.failed(
                format_ref(number), row.contact, row.channel, reason, attempts, language
            )

        await journal.note(
            session,
            number,
            now=now,
            text=render(self._plan.default_language),
            event=FAILED_KIND,
            data={"notification": row.id, "contact": row.contact, "channel": row.channel},
        )
        await journal.post(
            session,
            number,
            key=f"{FAILED_KIND}:{row.id}",
            kind=FAILED_KIND,
            render=render,
            now=now,
            default_language=self._plan.default_language,
        )


def _notification(row: NotificationRow, plan: Plan) -> Notification:
    contact = plan.contacts.get(row.contact)
    return Notification(
        id=row.id,
        key=row.dedupe_key,
        kind=row.kind,
        contact=row.contact,
        name=contact.name if contact else row.contact,
        channel=Channel(row.channel),
        address=row.address,
        language=row.language,
        subject=row.subject,
        text=row.text,
        incident_ref=format_ref(row.incident_id) if row.incident_id else None,
        payload={**(row.payload or {}), "incident_number": row.incident_id},
    )
