"""Delivers the outbox to Telegram: status updates and incident events into incident topics
(or chats), and `incident_opened` messages, addressed to the ops group, into a topic for
the new incident plus an announcement in the group's General topic."""

from __future__ import annotations

import logging

from bot.domain.enums import Transport
from bot.i18n import Catalog
from bot.notify.outbox import OutboundMessage
from bot.render.text import Renderer
from bot.service.incidents import OPENED_KIND, IncidentService
from bot.transports.telegram.cards import CardKeeper
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.errors import ChatGone
from bot.transports.telegram.places import Place
from bot.transports.telegram.removals import Removals
from bot.transports.telegram.topics import TopicKeeper, TopicUnavailable

log = logging.getLogger(__name__)


class TelegramSender:
    transport = Transport.TELEGRAM

    def __init__(
        self, client: TelegramClient, service: IncidentService, renderer: Renderer,
        topics: TopicKeeper, cards: CardKeeper, removals: Removals, *, language: str,
    ) -> None:  # fmt: skip
        self._client = client
        self._service = service
        self._renderer = renderer
        self._topics = topics
        self._cards = cards
        self._removals = removals
        self._language = language

    async def send(self, address: str, message: OutboundMessage) -> None:
        place = Place.parse(address)
        try:
            if message.kind == OPENED_KIND and message.incident_number is not None:
                await self._opened(place, message.incident_number)
                return
            caption = Catalog(self._language)("telegram.long_text")
            await self._client.send_text(place, message.text, caption=caption)
        except ChatGone as exc:
            # Retrying cannot help and nobody there can read it: drop it, tell the commander.
            log.warning("outbox %d dropped: jamie was removed from chat %s", message.outbox_id,
                        exc.chat)  # fmt: skip
            await self._removals.removed_from(exc.chat)
            return
        if message.incident_number is not None:
            self._cards.touch(message.incident_number)

    async def _opened(self, general: Place, number: int) -> None:
        """Give the incident its topic (unless it has one) and announce it in the group.
        A transient failure raises, so the outbox tries again later."""
        incident = await self._service.get(number)
        t = Catalog(self._language)
        headline = self._renderer.headline(incident, self._language)
        try:
            place = await self._topics.ensure(incident)
        except TopicUnavailable as exc:
            if exc.transient:
                raise
            text = t("telegram.announce_no_topic", headline=headline, name=incident.declared_by)
            await self._client.send_text(general, text)
            return
        if place.thread is None:
            return  # topics are off: the card, posted in the group itself, is the announcement
        text = t("telegram.announce", headline=headline, name=incident.declared_by,
                 link=place.link or place.address)  # fmt: skip
        await self._client.send_text(general, text)
