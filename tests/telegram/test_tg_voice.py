"""Voice notes in an incident's topic become draft updates: real speech from espeak-ng,
encoded to OGG/Opus like a phone does, sent through the Bot API double, transcribed by
faster-whisper with the packaged weights. Only a confirmed draft reaches the timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.enums import EntryKind, Transport
from bot.settings import VoiceSettings
from jamie.speech import SpeechConfig, Transcriber
from tests.speech.clips import BY_NAME
from tests.telegram.double import Sent, TelegramDouble
from tests.telegram.harness import (
    ANA,
    BIA,
    OLGA,
    OPS,
    RUI,
    TelegramHarness,
    eventually,
    start_harness,
    telegram_settings,
)


async def _topic(telegram: TelegramHarness, user: int = ANA) -> int:
    await telegram.reply_to(await telegram.double.say(OPS, user, "/open P1 PACS viewer down"))
    return telegram.topic_of("INC-0001")


async def _outcome(telegram: TelegramHarness, thread: int) -> Sent:
    """The voice note's answer once transcription is over (the edited progress message)."""

    def finished() -> Sent | None:
        for sent in telegram.double.sent_to(OPS, thread):
            if sent.plain.startswith("🎙️") and ("…" in sent.plain):
                continue  # still transcribing
            if sent.plain.startswith(("📝", "🎙️")):
                return sent
        return None

    found: Sent = await eventually(finished, within=60, message="the note was not answered")
    return found


def _button(sent: Sent, action: str) -> str:
    return next(data for _, data in sent.buttons if data.startswith(f"v:{action}:"))


async def _timeline_updates(telegram: TelegramHarness) -> list[str]:
    incident = await telegram.jamie.service.get(1, with_timeline=True)
    return [
        e.text or "" for e in incident.timeline
        if e.kind is EntryKind.UPDATE and e.transport is Transport.TELEGRAM
    ]  # fmt: skip


