"""Keeps each incident's pinned card current: `touch(n)` after any change, and the card is
re-rendered from the database and edited in place (chat.update) shortly after.

Touches coalesce: ten changes within the delay are one edit, and the edit always shows the
state at the time it is made, so a card can lag a change but never lose one. The card is a
view of the database, not a record: a refresh that fails is tried again at the next touch
(every status update touches too), so nothing about it needs to be durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.incident import Incident
from bot.service.incidents import IncidentService
from bot.transports.slack.blocks import CardRenderer, message_blocks
from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import InvalidBlocks, SlackError
from bot.transports.slack.store import READY, ChannelStore

log = logging.getLogger(__name__)

_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}
_MAX_TRANSIENT_RETRIES = 5


class CardKeeper:
    def __init__(
        self,
        client: SlackClient,
        store: ChannelStore,
        service: IncidentService,
        cards: CardRenderer,
        *,
        clock: Callable[[], datetime],
        delay: float = 0.5,
    ) -> None:
        self._client = client
        self._store = store
        self._service = service
        self._cards = cards
        self._now = clock
        self.delay = delay
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def touch(self, number: int) -> None:
        """The incident changed: refresh its card soon."""
        self._dirty.add(number)
        if number not in self._tasks:
            self._tasks[number] = asyncio.create_task(self._keep(number), name=f"card-{number}")

    async def drain(self) -> None:
        """Wait until every pending refresh is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        self._tasks.clear()

    async def _keep(self, number: int) -> None:
        failures = 0
        try:
            while number in self._dirty:
                await asyncio.sleep(self.delay * (2**failures))
                self._dirty.discard(number)
                try:
                    await self.refresh(number)
                    failures = 0
                except SlackError as exc:
                    log.warning("card of incident %d not refreshed: %s", number, exc.code)
                    if exc.transient and failures < _MAX_TRANSIENT_RETRIES:
                        failures += 1
                        self._dirty.add(number)
                except Exception:
                    log.exception("card of incident %d failed", number)
        finally:
            self._tasks.pop(number, None)

    async def refresh(self, number: int) -> None:
        channel = await self._store.get(number)
        if channel is None or channel.channel_id is None or channel.state != READY:
            return  # while the channel is being made, its maker posts the first card
        incident = await self._service.get(number)
        if channel.card_ts is None:
            await self.post(incident, channel.channel_id)
            return
        text, blocks = self._cards.card(incident, self._now())
        try:
            await self._client.update(channel.channel_id, channel.card_ts, text, blocks)
        except InvalidBlocks:
            await self._plain(incident, channel.channel_id)
        except SlackError as exc:
            if exc.code not in _GONE:
                raise
            await self.post(incident, channel.channel_id)

    async def post(self, incident: Incident, channel_id: str) -> None:
        """Post a new card, remember it and pin it (a failed pin leaves an unpinned card)."""
        text, blocks = self._cards.card(incident, self._now())
        try:
            ts = await self._client.post(channel_id, text, blocks)
        except InvalidBlocks:
            await self._plain(incident, channel_id)
            return
        await self._store.record(incident.number, card_ts=ts)
        try:
            await self._client.pin(channel_id, ts)
        except SlackError as exc:
            log.warning("card of %s not pinned: %s", incident.ref, exc.code)

    async def _plain(self, incident: Incident, channel_id: str) -> None:
        """Slack refused the blocks anyway: the card's content goes out as plain text."""
        summary = self._cards.renderer.summary(incident, self._now(), self._cards.language)
        text, _ = message_blocks(summary)
        await self._client.post(channel_id, text)
