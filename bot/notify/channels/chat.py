"""A direct message in a chat transport (Slack DM, Telegram chat), as a row in the
conversation outbox: the transport's own Sender delivers it, so any transport that
registers a Sender can carry notifications without knowing about them.

The hop is exactly-once: the outbox row's key is derived from the notification's key, so
a retry after a crash finds the row already there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.notify.channels.base import DeliveryError, Notification
from bot.notify.outbox import conversation_row, enqueue
from bot.plan.model import Channel

DM_KIND = "notification"


def parse_chat_address(address: str) -> ConversationRef:
    """`slack:U0123` -> ConversationRef(slack, U0123)."""
    transport, _, where = address.partition(":")
    try:
        return ConversationRef(Transport(transport), where)
    except ValueError as exc:
        raise DeliveryError(f"unknown chat transport {transport!r}", permanent=True) from exc


class ChatChannel:
    idempotent = True
    serves = frozenset({Channel.CHAT})

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._now = clock
        self._on_outbox = on_outbox or (lambda: None)

    async def send(self, notification: Notification) -> None:
        ref = parse_chat_address(notification.address)
        now = self._now()
        async with self._sessions.begin() as session:
            conv = await conversation_row(session, ref, now=now, language=notification.language)
            await enqueue(
                session,
                dedupe_key=f"dm:{notification.key}"[:200],
                conversation_id=conv.id,
                incident_id=notification.payload.get("incident_number"),
                kind=DM_KIND,
                text=notification.text,
                now=now,
                payload={"notification": notification.id, "contact": notification.contact},
            )
        self._on_outbox()
