"""The Whisper runtimes behind one interface.

A `Backend` turns 16 kHz samples into segments, in the language it is told (never
detected: detection mislabels short Portuguese notes, shared/MODELS.md). Two exist:

* `faster-whisper` (CTranslate2, int8 on the CPU): the default; reads the joined folder
  as it is;
* `openai-whisper` (PyTorch): the reference implementation, an optional extra
  (`pip install -e '.[openai-whisper]'`, about 2 GB with torch); the CTranslate2 weights
  are converted once to its checkpoint layout (`convert.py`).

Loaded models are kept per (runtime, folder) for the life of the process: loading takes
seconds and hundreds of MB, and a loaded model is never changed, so every transcriber in
the process shares it.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import Protocol

from jamie.speech.audio import Samples
from jamie.speech.errors import SpeechUnavailable
from jamie.speech.gate import COMPRESSION_CEILING, LOGPROB_WITH_NO_SPEECH, NO_SPEECH_PROB, Segment

log = logging.getLogger(__name__)

FASTER = "faster-whisper"
OPENAI = "openai-whisper"
RUNTIMES = (FASTER, OPENAI)
BEAM_SIZE = 5
_FIXES = {
    FASTER: "pip install faster-whisper",
    OPENAI: "pip install -e '.[openai-whisper]' (torch==2.13.0 CPU build and openai-whisper)",
}
_MODULES = {FASTER: "faster_whisper", OPENAI: "whisper"}


class Backend(Protocol):
    runtime: str
    load_seconds: float

    def transcribe(
        self, samples: Samples, language: str, *, beam_size: int = BEAM_SIZE
    ) -> list[Segment]: ...


def available(runtime: str) -> bool:
    return importlib.util.find_spec(_MODULES[runtime]) is not None


def require(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise SpeechUnavailable(
            "runtime_missing", f"unknown Whisper runtime {runtime!r}",
            fix=f"set JAMIE_WHISPER_RUNTIME to one of {', '.join(RUNTIMES)}",
        )  # fmt: skip
    if not available(runtime):
        raise SpeechUnavailable(
            "runtime_missing", f"the {runtime} runtime is not installed", fix=_FIXES[runtime]
        )


class FasterWhisper:
    runtime = FASTER

    def __init__(self, folder: Path, *, threads: int) -> None:
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        self._model = WhisperModel(
            str(folder), device="cpu", compute_type="int8", cpu_threads=threads,
            local_files_only=True,
        )  # fmt: skip
        self.load_seconds = time.perf_counter() - started

    def transcribe(
        self, samples: Samples, language: str, *, beam_size: int = BEAM_SIZE
    ) -> list[Segment]:
        found, _info = self._model.transcribe(
            samples, language=language, task="transcribe", beam_size=beam_size,
            temperature=0.0, condition_on_previous_text=False, vad_filter=True,
            no_speech_threshold=NO_SPEECH_PROB, log_prob_threshold=LOGPROB_WITH_NO_SPEECH,
            compression_ratio_threshold=COMPRESSION_CEILING,
        )  # fmt: skip
        return [
            Segment(s.text, s.avg_logprob, s.no_speech_prob, s.compression_ratio) for s in found
        ]


_loaded: dict[tuple[str, Path, int], Backend] = {}
_loading = threading.Lock()


def load(runtime: str, folder: Path, *, threads: int, cache: Path) -> Backend:
    """The runtime's model for the CTranslate2 `folder`, loaded once per process."""
    require(runtime)
    key = (runtime, folder, threads)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _build(runtime, folder, threads=threads, cache=cache)
            log.info("%s model loaded in %.1fs", runtime, _loaded[key].load_seconds)
        return _loaded[key]


def _build(runtime: str, folder: Path, *, threads: int, cache: Path) -> Backend:
    if runtime == FASTER:
        return FasterWhisper(folder, threads=threads)
    from jamie.speech.openai_backend import OpenAIWhisper

    return OpenAIWhisper(folder, threads=threads, cache=cache)
