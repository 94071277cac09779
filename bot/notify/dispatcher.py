"""Delivers the outbox: claims pending rows for the transports this process serves, hands
each to its sender, and records the result. A failure backs off and retries; it never
blocks another conversation, and it never touches the incident itself."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Transport
from bot.notify.outbox import OutboundMessage
from bot.storage.models import ConversationRow, OutboxRow

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=5)
BATCH = 50
CONVERSATIONS_AT_ONCE = 8
STATUS_KIND = "status_update"


class Sender(Protocol):
    """A transport's way to post into one of its conversations."""

    transport: Transport

    async def send(self, address: str, message: OutboundMessage) -> None: ...


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        poll_seconds: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._now = clock
        self._poll = poll_seconds
        self._senders: dict[str, Sender] = {}
        self._wake = asyncio.Event()
        self.instance = uuid.uuid4().hex[:12]

    def register(self, sender: Sender) -> None:
        self._senders[sender.transport.value] = sender

    def poke(self) -> None:
        """Deliver soon: called after a transaction that wrote to the outbox."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the round, so a poke that arrives during it starts another.
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception:
                log.exception("outbox delivery round failed; retrying")
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def deliver_pending(self) -> int:
        """One round: deliver what is due, in order per conversation; returns deliveries."""
        if not self._senders:
            return 0
        now = self._now()
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxRow, ConversationRow.transport, ConversationRow.address)
                    .join(ConversationRow, ConversationRow.id == OutboxRow.conversation_id)
                    .where(
                        OutboxRow.delivered_at.is_(None),
                        OutboxRow.available_at <= now,
                        ConversationRow.transport.in_(list(self._senders)),
                        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                    )
                    .order_by(OutboxRow.id)
                    .limit(BATCH)
                )
            ).all()
        newest = _newest_status_updates([row for row, _, _ in rows])
        by_conversation: dict[int, list[tuple[OutboxRow, str, str]]] = {}
        for item in rows:
            by_conversation.setdefault(item[0].conversation_id, []).append(item)
        # Conversations are delivered side by side (a platform's pacing in one channel must
        # not hold up the others), each one strictly in order.
        limit = asyncio.Semaphore(CONVERSATIONS_AT_ONCE)

        async def one_conversation(items: list[tuple[OutboxRow, str, str]]) -> int:
            async with limit:
                return await self._deliver_in_order(items, newest, now)

        counts = await asyncio.gather(*(one_conversation(i) for i in by_conversation.values()))
        return sum(counts)

    async def _deliver_in_order(
        self, items: list[tuple[OutboxRow, str, str]],
        newest: dict[tuple[int, int | None], int], now: datetime,
    ) -> int:  # fmt: skip
        """One conversation's rows, oldest first; a failure stops the rest until next round."""
        delivered = 0
        for row, transport, address in items:
            if (
                row.kind == STATUS_KIND
                and newest[(row.conversation_id, row.incident_id)] != row.id
            ):
                await self._supersede(row.id)
                continue
            if not await self._claim(row.id, now):
                continue
            if not await self._deliver(row, self._senders[transport], address):
                break
            delivered += 1
        return delivered

    async def _supersede(self, outbox_id: int) -> None:
        """An older status update still pending when a newer one exists: never send it."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == outbox_id, OutboxRow.delivered_at.is_(None))
                .values(delivered_at=self._now(), last_error="superseded by a newer update")
            )
        log.info("outbox %d superseded by a newer status update", outbox_id)

    async def _claim(self, outbox_id: int, now: datetime) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == outbox_id,
                    OutboxRow.delivered_at.is_(None),
                    or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                )
                .values(claimed_by=self.instance, claimed_until=now + CLAIM_FOR)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _deliver(self, row: OutboxRow, sender: Sender, address: str) -> bool:
        message = OutboundMessage(
            outbox_id=row.id,
            kind=row.kind,
            text=row.text,
            incident_number=row.incident_id,
            payload=dict(row.payload or {}),
        )
        try:
            await sender.send(address, message)
        except Exception as exc:
            attempts = row.attempts + 1
            backoff = min(timedelta(seconds=2**attempts), MAX_BACKOFF)
            log.warning(
                "outbox %d to %s failed (attempt %d): %s",
                row.id, sender.transport, attempts, type(exc).__name__,
            )  # fmt: skip
            await self._record(row.id, attempts=attempts, available_in=backoff, error=exc)
            return False
        await self._record(row.id, attempts=row.attempts + 1, delivered=True)
        log.info("outbox %d delivered to %s kind=%s", row.id, sender.transport, row.kind)
        return True

    async def _record(
        self, outbox_id: int, *, attempts: int, delivered: bool = False,
        available_in: timedelta | None = None, error: Exception | None = None,
    ) -> None:  # fmt: skip
        now = self._now()
        values: dict[str, object] = {"attempts": attempts, "claimed_until": None}
        if delivered:
            values["delivered_at"] = now
        if available_in is not None:
            values["available_at"] = now + available_in
        if error is not None:
            values["last_error"] = f"{type(error).__name__}: {error}"[:500]
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow).where(OutboxRow.id == outbox_id).values(**values)
            )


def _newest_status_updates(rows: list[OutboxRow]) -> dict[tuple[int, int | None], int]:
    newest: dict[tuple[int, int | None], int] = {}
    for row in rows:
        if row.kind == STATUS_KIND:
            key = (row.conversation_id, row.incident_id)
            newest[key] = max(newest.get(key, 0), row.id)
    return newest
