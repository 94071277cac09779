"""Decoding a voice note with the ffmpeg program into what Whisper reads: 16 kHz mono
float32 samples. Both runtimes get the same samples, so they hear the same thing."""

from __future__ import annotations

import asyncio
import logging
import shutil

import numpy as np
import numpy.typing as npt

from jamie.speech.errors import SpeechUnavailable, UnreadableAudio

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_SECONDS = 300  # a voice *note*; longer audio is cut here, not transcribed for minutes
FFMPEG_FIX = "install ffmpeg (apt-get install ffmpeg, or brew install ffmpeg)"
_TIMEOUT = 60.0

Samples = npt.NDArray[np.float32]


def find_ffmpeg(program: str = "ffmpeg") -> str:
    found = shutil.which(program)
    if found is None:
        raise SpeechUnavailable("ffmpeg_missing", f"{program} was not found", fix=FFMPEG_FIX)
    return found


async def decode(
    audio: bytes, *, ffmpeg: str = "ffmpeg", max_seconds: int = MAX_SECONDS
) -> Samples:
    """PCM samples of any format ffmpeg reads (OGG/Opus voice notes, MP3, M4A, WAV…)."""
    program = find_ffmpeg(ffmpeg)
    process = await asyncio.create_subprocess_exec(
        program, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
        "-t", str(max_seconds), "-vn", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE),
        "pipe:1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        pcm, errors = await asyncio.wait_for(process.communicate(audio), _TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise UnreadableAudio(f"ffmpeg took longer than {_TIMEOUT:.0f}s") from None
    if process.returncode != 0 or not pcm:
        first = errors.decode(errors="replace").strip().splitlines()[:1]
        raise UnreadableAudio(f"ffmpeg could not decode the file: {' '.join(first)[:200]}")
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
