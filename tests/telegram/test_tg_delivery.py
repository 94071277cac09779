"""Delivering to Telegram through the client: long text, refused HTML, flood control, a
group upgraded to a supergroup, and a chat that removed Jamie."""

from __future__ import annotations

import asyncio
import time

from bot.domain.enums import Severity, Transport
from bot.transports.telegram.places import Place
from tests.telegram.harness import ANA, BASIC, NO_TOPICS, OPS, TelegramHarness, eventually

PARAGRAPH = "Linha do tempo: " + "x" * 2500


async def _incident_in(telegram: TelegramHarness, chat: int) -> int:
    """An incident opened from the console and followed in `chat`, acknowledged by Ana."""
    jamie = telegram.jamie
    console = jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")
    ana = jamie.commands.directory.actor(Transport.TELEGRAM, str(ANA), "Ana")
    incident = await jamie.service.open(console, severity=Severity.P1, title="PACS down")
    await jamie.service.acknowledge(ana, incident.number, None)
    await jamie.service.bind(incident.number, Place(chat).conversation)
    await telegram.deliver()
    return incident.number


async def test_long_text_is_split_between_paragraphs(telegram: TelegramHarness) -> None:
    text = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(3))

    await telegram.telegram.client.send_text(Place(NO_TOPICS), text)

    sent = telegram.double.texts(NO_TOPICS)
    assert [s[:2] for s in sent] == ["0.", "1.", "2."]
    assert all(len(s) <= 4096 for s in sent) and "\n\n".join(sent) == text


async def test_very_long_text_is_sent_as_a_document(telegram: TelegramHarness) -> None:
    text = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(8))

    await telegram.telegram.client.send_text(Place(NO_TOPICS), text, caption="the whole text")

    [document] = telegram.double.sent_to(NO_TOPICS)
    assert document.document == text.encode() and document.text == "the whole text"


async def test_a_message_telegram_finds_too_long_goes_as_a_document(
    telegram: TelegramHarness,
) -> None:
    telegram.double.fail("sendMessage", 400, "Bad Request: message is too long")

    await telegram.telegram.client.send_text(Place(NO_TOPICS), "emoji-heavy 🚨" * 300)

    [document] = telegram.double.sent_to(NO_TOPICS)
    assert document.document is not None


async def test_refused_html_is_sent_again_as_plain_text(telegram: TelegramHarness) -> None:
    telegram.double.fail(
        "sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag",
        when=lambda params: params.get("parse_mode") == "HTML",
    )  # fmt: skip

    await telegram.telegram.client.send_text(Place(NO_TOPICS), "run `ack INC-0001` <now>")

    [sent] = telegram.double.sent_to(NO_TOPICS)
    assert (sent.parse_mode, sent.text) == (None, "run `ack INC-0001` <now>")


async def test_jamie_text_is_escaped_for_html(telegram: TelegramHarness) -> None:
    await telegram.telegram.client.send_text(Place(NO_TOPICS), "a<b & c> `ack INC-0001`")

    [sent] = telegram.double.sent_to(NO_TOPICS)
    assert sent.parse_mode == "HTML"
    assert sent.text == "a&lt;b &amp; c&gt; <code>ack INC-0001</code>"


async def test_flood_control_holds_that_chat_only_and_keeps_its_order(
    telegram: TelegramHarness,
) -> None:
    double, client = telegram.double, telegram.telegram.client
    double.fail(
        "sendMessage", 429, "Too Many Requests: retry after 1", parameters={"retry_after": 1},
        when=lambda params: params["chat_id"] == str(BASIC),
    )  # fmt: skip
    started = time.monotonic()

    await asyncio.gather(
        client.send_text(Place(BASIC), "first"),
        client.send_text(Place(BASIC), "second"),
        client.send_text(Place(NO_TOPICS), "elsewhere"),
    )

    assert double.texts(BASIC) == ["first", "second"]
    assert time.monotonic() - started >= 1.0
    sent = [(m.chat, m.text) for m in double.messages.values()]
    assert sent.index((NO_TOPICS, "elsewhere")) < sent.index((BASIC, "first"))


async def test_a_group_upgraded_to_a_supergroup_is_followed_to_its_new_id(
    telegram: TelegramHarness,
) -> None:
    number = await _incident_in(telegram, BASIC)
    supergroup = -1009999
    telegram.double.upgrade(BASIC, supergroup)
    jamie = telegram.jamie
    console = jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")

    def posts_to_old() -> int:
        return sum(p["chat_id"] == str(BASIC) for p in telegram.double.called("sendMessage"))

    await jamie.service.add_update(console, number, None, "first after the upgrade")
    await telegram.deliver()
    # Refused with the new id for whatever was in flight at the upgrade (the SLA clockwork
    # may have a post of its own going), then never asked again.
    after_upgrade = posts_to_old()
    assert after_upgrade >= 1
    await jamie.service.add_update(console, number, None, "second after the upgrade")
    await telegram.deliver()

    texts = telegram.double.texts(supergroup)
    assert any("first after" in t for t in texts) and any("second after" in t for t in texts)
    followed = await jamie.service.active_in(Place(supergroup).conversation)
    assert [i.number for i in followed] == [number]
    assert posts_to_old() == after_upgrade


async def test_a_chat_that_removed_jamie_is_left_and_the_commander_told(
    telegram: TelegramHarness,
) -> None:
    number = await _incident_in(telegram, BASIC)
    await telegram.deliver()

    def posts_to_old() -> int:
        return sum(p["chat_id"] == str(BASIC) for p in telegram.double.called("sendMessage"))

    before = posts_to_old()  # the opening and anything the SLA clockwork posted already
    telegram.double.chats[BASIC].kicked = True
    jamie = telegram.jamie
    console = jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")

    await jamie.service.add_update(console, number, None, "nobody there reads this")
    await telegram.deliver()
    await jamie.service.add_update(console, number, None, "nor this")
    await telegram.deliver()

    to_ana = telegram.double.texts(ANA)
    assert len(to_ana) == 1 and "INC-0001" in to_ana[0] and str(BASIC) in to_ana[0]
    assert posts_to_old() - before == 1  # one refused attempt, then the chat is left alone
    assert await jamie.service.active_in(Place(BASIC).conversation) == []


async def test_being_removed_from_a_chat_is_noticed_from_the_update_too(
    telegram: TelegramHarness,
) -> None:
    number = await _incident_in(telegram, BASIC)

    await telegram.double.remove_bot(BASIC, by=ANA)

    async def told() -> bool:
        await telegram.deliver()
        return any(f"INC-{number:04d}" in t for t in telegram.double.texts(ANA))

    await eventually(told, message="the commander was not told")
    assert telegram.telegram.client.chats.is_gone(BASIC)


async def test_topics_off_the_incident_lives_in_the_ops_group_itself(
    telegram: TelegramHarness,
) -> None:
    telegram.telegram.topics.ops_chat = NO_TOPICS
    console = telegram.jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")
    incident = await telegram.jamie.service.open(console, severity=Severity.P2, title="Slow")

    place = await telegram.telegram.topics.ensure(incident)

    assert place == Place(NO_TOPICS)
    assert "Slow" in telegram.card_in(NO_TOPICS).plain
    followed = await telegram.jamie.service.active_in(Place(NO_TOPICS).conversation)
    assert [i.number for i in followed] == [incident.number]
    assert OPS not in {int(p["chat_id"]) for p in telegram.double.called("createForumTopic")}
