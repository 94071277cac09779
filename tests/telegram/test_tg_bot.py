"""The bot against the local Bot API: start-up, commands, topics and cards."""

from __future__ import annotations

from bot.domain.enums import Severity, Status, Transport
from tests.telegram.double import BOT_USERNAME
from tests.telegram.harness import ANA, OLGA, OPS, RUI, TelegramHarness, eventually


async def test_start_up_registers_the_command_menus_in_portuguese_and_english(
    telegram: TelegramHarness,
) -> None:
    menus = telegram.double.commands

    assert sorted(menus, key=str) == sorted(["pt", "en", None], key=str)
    assert [c["command"] for c in menus["pt"]][:3] == ["abrir", "reconhecer", "escalar"]
    assert [c["command"] for c in menus["en"]][:3] == ["open", "ack", "escalate"]
    assert menus[None] == menus["pt"]  # the plan's language for every other app language
    assert telegram.double.called("getMe")
    await eventually(lambda: telegram.double.called("getUpdates"), message="no long polling")


async def test_an_incident_opened_in_the_ops_group_gets_its_topic_and_card(
    telegram: TelegramHarness,
) -> None:
    double = telegram.double
    said = await double.say(OPS, ANA, f"/open@{BOT_USERNAME} P1 PACS viewer down depto=uti")

    reply = await telegram.reply_to(said)

    assert "INC-0001" in reply.plain and "t.me/c/1000000001/" in reply.plain
    thread = telegram.topic_of("INC-0001")
    card = telegram.card_in(OPS, thread)
    assert [data.split(":")[1] for _, data in card.buttons] == ["ack", "esc", "mit", "res"]
    status = await double.say(OPS, RUI, "/status", thread=thread)
    assert "INC-0001" in (await telegram.reply_to(status)).plain
    incident = await telegram.jamie.service.get(1)
    assert incident.status is Status.DECLARED
    await eventually(lambda: len(double.called("createForumTopic")) == 1)


async def test_an_incident_opened_elsewhere_gets_one_topic_through_the_outbox(
    telegram: TelegramHarness,
) -> None:
    actor = telegram.jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")
    await telegram.jamie.service.open(actor, severity=Severity.P0, title="Mac Studio failure")

    await telegram.deliver()
    await telegram.deliver()

    assert len(telegram.double.called("createForumTopic")) == 1
    thread = telegram.topic_of("INC-0001")
    assert "Mac Studio failure" in telegram.card_in(OPS, thread).plain
    general = telegram.double.texts(OPS, None)
    assert any("INC-0001" in text and "t.me/c/" in text for text in general)


async def test_changes_made_elsewhere_reach_the_topic_through_the_outbox(
    telegram: TelegramHarness,
) -> None:
    service = telegram.jamie.service
    actor = telegram.jamie.commands.directory.actor(Transport.CONSOLE, "local", "Console")
    incident = await service.open(actor, severity=Severity.P1, title="PACS slow")
    await telegram.deliver()
    thread = telegram.topic_of("INC-0001")

    await service.add_update(actor, incident.number, None, "fallback to GCP is active")
    await telegram.deliver()

    assert any("fallback to GCP is active" in t for t in telegram.double.texts(OPS, thread))


async def test_card_buttons_are_answered_at_once_and_the_card_is_edited_in_place(
    telegram: TelegramHarness,
) -> None:
    double = telegram.double
    await telegram.reply_to(await double.say(OPS, ANA, "/open P1 PACS viewer down"))
    thread = telegram.topic_of("INC-0001")
    card = telegram.card_in(OPS, thread)
    ack = next(data for _, data in card.buttons if data.startswith("i:ack:"))

    await double.press(card, RUI, ack)

    await eventually(lambda: card.edits >= 1 and "ack" not in str(card.buttons))
    incident = await telegram.jamie.service.get(1)
    assert incident.status is Status.ACKNOWLEDGED
    order = [c.method for c in double.calls]
    assert order.index("answerCallbackQuery") < order.index("editMessageText")
    assert any("INC-0001" in text and "Rui" in text for text in double.texts(OPS, thread)[1:])


async def test_a_second_press_on_the_same_card_changes_nothing(telegram: TelegramHarness) -> None:
    double = telegram.double
    await telegram.reply_to(await double.say(OPS, ANA, "/open P2 slow reports"))
    card = telegram.card_in(OPS, telegram.topic_of("INC-0001"))
    escalate = next(data for _, data in card.buttons if data.startswith("i:esc:"))

    await double.press(card, ANA, escalate)
    await double.press(card, ANA, escalate)

    await eventually(lambda: len(double.called("answerCallbackQuery")) == 2)
    await eventually(lambda: any("changed" in t for t in double.texts(OPS)))
    incident = await telegram.jamie.service.get(1)
    assert incident.severity is Severity.P1  # P2 raised once, not twice


async def test_resolve_asks_for_the_root_cause_and_resolves_with_the_answer(
    telegram: TelegramHarness,
) -> None:
    double = telegram.double
    await telegram.reply_to(await double.say(OPS, ANA, "/open P1 PACS viewer down"))
    thread = telegram.topic_of("INC-0001")
    card = telegram.card_in(OPS, thread)
    resolve = next(data for _, data in card.buttons if data.startswith("i:res:"))

    await double.press(card, ANA, resolve)
    prompt = await eventually(
        lambda: next((m for m in double.sent_to(OPS, thread) if m.force_reply), None)
    )
    answer = await double.say(OPS, ANA, "power supply replaced", thread=thread,
                              reply_to=prompt.message_id)  # fmt: skip

    reply = await telegram.reply_to(answer)
    incident = await telegram.jamie.service.get(1)
    assert incident.status is Status.RESOLVED
    assert incident.root_cause == "power supply replaced"
    assert "INC-0001" in reply.plain
    await eventually(lambda: card.buttons == [], message="the resolved card keeps buttons")


async def test_resolve_is_refused_to_an_observer_without_asking_anything(
    telegram: TelegramHarness,
) -> None:
    double = telegram.double
    await telegram.reply_to(await double.say(OPS, ANA, "/open P1 PACS viewer down"))
    thread = telegram.topic_of("INC-0001")
    card = telegram.card_in(OPS, thread)
    resolve = next(data for _, data in card.buttons if data.startswith("i:res:"))

    await double.press(card, OLGA, resolve)

    refusal = await eventually(
        lambda: next((t for t in double.texts(OPS, thread) if "Olga" in t), None)
    )
    assert not any(m.force_reply for m in double.sent_to(OPS))
    assert "Olga" in refusal
