"""openai-whisper, the optional extra `[openai-whisper]`: the CTranslate2 weights converted
to its checkpoint load strictly and transcribe like faster-whisper. Skipped only when the
extra is not installed (`pip install -e '.[openai-whisper]'`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jamie.speech import SpeechConfig, Transcriber
from jamie.speech.backends import OPENAI, available
from tests.speech.clips import BY_NAME

pytestmark = pytest.mark.skipif(
    not available(OPENAI),
    reason="openai-whisper extra not installed: pip install -e '.[openai-whisper]'",
)


def test_converted_weights_fill_every_parameter_of_whisper_base(
    transcriber: Transcriber,
) -> None:
    import torch
    import whisper
    from whisper.model import ModelDimensions

    from jamie.speech.convert import checkpoint, read_ct2

    converted = checkpoint(read_ct2(transcriber.model_folder() / "model.bin"))
    model = whisper.model.Whisper(ModelDimensions(**converted["dims"]))
    state = {k: torch.from_numpy(v.copy()) for k, v in converted["model_state_dict"].items()}

    missing, unexpected = model.load_state_dict(state, strict=False)

    assert (missing, unexpected) == ([], [])
    assert converted["dims"]["n_text_layer"] == 6 and converted["dims"]["n_vocab"] == 51865


async def test_openai_whisper_hears_the_english_clip(
    transcriber: Transcriber, model_cache: Path, clip_bytes: dict[str, bytes]
) -> None:
    engine = Transcriber(SpeechConfig(runtime=OPENAI, cache=model_cache))

    transcript = await engine.transcribe(clip_bytes["en"], language="en")

    for word in BY_NAME["en"].key_words:
        assert word in transcript.text.lower()
