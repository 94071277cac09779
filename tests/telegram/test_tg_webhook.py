"""Webhook mode: Telegram posts updates to Jamie's own ASGI server, signed with the secret
token Jamie registered with setWebhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.telegram.double import TelegramDouble
from tests.telegram.harness import (
    OLGA,
    WEBHOOK_SECRET,
    TelegramHarness,
    eventually,
    start_harness,
    telegram_settings,
)


@pytest.fixture
async def hooked(
    tmp_path: Path, double: TelegramDouble, model_cache: Path
) -> AsyncIterator[tuple[TelegramHarness, httpx.AsyncClient]]:
    settings = telegram_settings(tmp_path, double, models=model_cache, mode="webhook")
    harness = await start_harness(settings, double)
    assert harness.jamie.web is not None
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.jamie.web.port}", timeout=10)
    yield harness, http
    await http.aclose()
    await harness.jamie.stop()
    assert double.unexpected == []


async def test_webhook_mode_registers_the_url_with_its_secret_and_does_not_poll(
    hooked: tuple[TelegramHarness, httpx.AsyncClient],
) -> None:
    harness, _ = hooked

    webhook = harness.double.webhook

    assert webhook is not None and webhook["secret_token"] == WEBHOOK_SECRET
    assert webhook["url"] == "https://jamie.example/telegram/webhook"
    assert harness.double.called("getUpdates") == []


@pytest.mark.parametrize("secret", [None, "wrong-secret-of-some-length"])
async def test_an_update_without_the_right_secret_is_refused(
    hooked: tuple[TelegramHarness, httpx.AsyncClient], secret: str | None
) -> None:
    harness, http = hooked
    update = {"update_id": 1, "message": harness.double.message_payload(OLGA, OLGA, text="help")}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

    response = await http.post("/telegram/webhook", json=update, headers=headers)

    assert response.status_code == 401
    assert harness.double.texts(OLGA) == []


async def test_an_update_with_the_secret_is_handled(
    hooked: tuple[TelegramHarness, httpx.AsyncClient],
) -> None:
    harness, http = hooked
    update = {"update_id": 1, "message": harness.double.message_payload(OLGA, OLGA, text="ajuda")}
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

    response = await http.post("/telegram/webhook", json=update, headers=headers)

    assert response.status_code == 200
    help_text = await eventually(lambda: harness.double.texts(OLGA))
    assert "abrir" in help_text[0]
