"""Delivers the outbox to Slack: status updates and incident events into incident channels,
and `incident_opened` messages, addressed to the digest channel, into a channel for the
new incident plus an announcement in the digest."""

from __future__ import annotations

import logging

from bot.domain.enums import EntryKind, Transport
from bot.i18n import Catalog
from bot.notify.outbox import OutboundMessage
from bot.render.text import Renderer
from bot.service.incidents import OPENED_KIND, IncidentService
from bot.transports.slack.blocks import message_blocks
from bot.transports.slack.cards import CardKeeper
from bot.transports.slack.channels import ChannelProvisioner, ChannelUnavailable
from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import ChannelNotFound, InvalidBlocks
from bot.transports.slack.text import mrkdwn

log = logging.getLogger(__name__)

ESCALATED_KIND = f"event.{EntryKind.ESCALATED.value}"


async def post_text(
    client: SlackClient, channel: str, text: str, *, thread_ts: str | None = None
) -> str:
    """Jamie's text as sections; if Slack refuses the blocks, the same text, plain."""
    fallback, blocks = message_blocks(text)
    try:
        return await client.post(channel, fallback, blocks, thread_ts=thread_ts)
    except InvalidBlocks:
        log.warning("channel %s refused blocks; posting plain text", channel)
        return await client.post(channel, fallback, thread_ts=thread_ts)


class SlackSender:
    transport = Transport.SLACK

    def __init__(
        self,
        client: SlackClient,
        service: IncidentService,
        renderer: Renderer,
        provisioner: ChannelProvisioner,
        cards: CardKeeper,
        *,
        language: str,
    ) -> None:
        self._client = client
        self._service = service
        self._renderer = renderer
        self._provisioner = provisioner
        self._cards = cards
        self._language = language

    async def send(self, address: str, message: OutboundMessage) -> None:
        if message.kind == OPENED_KIND and message.incident_number is not None:
            await self._opened(address, message.incident_number)
            return
        try:
            await post_text(self._client, address, message.text)
        except ChannelNotFound as exc:
            # Archived or deleted: retrying cannot help, and nobody is there to read it.
            log.warning("outbox %d dropped: channel %s %s", message.outbox_id, address, exc.code)
            return
        if message.incident_number is not None:
            self._cards.touch(message.incident_number)
            if message.kind == ESCALATED_KIND:
                incident = await self._service.get(message.incident_number)
                await self._provisioner.invite_responders(incident)

    async def _opened(self, digest: str, number: int) -> None:
        """Give the incident its channel (unless it has one) and announce it in the digest.
        A transient failure raises, so the outbox tries again later."""
        incident = await self._service.get(number)
        t = Catalog(self._language)
        headline = mrkdwn(self._renderer.headline(incident, self._language))
        name = mrkdwn(incident.declared_by)
        try:
            channel = await self._provisioner.ensure(incident)
            text = t("slack.announce", headline=headline, name=name, channel=f"<#{channel}>")
        except ChannelUnavailable as exc:
            if exc.transient:
                raise
            reason = mrkdwn(exc.reason(self._language))
            text = t("slack.announce_no_channel", headline=headline, name=name, reason=reason)
        await self._client.post(digest, text)
