"""Where each incident lives on Telegram: its own forum topic in the ops supergroup, made by
Jamie, or the ops group itself when the group has topics off.

`ensure(incident)` is idempotent and safe across workers: the incident's row is claimed
before `createForumTopic`, so two deliveries never make two topics. On success the place
is bound to the incident (`IncidentService.bind`), so its status updates and events flow
there through the outbox, and the card is posted in it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.incident import Incident
from bot.i18n import Catalog
from bot.service.incidents import IncidentService
from bot.transports.telegram.cards import CardKeeper
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.errors import NotAForum, TelegramFailure
from bot.transports.telegram.places import Place
from bot.transports.telegram.store import READY, TopicStore

log = logging.getLogger(__name__)

HOLD = timedelta(seconds=60)


class TopicUnavailable(Exception):
    """No place could be made now; `transient` says whether a later try can help."""

    def __init__(self, key: str, *, transient: bool, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key
        self.transient = transient
        self.detail = detail


class TopicKeeper:
    def __init__(
        self, client: TelegramClient, store: TopicStore, service: IncidentService,
        cards: CardKeeper, *, ops_chat: int | None, language: str,
    ) -> None:  # fmt: skip
        self._client = client
        self._store = store
        self._service = service
        self._cards = cards
        self.ops_chat = ops_chat
        self._language = language

    async def place_of(self, number: int) -> Place | None:
        topic = await self._store.get(number)
        return topic.place if topic and topic.state == READY else None

    async def ensure(self, incident: Incident) -> Place:
        existing = await self._store.get(incident.number)
        if existing and existing.state == READY and existing.place:
            return existing.place
        if self.ops_chat is None:
            raise TopicUnavailable("no_ops_group", transient=False)
        if not await self._store.claim(incident.number, HOLD):
            raise TopicUnavailable("pending", transient=True)
        try:
            place = await self._create(incident, self.ops_chat)
        except TelegramFailure as exc:
            await self._store.release(incident.number)
            raise TopicUnavailable("refused", transient=exc.transient, detail=exc.detail) from exc
        await self._store.ready(incident.number, place)
        await self._service.bind(incident.number, place.conversation)
        log.info("incident %s lives in telegram %s", incident.ref, place.address)
        try:
            await self._cards.post(incident, place)
        except TelegramFailure as exc:
            log.warning("card of %s not posted: %s (the next change retries)", incident.ref,
                        exc.detail)  # fmt: skip
        return place

    async def _create(self, incident: Incident, chat: int) -> Place:
        name = Catalog(self._language)(
            "telegram.topic_name", ref=incident.ref, severity=incident.severity.value,
            title=incident.title,
        )  # fmt: skip
        try:
            moved_to, thread = await self._client.create_topic(chat, name)
        except NotAForum:
            log.info("ops group %s has topics off; incident %s lives in the group", chat,
                     incident.ref)  # fmt: skip
            return Place(self._client.chats.current(chat))
        return Place(moved_to, thread)
