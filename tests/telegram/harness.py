"""Builders for Telegram tests: Jamie with Telegram on, its python-telegram-bot Application
pointed at the local Bot API double (`double.py`) through its base URLs.

People: Ana (commander, English), Bia (commander, Portuguese), Rui (responder) and Olga
(a clinician the plan does not list: an observer). Chats: the ops supergroup with topics,
a group with topics off, a basic group, and each person's private chat with Jamie.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from bot.app import Jamie
from bot.commands.ports import Answer, Citation
from bot.settings import Settings, TelegramSettings, VoiceSettings
from bot.storage.models import OutboxRow
from bot.transports.telegram.app import TelegramTransport
from tests.telegram.double import TOKEN, Sent, TelegramDouble

REPO = Path(__file__).resolve().parents[2]
ANA, BIA, RUI, OLGA = 111, 222, 333, 444
OPS = -1001000000001  # the ops supergroup, topics on
NO_TOPICS = -1001000000002  # a supergroup with topics off
BASIC = -5001  # a basic group (upgrades to a supergroup in one test)
WEBHOOK_SECRET = "s3cret-token-for-the-telegram-webhook"


class FakeAssistant:
    async def ask(self, question: str, *, language: str) -> Answer:
        passage = Citation("p0.md#first", "First", "Acknowledge within 2 minutes.", "en")
        return Answer(passages=(passage,))


def write_plan(target: Path) -> Path:
    plan = yaml.safe_load((REPO / "deploy" / "plan.yaml").read_text(encoding="utf-8"))
    plan["responders"] = {
        "primary-sre": {"name": "Ana", "role": "commander", "language": "en",
                        "identities": {"telegram": [str(ANA)]}},
        "it-manager": {"name": "Bia", "role": "commander", "language": "pt-BR",
                       "identities": {"telegram": [str(BIA)]}},
        "oncall-responder": {"name": "Rui", "role": "responder",
                             "identities": {"telegram": [str(RUI)]}},
    }  # fmt: skip
    target.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return target


def telegram_settings(
    tmp_path: Path, double: TelegramDouble, *, models: Path, ops: int | None = OPS,
    mode: str = "polling", voice: VoiceSettings | None = None,
) -> Settings:  # fmt: skip
    telegram = TelegramSettings(
        bot_token=TOKEN, ops_chat=ops, mode=mode, api_url=f"{double.url}/bot",
        file_url=f"{double.url}/file/bot", poll_timeout=1,
        webhook_url="https://jamie.example/telegram/webhook" if mode == "webhook" else None,
        webhook_secret=WEBHOOK_SECRET if mode == "webhook" else None,
    )  # fmt: skip
    values: dict[str, Any] = {
        "home": tmp_path, "database_url": f"sqlite:///{tmp_path / 'jamie.db'}",
        "plan_path": write_plan(tmp_path / "plan.yaml"), "knowledge_dir": tmp_path / "k",
        "index_dir": tmp_path / "index", "http_port": 0, "sweep_seconds": 0.5,
        "status_interval": timedelta(hours=1), "telegram": telegram,
        "voice": voice or VoiceSettings(cache_dir=models),
    }  # fmt: skip
    return Settings.model_validate(values)


async def eventually(check: Callable[[], Any], within: float = 10.0, message: str = "") -> Any:
    """Wait until `check()` returns something truthy (awaiting it when it is a coroutine)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met in {within}s")
        await asyncio.sleep(0.05)


@dataclass
class TelegramHarness:
    jamie: Jamie
    double: TelegramDouble

    @property
    def telegram(self) -> TelegramTransport:
        assert self.jamie.telegram is not None
        return self.jamie.telegram

    async def deliver(self, within: float = 10.0) -> None:
        """Deliver what the outbox holds and let pending card edits finish.

        The app's own dispatcher task runs too and may hold a claim on a row, so this also
        waits for rows in flight there, not only until one round of its own delivers nothing.
        """
        deadline = time.monotonic() + within
        while True:
            delivered = await self.jamie.dispatcher.deliver_pending()
            await self.telegram.cards.drain()
            if not delivered and not await self._pending():
                return
            if time.monotonic() > deadline:
                raise AssertionError("outbox rows stayed claimed and undelivered")
            if not delivered:
                await asyncio.sleep(0.05)

    async def _pending(self) -> int:
        async with self.jamie.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.delivered_at.is_(None), OutboxRow.claimed_until.is_not(None))
            )
        return int(count or 0)

    async def reply_to(self, update: dict[str, Any], within: float = 10.0) -> Sent:
        """Jamie's first message answering a person's message."""
        message = update["message"]
        chat, message_id = message["chat"]["id"], message["message_id"]

        def found() -> Sent | None:
            return next((m for m in self.double.sent_to(chat) if m.reply_to == message_id), None)

        reply: Sent = await eventually(found, within, f"no reply to message {message_id}")
        return reply

    def topic_of(self, title_part: str) -> int:
        chat = self.double.chats[OPS]
        return next(t for t, name in chat.topics.items() if title_part in name)

    def card_in(self, chat: int, thread: int | None = None) -> Sent:
        cards = [m for m in self.double.sent_to(chat, thread) if any(
            data.startswith("i:") for _, data in m.buttons)]  # fmt: skip
        assert cards, f"no card in chat {chat} thread {thread}"
        return cards[0]


async def start_harness(settings: Settings, double: TelegramDouble) -> TelegramHarness:
    jamie = Jamie(settings, assistant=FakeAssistant())
    await jamie.start()
    if settings.telegram and settings.telegram.mode == "webhook":
        await jamie.start_web()
    return TelegramHarness(jamie, double)
