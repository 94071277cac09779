"""openai-whisper (PyTorch) as a `Backend`: the optional extra `[openai-whisper]`.

The checkpoint is converted from the CTranslate2 folder once, into the speech cache, and
written under a temporary name then renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from jamie.speech.audio import Samples
from jamie.speech.backends import BEAM_SIZE, OPENAI
from jamie.speech.convert import checkpoint, read_ct2
from jamie.speech.gate import COMPRESSION_CEILING, LOGPROB_WITH_NO_SPEECH, NO_SPEECH_PROB, Segment

log = logging.getLogger(__name__)

CHECKPOINT = "whisper-base-openai.pt"


def ensure_checkpoint(folder: Path, cache: Path) -> Path:
    import torch

    target = cache / CHECKPOINT
    source = folder / "model.bin"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    started = time.perf_counter()
    converted = checkpoint(read_ct2(source))
    state = {k: torch.from_numpy(v.copy()) for k, v in converted["model_state_dict"].items()}
    partial = target.with_suffix(".partial")
    torch.save({"dims": converted["dims"], "model_state_dict": state}, partial)
    os.replace(partial, target)
    log.info(
        "converted Whisper weights for openai-whisper in %.1fs", time.perf_counter() - started
    )
    return target


class OpenAIWhisper:
    runtime = OPENAI

    def __init__(self, folder: Path, *, threads: int, cache: Path) -> None:
        import torch
        import whisper

        torch.set_num_threads(threads)
        started = time.perf_counter()
        path = ensure_checkpoint(folder, cache)
        self._model: Any = whisper.load_model(str(path), device="cpu")
        self.load_seconds = time.perf_counter() - started

    def transcribe(
        self, samples: Samples, language: str, *, beam_size: int = BEAM_SIZE
    ) -> list[Segment]:
        # beam_size=None is openai-whisper's greedy decoding; 1 means the same to us.
        result = self._model.transcribe(
            samples, language=language, task="transcribe", fp16=False,
            beam_size=beam_size if beam_size > 1 else None,
            temperature=0.0, condition_on_previous_text=False, verbose=None,
            no_speech_threshold=NO_SPEECH_PROB, logprob_threshold=LOGPROB_WITH_NO_SPEECH,
            compression_ratio_threshold=COMPRESSION_CEILING,
        )  # fmt: skip
        return [
            Segment(str(s["text"]), float(s["avg_logprob"]), float(s["no_speech_prob"]),
                    float(s["compression_ratio"]))
            for s in result["segments"]
        ]  # fmt: skip
