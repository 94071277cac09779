"""Each incident's card in its topic: the summary with buttons, edited in place.

`touch(n)` after any change; the card is re-rendered from the database shortly after and
edited (editMessageText). Touches within the delay coalesce into one edit, and an edit
always shows the state at the time it is made. A card whose message is gone is posted
again. Like Slack's card, it is a view, not a record: nothing about it must be durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.domain.incident import Incident
from bot.render.text import Renderer
from bot.service.incidents import IncidentService
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.errors import MessageRefused, TelegramFailure
from bot.transports.telegram.keyboards import card_keyboard
from bot.transports.telegram.places import Place
from bot.transports.telegram.store import READY, TopicStore
from bot.transports.telegram.text import Formatted, formatted

log = logging.getLogger(__name__)


class CardKeeper:
    def __init__(
        self, client: TelegramClient, topics: TopicStore, service: IncidentService,
        renderer: Renderer, *, language: str, clock: Callable[[], datetime], delay: float = 0.5,
    ) -> None:  # fmt: skip
        self._client = client
        self._topics = topics
        self._service = service
        self._renderer = renderer
        self._language = language
        self._now = clock
        self.delay = delay
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def card(self, incident: Incident) -> tuple[Formatted, InlineKeyboardMarkup | None]:
        summary = self._renderer.summary(incident, self._now(), self._language)
        return formatted(summary, bold_first_line=True), card_keyboard(incident, self._language)

    async def post(self, incident: Incident, place: Place) -> None:
        text, markup = self.card(incident)
        ids = await self._client.send_text(place, text, markup=markup)
        await self._topics.card(incident.number, ids[-1])

    def touch(self, number: int) -> None:
        self._dirty.add(number)
        if number not in self._tasks:
            self._tasks[number] = asyncio.create_task(self._keep(number), name=f"tg-card-{number}")

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        self._tasks.clear()

    async def _keep(self, number: int) -> None:
        try:
            while number in self._dirty:
                await asyncio.sleep(self.delay)
                self._dirty.discard(number)
                try:
                    await self.refresh(number)
                except TelegramFailure as exc:
                    log.warning("card of incident %d not refreshed: %s", number, exc.detail)
        finally:
            self._tasks.pop(number, None)

    async def refresh(self, number: int) -> None:
        topic = await self._topics.get(number)
        if topic is None or topic.state != READY or topic.place is None:
            return
        incident = await self._service.get(number)
        if topic.card_message_id is None:
            await self.post(incident, topic.place)
            return
        text, markup = self.card(incident)
        try:
            await self._client.edit_text(topic.place, topic.card_message_id, text, markup)
        except MessageRefused as exc:
            if exc.kind != "not_found":
                raise
            await self.post(incident, topic.place)
