"""Slack retries and double clicks: one incident, one post, one timeline entry."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.storage.models import IncidentRow, TimelineRow
from bot.transports.slack import blocks
from tests.slack.double import SlackDouble
from tests.slack.harness import (
    GENERAL,
    SlackHarness,
    button_value,
    card_of,
    channel_texts,
    eventually,
)


async def count(slack: SlackHarness, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    async with slack.jamie.sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_a_retried_slash_command_opens_one_incident(slack: SlackHarness) -> None:
    form = slack.slash_form("open P1 Sem acesso ao prontuário")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

    first, again = await asyncio.gather(
        slack.send_form(form), slack.send_form(form, headers=retry)
    )

    assert first.status_code == again.status_code == 200
    await eventually(lambda: slack.double.responses)
    await slack.settle()
    assert await count(slack, IncidentRow) == 1
    assert len(slack.double.responses) == 1


async def test_a_retried_event_is_answered_once(slack: SlackHarness, double: SlackDouble) -> None:
    body = slack.mention_body("<@UJAMIE> listar", channel=GENERAL)

    await slack.mention(body)
    await slack.mention(body, retry=1)
    await slack.mention(body, retry=2)

    replies = await eventually(lambda: channel_texts(double.channels[GENERAL]))
    await asyncio.sleep(0.3)
    assert len(channel_texts(double.channels[GENERAL])) == 1
    assert "Nenhum incidente ativo" in replies[0]


async def test_a_double_click_acknowledges_once(slack: SlackHarness, double: SlackDouble) -> None:
    await slack.slash("open P1 Latência no PACS")
    channel = await eventually(lambda: double.channel_named("inc-"))
    card = await eventually(lambda: channel.pins and card_of(channel))
    value = button_value(card, blocks.ACK)

    await asyncio.gather(*(slack.click(blocks.ACK, value, channel=channel.id) for _ in range(3)))

    await eventually(lambda: any("reconhecido" in t for t in channel_texts(channel)))
    await slack.settle()
    assert await count(slack, TimelineRow, kind="acknowledged") == 1
    assert sum("INC-0001 · reconhecido" in t for t in channel_texts(channel)) == 1
    assert not [r for r in double.responses if r["response_type"] == "ephemeral"]


async def test_a_double_submitted_modal_opens_one_incident(slack: SlackHarness) -> None:
    await slack.slash("")
    form = (await eventually(lambda: slack.double.views))[0]["view"]
    values = {"severity": {"selected_option": {"value": "P2"}}, "title": {"value": "Wi-Fi"}}
    payload = slack.submission(form, values)

    await asyncio.gather(slack.send_payload(payload), slack.send_payload(payload))

    await eventually(lambda: slack.double.channel_named("inc-"))
    await slack.settle()
    assert await count(slack, IncidentRow) == 1
    assert len(slack.double.called("conversations.create")) == 1


async def test_the_command_and_the_outbox_make_one_channel_between_them(
    slack: SlackHarness, double: SlackDouble
) -> None:
    for n in range(5):
        await slack.slash(f"open P2 Incidente paralelo {n}")

    await eventually(lambda: len(double.incident_channels()) == 5)
    await slack.settle()
    assert len(double.called("conversations.create")) == 5
    assert all(len(c.pins) == 1 for c in double.incident_channels())
    assert len(channel_texts(double.channels["C0DIGEST"])) == 5
