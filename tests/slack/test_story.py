"""The console story (tests/e2e/test_console_story.py) again, in Slack: declare a P0 in the
modal, get a channel and a pinned card, ask the runbook, click through the card, post an
update from its modal, receive a scheduled status update, resolve with a root cause."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.transports.slack import blocks
from tests.slack.double import BOT_USER, SlackDouble
from tests.slack.harness import (
    ANA,
    DIGEST,
    GENERAL,
    IGOR,
    OLGA,
    SlackHarness,
    button_value,
    buttons,
    card_of,
    channel_texts,
    eventually,
    shown,
    slack_settings,
    start_harness,
)


@pytest.fixture
async def story(tmp_path: Path, double: SlackDouble) -> AsyncIterator[SlackHarness]:
    settings = slack_settings(tmp_path, double, status_interval=timedelta(seconds=2))
    harness = await start_harness(settings, double)
    yield harness
    await harness.http.aclose()
    await harness.jamie.stop()
    assert double.unexpected == []


async def test_p0_story_in_slack(story: SlackHarness) -> None:
    double = story.double

    # Ana declares in the modal that `/incident` alone opens.
    assert (await story.slash("", channel=GENERAL)).status_code == 200
    opened = await eventually(lambda: double.views)
    form = opened[0]["view"]
    assert form["callback_id"] == "jamie_declare"
    submitted = await story.submit(form, {
        "severity": {"selected_option": {"value": "P0"}},
        "title": {"value": "Falha total do Mac Studio @here"},
        "departments": {"selected_options": [{"value": "icu"}, {"value": "emergency"}]},
        "impact": {"selected_options": [{"value": "yes"}]},
    })  # fmt: skip
    assert (submitted.status_code, submitted.text) == (200, "")

    # A channel named after the incident, with the declarer and the P0 responders in it,
    # the card pinned, the digest told, and Ana told where to go.
    channel = await eventually(lambda: double.channel_named("inc-"))
    assert channel.name.endswith("-falha-total-do-mac-studio-here")
    card = await eventually(lambda: channel.pins and card_of(channel))
    assert {ANA, IGOR, BOT_USER} <= channel.members
    assert "INC-0001" in shown(card) and "APOCALIPSE" in shown(card)
    assert buttons(card) == [blocks.ACK, blocks.UPDATE, blocks.MITIGATE, blocks.RESOLVE]
    digest = await eventually(lambda: channel_texts(double.channels[DIGEST]))
    assert f"<#{channel.id}>" in digest[0] and "INC-0001" in digest[0]
    told = await eventually(lambda: double.ephemeral)
    assert told[0]["user"] == ANA and f"<#{channel.id}>" in told[0]["text"]
    everything = "\n".join(channel_texts(channel) + digest + [told[0]["text"]])
    assert "@here" not in everything and "@\u2060here" in everything

    # The runbook, asked from the incident channel.
    await story.slash("o que fazer nos primeiros 2 minutos de um P0?", command="/jamie",
                      channel=channel.id)  # fmt: skip
    answer = await eventually(lambda: [r for r in double.responses if "runbook" in r["text"]])
    assert "p0-response-protocol.md#first-2-minutes" in answer[0]["text"]
    assert answer[0]["response_type"] == "ephemeral"

    # Acknowledge from the card: the card changes in place and the channel hears of it.
    card_ts = channel.pins[0]
    await story.click(blocks.ACK, button_value(card, blocks.ACK), channel=channel.id)
    await eventually(lambda: "reconhecido" in shown(card_of(channel)))
    assert channel.pins == [card_ts]
    assert any(u["ts"] == card_ts for u in double.called("chat.update"))
    assert blocks.ACK not in buttons(card_of(channel))
    await eventually(lambda: any("INC-0001 · reconhecido" in t for t in channel_texts(channel)))

    # A clinician who is not a commander cannot resolve: told why, and no form opens.
    views_before = len(double.views)
    await story.click(blocks.RESOLVE, button_value(card_of(channel), blocks.RESOLVE),
                      user=OLGA, channel=channel.id)  # fmt: skip
    refusal = await eventually(lambda: [r for r in double.responses if "comandante" in r["text"]])
    assert refusal[0]["response_type"] == "ephemeral"
    assert len(double.views) == views_before

    # A second incident from the slash command, escalated from its card by Igor.
    await story.slash("abrir P1 Respostas da IA acima de 5 segundos")
    second = await eventually(lambda: [c for c in double.incident_channels() if c is not channel])
    second_channel = second[0]
    second_card = await eventually(lambda: second_channel.pins and card_of(second_channel))
    await story.click(blocks.ESCALATE, button_value(second_card, blocks.ESCALATE), user=IGOR,
                      channel=second_channel.id)  # fmt: skip
    await eventually(lambda: "P0 · APOCALIPSE" in shown(card_of(second_channel)))
    await eventually(lambda: any("escalado de P1 para P0" in t
                                 for t in channel_texts(second_channel)))  # fmt: skip

    # An update through the card's form.
    await story.click(blocks.UPDATE, button_value(card_of(channel), blocks.UPDATE),
                      channel=channel.id)  # fmt: skip
    update_form = await eventually(
        lambda: [v["view"] for v in double.views if v["view"]["callback_id"] == "jamie_update"]
    )
    await story.submit(
        update_form[0], {"text": {"value": "Fallback no GCP ativo; clínicos de volta"}}
    )
    await eventually(lambda: "Fallback no GCP ativo" in shown(card_of(channel)))

    # The scheduled status update reaches the channel, carrying that update.
    status = await eventually(
        lambda: [t for t in channel_texts(channel) if "Atualização de status" in t
                 and "Fallback no GCP ativo" in t],
        within=10,
    )  # fmt: skip
    assert "Resposta: cumprido" in status[0] and "Próxima atualização" in status[0]

    # Resolve through the card's form, which asks for the root cause.
    await story.click(blocks.RESOLVE, button_value(card_of(channel), blocks.RESOLVE),
                      channel=channel.id)  # fmt: skip
    resolve_form = await eventually(
        lambda: [v["view"] for v in double.views if v["view"]["callback_id"] == "jamie_resolve"]
    )
    await story.submit(
        resolve_form[0], {"text": {"value": "Fonte do Mac Studio queimou; trocada"}}
    )
    await eventually(lambda: "resolvido" in shown(card_of(channel)))
    final = card_of(channel)
    assert buttons(final) == [] and "Fonte do Mac Studio queimou" in shown(final)

    # The timeline, asked in the channel, has every step with who did it.
    await story.slash("historico INC-0001", channel=channel.id)
    timeline = await eventually(
        lambda: [r["text"] for r in double.responses if "Linha do tempo" in r["text"]]
    )
    for fragment in (
        "declarado P0: Falha total do Mac Studio",
        "reconhecido — Ana (slack)",
        "atualização: Fallback no GCP ativo",
        "resolvido; causa raiz: Fonte",
    ):
        assert fragment in timeline[0]  # fmt: skip
