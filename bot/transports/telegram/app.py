"""Jamie's Telegram bot: a python-telegram-bot `Application`, fed by long polling
(default) or by Telegram's webhook on Jamie's own ASGI server (POST /telegram/webhook,
checked against X-Telegram-Bot-Api-Secret-Token).

The composition root builds one `TelegramTransport`, registers its outbox sender and
routes, and starts and stops it with the rest of Jamie. `handlers.py` turns updates into
domain calls; `sender.py` delivers the outbox; `client.py` is the only way out to
Telegram. Jamie's base URLs are settings, so tests point it at a local Bot API double.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.domain.people import ConversationRef
from bot.settings import SettingsError, TelegramSettings
from bot.transports.telegram import commands
from bot.transports.telegram.cards import CardKeeper
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.handlers import Handlers
from bot.transports.telegram.places import Place
from bot.transports.telegram.prompts import Prompts
from bot.transports.telegram.removals import Removals
from bot.transports.telegram.sender import TelegramSender
from bot.transports.telegram.store import ChatStore, TopicStore
from bot.transports.telegram.topics import TopicKeeper
from bot.transports.telegram.voice import VoiceFlow
from bot.voice.config import speech_config
from bot.voice.notes import VoiceNotes
from jamie.speech import Transcriber

if TYPE_CHECKING:
    from bot.app import Jamie

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000
UPDATES = ["message", "callback_query", "my_chat_member"]
_RETRY_SECONDS = 30.0


class TelegramTransport:
    def __init__(
        self, jamie: Jamie, settings: TelegramSettings, *, clock: Callable[[], datetime],
        transcriber: Transcriber | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self._jamie = jamie
        self.application = self._build_application(settings)
        self.chats = ChatStore(jamie.sessions, clock=clock)
        self.client = TelegramClient(self.application.bot, self.chats)
        self.topic_store = TopicStore(jamie.sessions, clock=clock)
        language = jamie.language
        self.cards = CardKeeper(
            self.client, self.topic_store, jamie.service, jamie.renderer, language=language,
            clock=clock,
        )  # fmt: skip
        self.topics = TopicKeeper(
            self.client, self.topic_store, jamie.service, self.cards,
            ops_chat=settings.ops_chat, language=language,
        )  # fmt: skip
        self.removals = Removals(
            jamie.sessions, jamie.service, jamie.plan, ops_chat=lambda: self.topics.ops_chat,
            language=language, clock=clock, on_outbox=jamie.dispatcher.poke,
        )  # fmt: skip
        self.sender = TelegramSender(
            self.client, jamie.service, jamie.renderer, self.topics, self.cards, self.removals,
            language=language,
        )  # fmt: skip
        self.voice_notes = VoiceNotes(
            jamie.sessions, transcriber or Transcriber(speech_config(jamie.settings)),
            jamie.commands, clock=clock,
        )  # fmt: skip
        prompts = Prompts()
        self.voice = VoiceFlow(
            self.voice_notes, self.client, jamie.service, jamie.commands.directory, prompts,
            spawn=self._spawn,
        )  # fmt: skip
        self.handlers = Handlers(
            handler=jamie.commands, directory=jamie.commands.directory, client=self.client,
            topics=self.topics, cards=self.cards, prompts=prompts, voice=self.voice,
            removals=self.removals, language=language,
        )  # fmt: skip
        self.handlers.register(self.application)
        self.client.on_moved(self._moved)
        self._background: asyncio.Task[None] | None = None
        self._running = False

    @property
    def ops_group(self) -> ConversationRef | None:
        """Where `incident_opened` messages go (their delivery makes the incident's topic)."""
        chat = self.settings.ops_chat
        return Place(chat).conversation if chat is not None else None

    @staticmethod
    def _build_application(settings: TelegramSettings) -> Application:  # type: ignore[type-arg]
        builder = (
            ApplicationBuilder()
            .token(settings.bot_token.get_secret_value())
            .base_url(settings.api_url)
            .base_file_url(settings.file_url)
            .concurrent_updates(8)
            .get_updates_read_timeout(settings.poll_timeout + 10)
        )
        if settings.mode == "webhook":
            builder = builder.updater(None)
        return builder.build()

    def routes(self) -> list[BaseRoute]:
        if self.settings.mode != "webhook":
            return []
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.chats.load()
        if not await self._connect():
            self._background = asyncio.create_task(self._connect_later(), name="telegram-start")

    async def _connect(self) -> bool:
        """getMe, the command menus, then updates. A refused token stops Jamie with the fix;
        Telegram being unreachable only delays Telegram (the rest of Jamie works)."""
        try:
            await self.application.initialize()
        except InvalidToken as exc:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN was refused by Telegram: copy the token BotFather gave "
                "(123456:ABC…) into TELEGRAM_BOT_TOKEN"
            ) from exc
        except TelegramError as exc:
            log.warning("telegram getMe failed (%s); retrying in the background", exc.message)
            return False
        self.handlers.username = self.application.bot.username
        await commands.register(self.client, self._jamie.plan.default_language)
        await self.application.start()
        if self.application.updater is not None:
            await self.application.updater.start_polling(
                timeout=self.settings.poll_timeout, allowed_updates=UPDATES
            )
        else:
            await self._set_webhook()
        self._running = True
        log.info("telegram started as @%s (%s)", self.handlers.username, self.settings.mode)
        return True

    async def _set_webhook(self) -> None:
        assert self.settings.webhook_url and self.settings.webhook_secret  # settings check
        await self.application.bot.set_webhook(
            self.settings.webhook_url, allowed_updates=UPDATES,
            secret_token=self.settings.webhook_secret.get_secret_value(),
        )  # fmt: skip

    async def _connect_later(self) -> None:
        connected = False
        while not connected:
            await asyncio.sleep(_RETRY_SECONDS)
            connected = await self._connect()

    async def stop(self) -> None:
        if self._background is not None:
            self._background.cancel()
            self._background = None
        if self._running:
            if self.application.updater is not None and self.application.updater.running:
                await self.application.updater.stop()
            await self.application.stop()
            self._running = False
        await self.cards.stop()
        await self.application.shutdown()  # does nothing when never initialised

    def _spawn(self, work: Coroutine[Any, Any, None]) -> object:
        """Slow work (voice notes) as a task the Application awaits when it stops."""
        return self.application.create_task(work)

    # -- webhook --------------------------------------------------------------------------

    async def _webhook(self, request: Request) -> Response:
        assert self.settings.webhook_secret is not None  # required in webhook mode
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.settings.webhook_secret.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("telegram webhook refused: wrong or missing secret token")
            return Response(status_code=401)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return Response(status_code=413)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, self.application.bot)
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    # -- chats that moved -----------------------------------------------------------------

    async def _moved(self, old: int, new: int) -> None:
        """A group became a supergroup: its conversations, topics and the ops setting follow."""
        service = self._jamie.service
        await service.move_conversation(Place(old).conversation, Place(new).conversation)
        await self.topic_store.move_chat(old, new)
        if self.topics.ops_chat == old:
            self.topics.ops_chat = new
