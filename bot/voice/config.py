"""Jamie's voice settings as the speech library's configuration."""

from __future__ import annotations

from bot.settings import Settings
from jamie.speech import SpeechConfig


def speech_config(settings: Settings) -> SpeechConfig:
    voice = settings.voice
    return SpeechConfig(
        runtime=voice.runtime,
        cache=voice.cache_dir or settings.home / "models",
        model_dir=voice.model_dir,
        ffmpeg=voice.ffmpeg,
        threads=voice.threads,
    )
