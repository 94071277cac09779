"""Telegram's rows: each incident's topic and card (`TopicStore`), and what became of the
chats Jamie posts to (`ChatStore`: upgraded to a supergroup, or Jamie removed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.telegram_models import TelegramChatRow, TelegramTopicRow
from bot.transports.telegram.errors import ChatGone
from bot.transports.telegram.places import Place

CREATING, READY = "creating", "ready"
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Topic:
    incident: int
    state: str
    place: Place | None
    card_message_id: int | None


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class TopicStore:
    def __init__(self, sessions: Sessions, *, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = clock

    async def get(self, incident: int) -> Topic | None:
        async with self._sessions() as session:
            row = await session.get(TelegramTopicRow, incident)
            return _topic(row) if row else None

    async def claim(self, incident: int, hold: timedelta) -> bool:
        """The right to create the incident's topic: the first claim, or an expired one."""
        now = self._now()
        async with self._sessions.begin() as session:
            values = {"incident_id": incident, "state": CREATING, "claimed_until": now + hold,
                      "updated_at": now}  # fmt: skip
            added = await session.scalar(
                _insert(session)(TelegramTopicRow).values(**values)
                .on_conflict_do_nothing().returning(TelegramTopicRow.incident_id)
            )  # fmt: skip
            if added is not None:
                return True
            taken = await session.execute(
                update(TelegramTopicRow)
                .where(
                    TelegramTopicRow.incident_id == incident,
                    TelegramTopicRow.state == CREATING,
                    TelegramTopicRow.claimed_until < now,
                )
                .values(claimed_until=now + hold, updated_at=now)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def release(self, incident: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(TelegramTopicRow).where(
                    TelegramTopicRow.incident_id == incident, TelegramTopicRow.state == CREATING
                )
            )

    async def ready(self, incident: int, place: Place) -> None:
        await self._set(
            incident, state=READY, chat_id=str(place.chat), thread_id=place.thread,
            claimed_until=None,
        )  # fmt: skip

    async def card(self, incident: int, message_id: int | None) -> None:
        await self._set(incident, card_message_id=message_id)

    async def move_chat(self, old: int, new: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(TelegramTopicRow)
                .where(TelegramTopicRow.chat_id == str(old))
                .values(chat_id=str(new), updated_at=self._now())
            )

    async def _set(self, incident: int, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(TelegramTopicRow)
                .where(TelegramTopicRow.incident_id == incident)
                .values(updated_at=self._now(), **values)
            )


class ChatStore:
    """Chats that moved or that Jamie must no longer post to; read on every call, so it is
    held in memory and written through to the database."""

    def __init__(self, sessions: Sessions, *, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = clock
        self._moved: dict[int, int] = {}
        self._gone: set[int] = set()

    async def load(self) -> None:
        async with self._sessions() as session:
            rows = (await session.scalars(select(TelegramChatRow))).all()
        self._moved = {int(r.chat_id): int(r.migrated_to) for r in rows if r.migrated_to}
        self._gone = {int(r.chat_id) for r in rows if r.gone_at is not None}

    def current(self, chat: int) -> int:
        """The chat's id now (following upgrades); ChatGone if Jamie was removed from it."""
        seen = {chat}
        while chat in self._moved and self._moved[chat] not in seen:
            chat = self._moved[chat]
            seen.add(chat)
        if chat in self._gone:
            raise ChatGone(chat, "Jamie was removed from this chat")
        return chat

    def is_gone(self, chat: int) -> bool:
        return chat in self._gone

    async def moved(self, old: int, new: int) -> None:
        self._moved[old] = new
        await self._upsert(old, migrated_to=str(new))

    async def gone(self, chat: int) -> bool:
        """Remember that Jamie was removed; False when it was already known."""
        if chat in self._gone:
            return False
        self._gone.add(chat)
        await self._upsert(chat, gone_at=self._now())
        return True

    async def back(self, chat: int) -> None:
        """Jamie was added to the chat again."""
        if chat in self._gone:
            self._gone.discard(chat)
            await self._upsert(chat, gone_at=None)

    async def _upsert(self, chat: int, **values: Any) -> None:
        now = self._now()
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session)(TelegramChatRow)
                .values(chat_id=str(chat), updated_at=now, **values)
                .on_conflict_do_update(
                    index_elements=["chat_id"], set_={"updated_at": now, **values}
                )
            )


def _topic(row: TelegramTopicRow) -> Topic:
    place = Place(int(row.chat_id), row.thread_id) if row.chat_id else None
    return Topic(row.incident_id, row.state, place, row.card_message_id)
