"""Telegram updates turned into domain calls: commands typed in any chat, card buttons,
answers to Jamie's questions, voice notes (voice.py), and changes to Jamie's chats.

Text goes through the same command language as every transport (`CommandHandler`), in
a `Context` whose conversation is the chat, or the chat's topic. In groups Jamie reads
`/commands` and messages that mention it; in a private chat, any text. A button press is
answered at once (Telegram's spinner stops), then the work runs and reports back in a new
message. An incident opened from Telegram lives in its own topic of the ops group, like
one opened anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict

from telegram import CallbackQuery, ForceReply, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler, Context, Reply
from bot.commands.parser import Command
from bot.commands.policy import REQUIRED_ROLE, allowed
from bot.commands.words import CommandName, lookup, primary_word
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.i18n import Catalog
from bot.transports.telegram.cards import CardKeeper
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.errors import TelegramFailure
from bot.transports.telegram.keyboards import CardAction, CardPress, NotePress, parse, revision
from bot.transports.telegram.people import app_language, display_name
from bot.transports.telegram.places import Place
from bot.transports.telegram.prompts import Prompt, PromptKind, Prompts
from bot.transports.telegram.removals import Removals
from bot.transports.telegram.topics import TopicKeeper, TopicUnavailable
from bot.transports.telegram.voice import VoiceFlow

log = logging.getLogger(__name__)

_BUTTON_COMMANDS = {
    CardAction.ACK: CommandName.ACK,
    CardAction.ESCALATE: CommandName.ESCALATE,
    CardAction.MITIGATE: CommandName.MITIGATE,
}
_GONE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}


class Handlers:
    def __init__(
        self, *, handler: CommandHandler, directory: Directory, client: TelegramClient,
        topics: TopicKeeper, cards: CardKeeper, prompts: Prompts, voice: VoiceFlow,
        removals: Removals, language: str,
    ) -> None:  # fmt: skip
        self._handler = handler
        self._directory = directory
        self._client = client
        self._topics = topics
        self._cards = cards
        self._prompts = prompts
        self._voice = voice
        self._removals = removals
        self._language = language
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.username = ""

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.migrated))
        app.add_handler(ChatMemberHandler(self.membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(CallbackQueryHandler(self.pressed))
        new = ~filters.UpdateType.EDITED  # an edited "/ack" must not act twice
        audio = filters.VOICE | filters.AUDIO | filters.Document.AUDIO
        app.add_handler(MessageHandler(audio & new, self._voice.received))
        app.add_handler(MessageHandler(filters.TEXT & new, self.text))
        app.add_error_handler(self.failed)

    # -- text -----------------------------------------------------------------------------

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot or not message.text:
            return
        answered = message.reply_to_message
        if answered is not None:
            prompt = self._prompts.take(message.chat_id, answered.message_id, str(user.id))
            if prompt is not None:
                await self._answer_prompt(prompt, message, user)
                return
        text = self.command_text(message)
        if not text:
            return
        place = Place.of(message)
        found = lookup(text.split()[0])
        opening = found is not None and found[0] is CommandName.OPEN
        # An incident opened here lives in its own topic when there is an ops group:
        # binding the chat it was typed in would post its status updates there too.
        here = None if opening and self._topics.ops_chat is not None else place.conversation
        ctx = self._context(user, here)
        reply = await self._handler.handle_text(text, ctx)
        extra = await self._after(reply)
        caption = Catalog(reply.language)("telegram.long_text")
        await self._client.send_text(
            place, reply.text + extra, reply_to=message.message_id, caption=caption
        )

    def command_text(self, message: Message) -> str | None:
        """What the message asks Jamie, or None when it is not addressed to Jamie."""
        text = (message.text or "").strip()
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            name, _, bot = word.partition("@")
            if bot and bot.lower() != self.username.lower():
                return None  # another bot's command
            return f"{name} {rest}".strip()
        if message.chat.type == ChatType.PRIVATE:
            return text
        mention = f"@{self.username}".lower()
        if self.username and text.lower().startswith(mention):
            return text[len(mention) :].strip(" :,")
        return None

    def _context(self, user: User, conversation: ConversationRef | None) -> Context:
        name = display_name(user)
        return Context(Transport.TELEGRAM, str(user.id), name, conversation, app_language(user))

    async def _after(self, reply: Reply) -> str:
        """After a change: refresh the card; after an opening, where the incident lives."""
        if reply.incident is None:
            return ""
        self._cards.touch(reply.incident.number)
        if not reply.ok or reply.command is not CommandName.OPEN or self._topics.ops_chat is None:
            return ""
        t = Catalog(reply.language)
        try:
            place = await self._topics.ensure(reply.incident)
        except TopicUnavailable as exc:
            key = "telegram.topic_pending" if exc.transient else "telegram.topic_failed"
            return "\n" + t(key, ref=reply.incident.ref)
        return "\n" + t("telegram.topic_ready", ref=reply.incident.ref,
                        link=place.link or place.address)  # fmt: skip

    async def _answer_prompt(self, prompt: Prompt, message: Message, user: User) -> None:
        if prompt.kind is PromptKind.EDIT_DRAFT:
            await self._voice.edited(prompt, message, user)
            return
        place = Place.of(message)
        command = Command(CommandName.RESOLVE, None, ref=prompt.target, text=message.text or "")
        reply = await self._handler.handle(command, self._context(user, place.conversation))
        await self._after(reply)
        await self._client.send_text(place, reply.text, reply_to=message.message_id)

    # -- buttons --------------------------------------------------------------------------

    async def pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await self._client.answer(query.id)  # first, before any database or model work
        press = parse(query.data)
        if query.message is None or press is None:
            return
        place = Place(query.message.chat.id, _thread_of(query))
        if isinstance(press, NotePress):
            await self._voice.pressed(query, press, place)
        else:
            await self._card_pressed(query.from_user, press, place)

    async def _card_pressed(self, user: User, press: CardPress, place: Place) -> None:
        async with self._locks[press.incident]:
            incident = await self._handler.service.get(press.incident)
            language = app_language(user) or self._language
            t = Catalog(language)
            if revision(incident) != press.revision:
                self._cards.touch(incident.number)
                await self._client.send_text(place, t("telegram.card_outdated", ref=incident.ref))
                return
            if press.action is CardAction.RESOLVE:
                await self._ask_root_cause(user, incident.number, incident.ref, place, language)
                return
            command = Command(_BUTTON_COMMANDS[press.action], None, ref=incident.number)
            reply = await self._handler.handle(command, self._context(user, place.conversation))
        await self._after(reply)
        await self._client.send_text(place, reply.text)

    async def _ask_root_cause(
        self, user: User, number: int, ref: str, place: Place, language: str
    ) -> None:
        t = Catalog(language)
        role = self._directory.role_of(Transport.TELEGRAM, str(user.id))
        if not allowed(role, CommandName.RESOLVE):
            needed = t(f"role.{REQUIRED_ROLE[CommandName.RESOLVE].value}")
            word = primary_word(CommandName.RESOLVE, language)
            text = t("error.not_authorised", name=display_name(user), command=word, needed=needed)
            await self._client.send_text(place, text)
            return
        ids = await self._client.send_text(
            place, t("telegram.root_cause_prompt", ref=ref, name=display_name(user)),
            markup=ForceReply(selective=True),
        )  # fmt: skip
        prompt = Prompt(PromptKind.ROOT_CAUSE, number, str(user.id), language)
        self._prompts.add(place.chat, ids[-1], prompt)

    # -- Jamie's chats --------------------------------------------------------------------

    async def migrated(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            await self._client.follow(message.chat_id, int(message.migrate_to_chat_id))

    async def membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat = change.chat.id
        if change.new_chat_member.status in _GONE:
            log.warning("jamie was removed from telegram chat %s", chat)
            if await self._client.chats.gone(chat):
                await self._removals.removed_from(chat)
        else:
            await self._client.chats.back(chat)

    async def failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything a handler did not expect: logged once with a reference the person sees."""
        reference = uuid.uuid4().hex[:8]
        log.error("telegram update failed (reference %s)", reference, exc_info=context.error)
        message = update.effective_message if isinstance(update, Update) else None
        if message is None:
            return
        user = update.effective_user if isinstance(update, Update) else None
        text = Catalog(app_language(user) or self._language)("error.unexpected",
                                                             reference=reference)  # fmt: skip
        try:
            await self._client.send_text(Place.of(message), text)
        except TelegramFailure as exc:
            log.warning("could not tell chat %s about reference %s: %s", message.chat_id,
                        reference, exc.detail)  # fmt: skip


def _thread_of(query: CallbackQuery) -> int | None:
    message = query.message
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None
