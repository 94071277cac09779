"""The transcriber: audio bytes in, trusted text out, in the language it is told.

`transcribe` decodes with ffmpeg, asks the voice-activity gate whether anyone spoke, runs
the Whisper runtime in a worker thread (one note at a time: the machine has two cores and
a second concurrent note would only slow the first), and keeps only the segments the
model is sure of. Silence or noise gives an empty `text`, never invented words.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from jamie.speech import backends, weights
from jamie.speech.audio import MAX_SECONDS, SAMPLE_RATE, Samples, decode, find_ffmpeg
from jamie.speech.errors import SpeechError
from jamie.speech.gate import MIN_SPEECH_SECONDS, join, speech_seconds

log = logging.getLogger(__name__)

LANGUAGES = ("pt", "en")


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str  # "" when nobody spoke (or nothing was said the model could trust)
    language: str
    audio_seconds: float
    speech_seconds: float
    seconds: float  # wall time of decoding, gating and transcription
    runtime: str

    @property
    def heard_speech(self) -> bool:
        return bool(self.text)


@dataclass(frozen=True, slots=True)
class SpeechConfig:
    runtime: str = backends.FASTER
    cache: Path = Path("var/models")
    model_dir: Path | None = None  # an explicit CTranslate2 folder instead of the packages
    ffmpeg: str = "ffmpeg"
    threads: int = 2
    beam_size: int = backends.BEAM_SIZE  # 1: greedy, about twice as fast on two cores
    max_seconds: int = MAX_SECONDS
    packages: tuple[tuple[str, str], ...] = field(default=weights.PACKAGE_PAIRS)


def spoken_language(code: str | None, default: str = "pt") -> str:
    """Whisper's code for a chat or person language (pt-BR -> pt, en-US -> en)."""
    short = (code or "").strip().lower()[:2]
    return short if short in LANGUAGES else default


class Transcriber:
    def __init__(self, config: SpeechConfig | None = None) -> None:
        self.config = config or SpeechConfig()
        self._lock = asyncio.Lock()

    @property
    def runtime(self) -> str:
        return self.config.runtime

    def problems(self) -> list[SpeechError]:
        """What stops transcription here, each with its fix (for `jamie doctor`)."""
        found: list[SpeechError] = []
        checks = (
            lambda: find_ffmpeg(self.config.ffmpeg),
            lambda: backends.require(self.config.runtime),
            lambda: self.config.model_dir or weights.find_parts(self.config.packages),
        )
        for check in checks:
            try:
                check()
            except SpeechError as exc:
                found.append(exc)
        return found

    def model_folder(self) -> Path:
        if self.config.model_dir is not None:
            return self.config.model_dir
        return weights.model_dir(self.config.cache, self.config.packages)

    def load(self) -> backends.Backend:
        """Join the weights if needed and load the model (blocking; seconds on first call)."""
        backends.require(self.config.runtime)
        return backends.load(
            self.config.runtime, self.model_folder(), threads=self.config.threads,
            cache=self.config.cache,
        )  # fmt: skip

    async def transcribe(self, audio: bytes, *, language: str) -> Transcript:
        language = spoken_language(language)
        started = time.perf_counter()
        samples = await decode(
            audio, ffmpeg=self.config.ffmpeg, max_seconds=self.config.max_seconds
        )
        async with self._lock:
            text, spoken = await asyncio.to_thread(self._run, samples, language)
        transcript = Transcript(
            text=text, language=language, audio_seconds=len(samples) / SAMPLE_RATE,
            speech_seconds=spoken, seconds=time.perf_counter() - started,
            runtime=self.config.runtime,
        )  # fmt: skip
        log.info(
            "transcribed %.1fs of audio (%.1fs speech, %s) in %.2fs with %s: %d chars",
            transcript.audio_seconds, spoken, language, transcript.seconds,
            self.config.runtime, len(text),
        )  # fmt: skip
        return transcript

    def _run(self, samples: Samples, language: str) -> tuple[str, float]:
        backend = self.load()
        spoken = speech_seconds(samples)
        if spoken < MIN_SPEECH_SECONDS:
            return "", spoken
        segments = backend.transcribe(samples, language, beam_size=self.config.beam_size)
        return join(segments), spoken
