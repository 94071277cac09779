"""Fixtures for the Slack tests: the local Slack double and Jamie wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.slack.double import SlackDouble
from tests.slack.harness import (
    ANA,
    DIGEST,
    GENERAL,
    IGOR,
    OLGA,
    RUI,
    SlackHarness,
    slack_settings,
    start_harness,
)


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    fake = SlackDouble()
    await fake.start()
    fake.add_channel(DIGEST, "incidentes")
    fake.add_channel(GENERAL, "geral")
    for user, name in ((ANA, "Ana"), (IGOR, "Igor"), (RUI, "Rui"), (OLGA, "Olga")):
        fake.add_user(user, name)
    yield fake
    await fake.stop()


@pytest.fixture
async def slack(tmp_path: Path, double: SlackDouble) -> AsyncIterator[SlackHarness]:
    harness = await start_harness(slack_settings(tmp_path, double), double)
    yield harness
    await harness.http.aclose()
    await harness.jamie.stop()
    assert harness.double.unexpected == []