async def test_an_english_note_becomes_a_draft_and_reaches_the_timeline_when_confirmed(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("note-en", clip_bytes["en"])

    await double.voice(OPS, ANA, "note-en", thread=thread)
    draft = await _outcome(telegram, thread)

    assert draft.plain.startswith("📝")
    assert [a for a, _ in draft.buttons] == ["✅ Confirm", "✏️ Edit", "🗑️ Discard"]
    assert await _timeline_updates(telegram) == []  # a draft is not an update yet
    await double.press(draft, ANA, _button(draft, "ok"))
    await eventually(lambda: draft.plain.startswith("✅"))
    [update] = await _timeline_updates(telegram)
    for word in BY_NAME["en"].key_words:
        assert word in update.lower()


async def test_a_portuguese_note_is_transcribed_in_portuguese(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram, BIA)
    double.add_file("note-pt", clip_bytes["pt"])

    await double.voice(OPS, BIA, "note-pt", thread=thread)
    draft = await _outcome(telegram, thread)
    await double.press(draft, BIA, _button(draft, "ok"))

    await eventually(lambda: draft.plain.startswith("✅"))
    [update] = await _timeline_updates(telegram)
    heard = [w for w in BY_NAME["pt"].key_words if w in update.lower()]
    assert len(heard) >= 3, update  # espeak-ng's Portuguese: key words, not every word
    assert draft.plain.startswith("✅ Incluído")


async def test_noise_gives_no_draft_and_no_update(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("pocket", clip_bytes["noise"])

    await double.voice(OPS, ANA, "pocket", thread=thread)
    answer = await _outcome(telegram, thread)

    assert "no speech" in answer.plain and answer.buttons == []
    assert await _timeline_updates(telegram) == []


async def test_an_edited_draft_is_what_reaches_the_timeline(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("note-en", clip_bytes["en"])
    await double.voice(OPS, ANA, "note-en", thread=thread)
    draft = await _outcome(telegram, thread)

    await double.press(draft, ANA, _button(draft, "edit"))
    prompt = await eventually(
        lambda: next((m for m in double.sent_to(OPS, thread) if m.force_reply), None)
    )
    answer = await double.say(OPS, ANA, "DB down; failover to GCP active", thread=thread,
                              reply_to=prompt.message_id)  # fmt: skip
    edited = await telegram.reply_to(answer)
    await double.press(edited, ANA, _button(edited, "ok"))

    await eventually(lambda: edited.plain.startswith("✅"))
    assert await _timeline_updates(telegram) == ["DB down; failover to GCP active"]


async def test_discarded_and_other_peoples_drafts_never_reach_the_timeline(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("note-en", clip_bytes["en"])
    await double.voice(OPS, ANA, "note-en", thread=thread)
    draft = await _outcome(telegram, thread)

    await double.press(draft, RUI, _button(draft, "ok"))
    refusal = await eventually(
        lambda: next((t for t in double.texts(OPS, thread) if t.startswith("Only Ana")), None)
    )
    await double.press(draft, ANA, _button(draft, "drop"))

    await eventually(lambda: draft.plain.startswith("🗑️"))
    assert "Only Ana" in refusal
    assert await _timeline_updates(telegram) == []


async def test_a_file_over_twenty_megabytes_is_refused_without_downloading_it(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("huge", clip_bytes["en"], size=25 * 1024 * 1024)

    said = await double.voice(OPS, ANA, "huge", thread=thread)
    reply = await telegram.reply_to(said)

    assert "25 MB" in reply.plain and "20 MB" in reply.plain
    assert double.called("getFile") == []


async def test_a_corrupt_file_is_reported_and_kept(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    double = telegram.double
    thread = await _topic(telegram)
    double.add_file("broken", clip_bytes["corrupt"])

    await double.voice(OPS, ANA, "broken", thread=thread)
    answer = await _outcome(telegram, thread)

    assert "couldn't read that file as audio" in answer.plain
    note = await telegram.telegram.voice_notes.get(1)
    assert note is not None and (note.status.value, note.error) == ("failed", "unreadable")


async def test_a_note_outside_an_incident_chat_asks_where_it_belongs(
    telegram: TelegramHarness, clip_bytes: dict[str, bytes]
) -> None:
    telegram.double.add_file("note-en", clip_bytes["en"])

    said = await telegram.double.voice(OLGA, OLGA, "note-en")

    assert "INC-0042" in (await telegram.reply_to(said)).plain


async def test_without_ffmpeg_the_note_is_kept_and_a_retry_works_once_it_is_there(
    tmp_path: Path, double: TelegramDouble, clip_bytes: dict[str, bytes], model_cache: Path
) -> None:
    voice = VoiceSettings(cache_dir=model_cache, ffmpeg=str(tmp_path / "no-ffmpeg"))
    settings = telegram_settings(tmp_path, double, models=model_cache, voice=voice)
    telegram = await start_harness(settings, double)
    try:
        thread = await _topic(telegram)
        double.add_file("note-en", clip_bytes["en"])
        await double.voice(OPS, ANA, "note-en", thread=thread)
        failed = await _outcome(telegram, thread)
        assert "ffmpeg" in failed.plain and "#1" in failed.plain
        assert [a for a, _ in failed.buttons] == ["🔁 Retry", "🗑️ Discard"]

        telegram.telegram.voice_notes.transcriber = Transcriber(SpeechConfig(cache=model_cache))
        await double.press(failed, ANA, _button(failed, "retry"))

        await eventually(lambda: failed.plain.startswith("📝"), within=60)
    finally:
        await telegram.jamie.stop()


@pytest.mark.parametrize("runtime", ["model", "runtime"])
async def test_a_missing_model_or_runtime_is_named_to_the_person(
    tmp_path: Path, double: TelegramDouble, clip_bytes: dict[str, bytes], model_cache: Path,
    runtime: str,
) -> None:  # fmt: skip
    settings = telegram_settings(tmp_path, double, models=model_cache)
    telegram = await start_harness(settings, double)
    try:
        config = (
            SpeechConfig(cache=tmp_path, packages=(("no_such_part1", "no_such_part2"),))
            if runtime == "model"
            else SpeechConfig(cache=model_cache, runtime="no-such-runtime")
        )
        telegram.telegram.voice_notes.transcriber = Transcriber(config)
        thread = await _topic(telegram)
        double.add_file("note-en", clip_bytes["en"])

        await double.voice(OPS, ANA, "note-en", thread=thread)
        failed = await _outcome(telegram, thread)

        expected = "speech model" if runtime == "model" else "speech engine"
        assert expected in failed.plain and "Retry" in str(failed.buttons)
    finally:
        await telegram.jamie.stop()
