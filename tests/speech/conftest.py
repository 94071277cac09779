"""Fixtures for the speech tests: real voice notes made once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jamie.speech import SpeechConfig, Transcriber
from tests.speech import clips


@pytest.fixture(scope="session")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.fail("espeak-ng and ffmpeg are needed: run `make system-deps`", pytrace=False)
    folder = tmp_path_factory.getbasetemp() / "jamie-voice"  # shared with tests/telegram
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "jamie-models"  # joined once per session
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def transcriber(model_cache: Path) -> Transcriber:
    """faster-whisper with the packaged weights (joined once into the session's cache)."""
    engine = Transcriber(SpeechConfig(cache=model_cache))
    engine.load()
    return engine


@pytest.fixture(scope="session")
def clip_bytes(voice_dir: Path) -> dict[str, bytes]:
    found = {clip.name: clips.speak(clip, voice_dir).read_bytes() for clip in clips.CLIPS}
    found["noise"] = clips.noise(voice_dir).read_bytes()
    found["corrupt"] = clips.corrupt(voice_dir).read_bytes()
    return found
