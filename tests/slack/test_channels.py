"""A channel per incident, whoever opened it, and what happens when Slack says no."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.commands.handler import Context
from bot.domain.enums import Transport
from bot.storage.models import OutboxRow
from tests.slack.double import SlackDouble
from tests.slack.harness import (
    ANA,
    DIGEST,
    IGOR,
    OLGA,
    SlackHarness,
    card_of,
    channel_texts,
    eventually,
    shown,
)


async def open_from_slack(slack: SlackHarness, text: str, **kwargs: object) -> str:
    await slack.slash(text, **kwargs)  # type: ignore[arg-type]
    replies = await eventually(lambda: slack.double.responses)
    return str(replies[-1]["text"])


async def test_name_taken_gets_a_suffix(slack: SlackHarness, double: SlackDouble) -> None:
    double.fail("conversations.create", "name_taken")

    await open_from_slack(slack, "open P2 Lentidão no PACS")

    channel = await eventually(lambda: double.channel_named("inc-"))
    tried = [c["name"] for c in double.called("conversations.create")]
    assert channel.name == tried[1] == tried[0] + "-2"
    assert channel.name.endswith("-lentidao-no-pacs-2")


async def test_a_title_with_no_letters_falls_back_to_the_number(slack: SlackHarness) -> None:
    await open_from_slack(slack, "open P3 !!! 503")

    channel = await eventually(lambda: slack.double.channel_named("inc-"))
    assert channel.name.endswith("-0001")


async def test_when_the_channel_cannot_be_made_the_incident_exists_and_the_user_hears_why(
    slack: SlackHarness, double: SlackDouble
) -> None:
    double.fail("conversations.create", "restricted_action", times=10)

    answer = await open_from_slack(slack, "open P1 Fila do laboratório parada")

    assert "INC-0001 opened as P1" in answer
    assert "could not create its channel" in answer and "only admins" in answer
    assert (await slack.jamie.service.get(1)).title == "Fila do laboratório parada"
    digest = await eventually(lambda: channel_texts(double.channels[DIGEST]))
    assert "Sem canal próprio" in digest[0]
    await slack.settle()
    assert len(double.called("conversations.create")) == 1  # a refusal is not retried


async def test_an_incident_opened_on_the_console_gets_its_channel_through_the_outbox(
    slack: SlackHarness, double: SlackDouble
) -> None:
    console = Context(Transport.CONSOLE, "ana.sre", "ana.sre")

    reply = await slack.jamie.commands.handle_text("abrir P0 Falha total do Mac Studio", console)

    assert reply.ok
    channel = await eventually(lambda: double.channel_named("inc-"))
    await eventually(lambda: channel.pins)
    assert {ANA, IGOR} <= channel.members
    assert "INC-0001" in shown(card_of(channel))
    digest = await eventually(lambda: channel_texts(double.channels[DIGEST]))
    assert f"<#{channel.id}>" in digest[0]
    async with slack.jamie.sessions() as session:
        kinds = (await session.scalars(select(OutboxRow.kind))).all()
    assert "incident_opened" in kinds


async def test_rate_limited_channel_creation_waits_and_then_succeeds(
    slack: SlackHarness, double: SlackDouble
) -> None:
    double.fail("conversations.create", "ratelimited", status=429, retry_after=1)
    started = time.monotonic()

    await open_from_slack(slack, "open P2 Impressoras da farmácia")

    channel = await eventually(lambda: double.channel_named("inc-"))
    assert time.monotonic() - started >= 1.0
    assert len(double.incident_channels()) == 1 and channel.pins


async def test_refused_blocks_become_a_plain_text_post(
    slack: SlackHarness, double: SlackDouble
) -> None:
    double.fail("chat.postMessage", "invalid_blocks", when=lambda p: "blocks" in p, times=5)

    await open_from_slack(slack, "open P2 Painel de leitos desatualizado")

    channel = await eventually(lambda: double.channel_named("inc-"))
    plain = await eventually(lambda: [m for m in channel.messages.values() if not m.get("blocks")])
    assert "Painel de leitos desatualizado" in plain[0]["text"]


async def test_one_refused_invitation_does_not_stop_the_others(
    slack: SlackHarness, double: SlackDouble
) -> None:
    double.fail("conversations.invite", "user_not_found",
                when=lambda p: IGOR in str(p.get("users")), times=2)  # fmt: skip

    await open_from_slack(slack, "open P0 Rede isolada em todos os departamentos")

    channel = await eventually(lambda: double.channel_named("inc-"))
    await eventually(lambda: channel.pins)
    assert ANA in channel.members and IGOR not in channel.members
    assert any("user_not_found" in t for t in channel_texts(channel))


async def test_a_post_to_a_vanished_channel_is_dropped_not_retried_forever(
    slack: SlackHarness, double: SlackDouble
) -> None:
    await open_from_slack(slack, "open P2 Relógio do servidor adiantado")
    channel = await eventually(lambda: double.channel_named("inc-"))
    await eventually(lambda: channel.pins)
    del double.channels[channel.id]
    console = Context(Transport.CONSOLE, "ana.sre", "ana.sre")

    await slack.jamie.commands.handle_text("atualizar INC-0001 NTP corrigido", console)

    async def nothing_pending() -> bool:
        async with slack.jamie.sessions() as session:
            pending = await session.scalars(
                select(OutboxRow.id).where(OutboxRow.delivered_at.is_(None))
            )
            return not pending.all()

    assert await eventually(nothing_pending)


async def test_escalating_brings_in_the_new_severitys_responders(
    slack: SlackHarness, double: SlackDouble
) -> None:
    await slack.slash("open P3 Etiquetas da farmácia desalinhadas", user=OLGA)
    channel = await eventually(lambda: double.channel_named("inc-"))
    await eventually(lambda: channel.pins)
    assert ANA not in channel.members and OLGA in channel.members

    await slack.slash("escalate P0 farmácia sem etiquetas para medicação", user=IGOR,
                      channel=channel.id)  # fmt: skip

    await eventually(lambda: {ANA, IGOR} <= channel.members)
