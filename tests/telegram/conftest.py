"""Fixtures for the Telegram tests: the local Bot API double and Jamie wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.speech.conftest import clip_bytes, model_cache, voice_dir  # noqa: F401 (fixtures)
from tests.telegram.double import TelegramDouble
from tests.telegram.harness import (
    ANA,
    BASIC,
    BIA,
    NO_TOPICS,
    OLGA,
    OPS,
    RUI,
    TelegramHarness,
    start_harness,
    telegram_settings,
)


@pytest.fixture
async def double() -> AsyncIterator[TelegramDouble]:
    fake = TelegramDouble()
    await fake.start()
    fake.add_user(ANA, "Ana", "en")
    fake.add_user(BIA, "Bia", "pt-br")
    fake.add_user(RUI, "Rui", "pt-br")
    fake.add_user(OLGA, "Olga", "pt-br")
    fake.add_group(OPS, "Ops · Plataforma de IA", forum=True)
    fake.add_group(NO_TOPICS, "Ops sem tópicos")
    fake.add_group(BASIC, "Plantão radiologia")
    yield fake
    await fake.stop()


@pytest.fixture
async def telegram(
    tmp_path: Path,
    double: TelegramDouble,
    model_cache: Path,  # noqa: F811
) -> AsyncIterator[TelegramHarness]:
    harness = await start_harness(telegram_settings(tmp_path, double, models=model_cache), double)
    yield harness
    await harness.jamie.stop()
    assert harness.double.unexpected == []
