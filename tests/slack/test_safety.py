"""Who may do what from Slack, and what user text can and cannot do when echoed back."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import IncidentRow, TimelineRow
from bot.transports.slack import blocks
from bot.transports.slack.text import WORD_JOINER
from tests.slack.double import SlackDouble
from tests.slack.harness import (
    OLGA,
    RUI,
    SlackHarness,
    button_value,
    card_of,
    eventually,
)


async def opened_card(slack: SlackHarness, text: str) -> tuple[str, dict[str, object]]:
    await slack.slash(text)
    channel = await eventually(lambda: slack.double.channel_named("inc-"))
    card = await eventually(lambda: channel.pins and card_of(channel))
    return channel.id, card


async def test_an_observer_cannot_escalate_from_the_card(
    slack: SlackHarness, double: SlackDouble
) -> None:
    channel, card = await opened_card(slack, "open P2 Monitor da UTI sem dados")

    await slack.click(blocks.ESCALATE, button_value(card, blocks.ESCALATE), user=OLGA,
                      channel=channel)  # fmt: skip

    refusal = await eventually(lambda: [r for r in double.responses if "não pode" in r["text"]])
    assert refusal[0]["response_type"] == "ephemeral" and "respondente" in refusal[0]["text"]
    assert (await slack.jamie.service.get(1)).severity.value == "P2"


async def test_a_responder_may_acknowledge_but_not_resolve(
    slack: SlackHarness, double: SlackDouble
) -> None:
    channel, card = await opened_card(slack, "open P2 Monitor da UTI sem dados")

    await slack.click(blocks.ACK, button_value(card, blocks.ACK), user=RUI, channel=channel)
    acknowledged = await eventually(
        lambda: _status_is(slack, "acknowledged"), message="the responder's ack did not land"
    )
    await slack.click(blocks.RESOLVE, button_value(card, blocks.RESOLVE), user=RUI,
                      channel=channel)  # fmt: skip

    await eventually(lambda: [r for r in double.responses if "comandante" in r["text"]])
    assert acknowledged and (await slack.jamie.service.get(1)).status.value == "acknowledged"
    assert double.views == []


async def test_mentions_and_entities_are_decoded_once_and_escaped_back(
    slack: SlackHarness, double: SlackDouble
) -> None:
    await slack.slash("open P3 Fila &lt;lab&gt; &amp;amp; <@U0RESP|rui> <!channel> @here")

    answer = await eventually(lambda: double.responses)
    async with slack.jamie.sessions() as session:
        title = await session.scalar(select(IncidentRow.title))
    assert title == "Fila <lab> &amp; @rui @channel @here"
    echoed = answer[0]["text"]
    assert "Fila &lt;lab&gt; &amp;amp; @rui" in echoed
    assert f"@{WORD_JOINER}channel @{WORD_JOINER}here" in echoed
    assert "<!channel>" not in echoed


async def test_assigning_by_mention_names_the_person(slack: SlackHarness) -> None:
    channel, _ = await opened_card(slack, "open P2 Telefonia IP instável")

    await slack.slash("assign <@U0RESP|rui>", channel=channel)

    await eventually(lambda: any("rui" in r["text"] for r in slack.double.responses[1:]))
    async with slack.jamie.sessions() as session:
        entry = await session.scalar(select(TimelineRow).where(TimelineRow.kind == "assigned"))
    assert entry is not None and entry.text == "rui"


async def _status_is(slack: SlackHarness, status: str) -> bool:
    return (await slack.jamie.service.get(1)).status.value == status
