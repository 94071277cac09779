"""The one way Jamie calls Telegram: every Bot API call goes through `TelegramClient`.

Per chat, calls run one at a time and in order, so flood control (429 `retry_after`) is
waited out for that chat only, and messages behind the one that was held stay behind it.
A wait longer than `max_wait` raises `FloodWait` (transient: the outbox tries again
later). A group upgraded to a supergroup (`ChatMigrated`) is followed: the move is
recorded, the `moved` hook updates Jamie's conversations, and the call is repeated at the
new id. Jamie removed from a chat (403) is recorded and raised as `ChatGone`; later calls
to that chat fail at once without reaching Telegram. python-telegram-bot's errors are
translated here, and only here, into errors.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from telegram import (
    Bot,
    BotCommand,
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.transports.telegram.errors import (
    ChatGone,
    FloodWait,
    MessageRefused,
    TelegramFailure,
    TelegramUnavailable,
    refusal,
)
from bot.transports.telegram.places import Place
from bot.transports.telegram.store import ChatStore
from bot.transports.telegram.text import Formatted, formatted, split

log = logging.getLogger(__name__)

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ForceReply
MovedHook = Callable[[int, int], Awaitable[None]]
MAX_PARTS = 3  # longer text goes as a document: a wall of messages helps nobody
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile limit


class TelegramClient:
    def __init__(
        self,
        bot: Bot,
        chats: ChatStore,
        *,
        max_wait: float = 60.0,
        attempts: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.chats = chats
        self.max_wait = max_wait
        self._attempts = attempts
        self._sleep = sleep
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._moved_hooks: list[MovedHook] = []

    def on_moved(self, hook: MovedHook) -> None:
        self._moved_hooks.append(hook)

    # -- messages -------------------------------------------------------------------------

    async def send_text(
        self, place: Place, text: Formatted | str, *, markup: Markup | None = None,
        reply_to: int | None = None, caption: str = "", filename: str = "jamie.txt",
    ) -> list[int]:  # fmt: skip
        """Post `text`, split on paragraphs when long, or as a document when very long;
        the markup goes on the last message. Returns the message ids."""
        shown = formatted(text) if isinstance(text, str) else text
        chunks = split(shown.plain)
        if len(chunks) > MAX_PARTS:
            return [await self.send_document(place, shown.plain, caption, filename, reply_to)]
        ids: list[int] = []
        try:
            for n, chunk in enumerate(chunks):
                piece = shown if len(chunks) == 1 else formatted(chunk)
                last = n == len(chunks) - 1
                ids.append(await self._send_one(place, piece, markup if last else None, reply_to))
        except MessageRefused as exc:
            if exc.kind != "too_long":
                raise
            # Telegram measured longer than we did (entities, emoji): send it whole, as a file.
            ids.append(await self.send_document(place, shown.plain, caption, filename, reply_to))
        return ids

    async def _send_one(
        self, place: Place, text: Formatted, markup: Markup | None, reply_to: int | None
    ) -> int:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None

        async def send(chat: int, parse_mode: str | None, body: str) -> Message:
            return await self.bot.send_message(
                chat, body, parse_mode=parse_mode, message_thread_id=place.thread,
                reply_markup=markup, reply_parameters=reply, link_preview_options=None,
            )  # fmt: skip

        try:
            sent = await self._call(
                "sendMessage", place.chat, lambda c: send(c, ParseMode.HTML, text.html)
            )
        except MessageRefused as exc:
            if exc.kind != "bad_entities":
                raise
            log.warning("chat %s refused Jamie's HTML; sending plain text", place.chat)
            sent = await self._call("sendMessage", place.chat, lambda c: send(c, None, text.plain))
        return sent.message_id

    async def send_document(
        self, place: Place, text: str, caption: str, filename: str, reply_to: int | None = None
    ) -> int:
        data = text.encode("utf-8")
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        sent = await self._call(
            "sendDocument", place.chat,
            lambda c: self.bot.send_document(
                c, InputFile(data, filename=filename), caption=caption[:1024] or None,
                message_thread_id=place.thread, reply_parameters=reply,
            ),
        )  # fmt: skip
        return sent.message_id

    async def edit_text(
        self, place: Place, message_id: int, text: Formatted, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Edit a message in place; an unchanged text is not an error."""

        async def edit(chat: int, parse_mode: str | None, body: str) -> object:
            return await self.bot.edit_message_text(
                body, chat_id=chat, message_id=message_id, parse_mode=parse_mode,
                reply_markup=markup,
            )  # fmt: skip

        try:
            await self._call(
                "editMessageText", place.chat, lambda c: edit(c, ParseMode.HTML, text.html)
            )
        except MessageRefused as exc:
            if exc.kind == "not_modified":
                return
            if exc.kind != "bad_entities":
                raise
            await self._call("editMessageText", place.chat, lambda c: edit(c, None, text.plain))

    # -- other calls ----------------------------------------------------------------------

    async def create_topic(self, chat: int, name: str) -> tuple[int, int]:
        """A forum topic in `chat`: (chat id, as it may have moved; thread id)."""
        holder: dict[str, int] = {}

        async def create(c: int) -> int:
            topic = await self.bot.create_forum_topic(c, name[:128])
            holder["chat"] = c
            return topic.message_thread_id

        thread = await self._call("createForumTopic", chat, create)
        return holder["chat"], thread

    async def answer(self, callback_id: str, text: str | None = None) -> None:
        try:
            await self._call(
                "answerCallbackQuery", None,
                lambda _: self.bot.answer_callback_query(callback_id, text=text),
            )  # fmt: skip
        except TelegramFailure as exc:
            # Too late (over ~15 s) or already answered: the work goes on regardless.
            log.info("callback %s not answered: %s", callback_id, exc.detail)

    async def set_commands(self, commands: Sequence[BotCommand], language: str | None) -> None:
        await self._call(
            "setMyCommands", None,
            lambda _: self.bot.set_my_commands(commands, language_code=language),
        )  # fmt: skip

    async def download(self, file_id: str, limit: int = DOWNLOAD_LIMIT) -> bytes:
        found = await self._call("getFile", None, lambda _: self.bot.get_file(file_id))
        if found.file_size and found.file_size > limit:
            raise refusal("Bad Request: file is too big", "getFile")
        data = await self._call("download", None, lambda _: found.download_as_bytearray())
        return bytes(data)

    # -- the choke point ------------------------------------------------------------------

    async def _call(self, method: str, chat: int | None, call: Callable[[int], Awaitable[T]]) -> T:
        if chat is None:
            return await self._attempt(method, 0, call)
        current = self.chats.current(chat)
        async with self._locks[current]:
            return await self._attempt(method, current, call)

    async def _attempt(self, method: str, chat: int, call: Callable[[int], Awaitable[T]]) -> T:
        waited = 0.0
        for _ in range(self._attempts):
            started = time.perf_counter()
            try:
                result = await call(chat)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                if waited + seconds > self.max_wait:
                    raise FloodWait(seconds, method) from exc
                log.warning("telegram %s chat=%s flood control: waiting %.1fs", method, chat,
                            seconds)  # fmt: skip
                await self._sleep(seconds)
                waited += seconds
                continue
            except ChatMigrated as exc:
                chat = await self.follow(chat, int(exc.new_chat_id))
                continue
            except (TelegramError, TimeoutError) as exc:
                raise await self._translate(exc, method, chat) from exc
            log.info("telegram %s chat=%s ok in %.0fms", method, chat or "-",
                     (time.perf_counter() - started) * 1000)  # fmt: skip
            return result
        raise TelegramUnavailable(f"gave up after {self._attempts} attempts", method)

    async def follow(self, old: int, new: int) -> int:
        """The group `old` became the supergroup `new`: record it and tell the hooks."""
        log.info("telegram chat %s was upgraded to supergroup %s; following it", old, new)
        await self.chats.moved(old, new)
        for hook in self._moved_hooks:
            await hook(old, new)
        return new

    async def _translate(self, exc: Exception, method: str, chat: int) -> TelegramFailure:
        if isinstance(exc, Forbidden):
            log.warning("telegram %s chat=%s forbidden: %s", method, chat, exc.message)
            if chat:
                await self.chats.gone(chat)
            return ChatGone(chat, exc.message, method)
        if isinstance(exc, BadRequest):
            if "chat not found" in exc.message.lower() and chat:
                return ChatGone(chat, exc.message, method)
            return refusal(exc.message, method)
        if isinstance(exc, NetworkError | TimeoutError):
            return TelegramUnavailable(str(exc), method)
        message = exc.message if isinstance(exc, TelegramError) else str(exc)
        return TelegramFailure(message, method)


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds. PTB 22 warns when `retry_after` is read as an int (it
    becomes a timedelta in v23, or with PTB_TIMEDELTA=1); this reads either quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
