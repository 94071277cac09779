"""Jamie was removed from a chat (or blocked by a person): stop posting there, and tell each
affected incident's commander, durably through the outbox, where they can hear it: their
own chat with Jamie when the plan lists their Telegram id, else the ops group."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.i18n import Catalog
from bot.notify.outbox import conversation_row, enqueue
from bot.plan import Plan
from bot.service.incidents import IncidentService
from bot.storage.models import ConversationRow
from bot.transports.telegram.people import telegram_id_of
from bot.transports.telegram.places import Place

log = logging.getLogger(__name__)

KIND = "telegram.removed"


class Removals:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], service: IncidentService, plan: Plan,
        *, ops_chat: Callable[[], int | None], language: str, clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
    ) -> None:  # fmt: skip
        self._sessions = sessions
        self._service = service
        self._plan = plan
        self._ops_chat = ops_chat
        self._language = language
        self._now = clock
        self._on_outbox = on_outbox

    async def removed_from(self, chat: int) -> None:
        told = False
        for conversation in await self._conversations_of(chat):
            for number in await self._service.unbind(conversation):
                told |= await self._tell_commander(number, chat)
        if told:
            self._on_outbox()

    async def _conversations_of(self, chat: int) -> list[ConversationRef]:
        async with self._sessions() as session:
            addresses = (
                await session.scalars(
                    select(ConversationRow.address).where(
                        ConversationRow.transport == Transport.TELEGRAM.value,
                        or_(
                            ConversationRow.address == str(chat),
                            ConversationRow.address.like(f"{chat}:%"),
                        ),
                    )
                )
            ).all()
        return [ConversationRef(Transport.TELEGRAM, a) for a in addresses]

    async def _tell_commander(self, number: int, chat: int) -> bool:
        incident = await self._service.get(number)
        if not incident.is_active:
            return False
        person = telegram_id_of(self._plan, incident.commander)
        ops = self._ops_chat()
        target = person if person is not None else (ops if ops not in (None, chat) else None)
        if target is None:
            log.warning("jamie removed from chat %s; nobody to tell for %s", chat, incident.ref)
            return False
        text = Catalog(self._language)(
            "telegram.removed", ref=incident.ref, chat=chat,
            commander=incident.commander or "-",
        )  # fmt: skip
        now = self._now()
        async with self._sessions.begin() as session:
            conv = await conversation_row(session, Place(target).conversation, now=now)
            return await enqueue(
                session, dedupe_key=f"tg-removed:{chat}:{number}", conversation_id=conv.id,
                incident_id=number, kind=KIND, text=text, now=now,
            )  # fmt: skip
