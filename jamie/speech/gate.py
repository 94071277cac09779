"""What keeps Whisper from inventing words: a voice-activity gate before the model, and a
confidence filter after it.

Whisper, given silence or noise, tends to write plausible text ("Obrigado.", "Thanks for
watching!"). Two guards, both runtime-neutral:

* before: Silero VAD (the ONNX model faster-whisper ships, run with onnxruntime) must find
  at least `MIN_SPEECH_SECONDS` of speech, or the model never runs;
* after: a segment is dropped when Whisper itself doubts it: it thinks there was no speech
  and its tokens are unlikely (the same pair of thresholds Whisper uses to skip windows),
  its tokens are very unlikely, or it repeats itself (a high compression ratio).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jamie.speech.audio import SAMPLE_RATE, Samples

MIN_SPEECH_SECONDS = 0.4
NO_SPEECH_PROB = 0.6
LOGPROB_WITH_NO_SPEECH = -1.0
LOGPROB_FLOOR = -1.5
COMPRESSION_CEILING = 2.4


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of decoded text with the model's own confidence measures."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def speech_seconds(samples: Samples) -> float:
    """Seconds of speech Silero VAD hears in `samples` (16 kHz mono)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=0.5, min_speech_duration_ms=250, min_silence_duration_ms=300)
    spans = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return float(sum(span["end"] - span["start"] for span in spans)) / SAMPLE_RATE


def trusted(segment: Segment) -> bool:
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOGPROB_WITH_NO_SPEECH:
        return False
    if segment.avg_logprob < LOGPROB_FLOOR:
        return False
    return segment.compression_ratio <= COMPRESSION_CEILING


def join(segments: Iterable[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments if trusted(s) and s.text.strip())
