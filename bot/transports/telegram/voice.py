"""Voice notes and audio files in an incident's chat become draft updates (bot/voice).

The note is recorded at once (its id is kept for a retry), then downloaded and
transcribed in a task, so the update loop never waits for Whisper; a "transcribing…"
message appears straight away and is edited into the draft with Confirm / Edit /
Discard, into "no speech heard", or into what went wrong and a Retry button.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import (
    Audio,
    CallbackQuery,
    Document,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
    Voice,
)
from telegram.ext import ContextTypes

from bot.commands.directory import Directory
from bot.commands.handler import Context
from bot.domain.enums import Transport
from bot.domain.incident import format_ref, looks_like_ref, parse_ref
from bot.i18n import Catalog
from bot.service.incidents import IncidentService
from bot.transports.telegram.client import DOWNLOAD_LIMIT, TelegramClient
from bot.transports.telegram.errors import FileTooBig, TelegramFailure
from bot.transports.telegram.keyboards import NoteAction, NotePress, note_keyboard
from bot.transports.telegram.people import app_language, display_name
from bot.transports.telegram.places import Place
from bot.transports.telegram.prompts import Prompt, PromptKind, Prompts
from bot.transports.telegram.text import formatted
from bot.voice.notes import IncomingNote, NoteStatus, VoiceNote, VoiceNoteRefused, VoiceNotes

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], object]
# Failures that a later retry can fix (an install, a network); the others cannot.
RETRYABLE = frozenset({"ffmpeg_missing", "model_missing", "runtime_missing", "download",
                       "unexpected"})  # fmt: skip
DRAFT_ACTIONS = (NoteAction.CONFIRM, NoteAction.EDIT, NoteAction.DISCARD)


class VoiceFlow:
    def __init__(
        self, notes: VoiceNotes, client: TelegramClient, service: IncidentService,
        directory: Directory, prompts: Prompts, *, spawn: Spawn,
    ) -> None:  # fmt: skip
        self.notes = notes
        self._client = client
        self._service = service
        self._directory = directory
        self._prompts = prompts
        self._spawn = spawn

    # -- a note arrives -------------------------------------------------------------------

    async def received(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        media = _media(message)
        if message is None or user is None or media is None or user.is_bot:
            return
        place = Place.of(message)
        actor = self._directory.actor(Transport.TELEGRAM, str(user.id), display_name(user))
        number = await self._incident_for(message, place)
        if number is None:
            language = app_language(user) or actor.language or self.notes.default_language
            text = Catalog(language)("voice.no_incident")
            await self._client.send_text(place, text, reply_to=message.message_id)
            return
        language = await self.notes.language_of(place.conversation, actor.language,
                                                user.language_code)  # fmt: skip
        note, fresh = await self.notes.receive(
            IncomingNote(
                Transport.TELEGRAM, f"{message.chat_id}:{message.message_id}", media[0],
                place.conversation, str(user.id), display_name(user), number, language,
            )
        )  # fmt: skip
        if not fresh:
            return  # the same update delivered twice
        log.info("voice note %d for incident %d in chat %s", note.id, number, place.chat)
        if media[1] > DOWNLOAD_LIMIT:
            note = await self.notes.fail(note.id, "too_big")
            await self.show(note, place, reply_to=message.message_id, size=media[1])
            return
        self._spawn(self._process(note, place, reply_to=message.message_id))

    async def _incident_for(self, message: Message, place: Place) -> int | None:
        """The incident named in the caption, else the chat's only active incident."""
        for word in (message.caption or "").split():
            if looks_like_ref(word) and not word.isdigit():
                return parse_ref(word)
        active = await self._service.active_in(place.conversation)
        return active[0].number if len(active) == 1 else None

    async def _process(
        self, note: VoiceNote, place: Place, *, reply_to: int | None = None,
        progress: int | None = None,
    ) -> None:  # fmt: skip
        t = Catalog(note.language)
        try:
            if progress is None:
                ids = await self._client.send_text(
                    place, t("voice.transcribing", ref=format_ref(note.incident)),
                    reply_to=reply_to,
                )  # fmt: skip
                progress = ids[-1]
            try:
                audio = await self._client.download(note.file_ref)
            except FileTooBig:
                note = await self.notes.fail(note.id, "too_big")
            except TelegramFailure as exc:
                log.warning("voice note %d not downloaded: %s", note.id, exc.detail)
                note = await self.notes.fail(note.id, "download")
            else:
                note = await self.notes.transcribe(note.id, audio)
            await self.show(note, place, message_id=progress)
        except TelegramFailure as exc:
            log.warning("voice note %d: reply not posted: %s", note.id, exc.detail)

    # -- showing a note -------------------------------------------------------------------

    async def show(
        self, note: VoiceNote, place: Place, *, message_id: int | None = None,
        reply_to: int | None = None, size: int = 0,
    ) -> None:  # fmt: skip
        text, markup = self.view(note, size=size)
        if message_id is not None:
            await self._client.edit_text(place, message_id, formatted(text), markup)
        else:
            ids = await self._client.send_text(place, text, markup=markup, reply_to=reply_to)
            message_id = ids[-1]
        await self.notes.remember_reply(note.id, str(message_id))

    def view(self, note: VoiceNote, *, size: int = 0) -> tuple[str, InlineKeyboardMarkup | None]:
        t = Catalog(note.language)
        ref = format_ref(note.incident)
        if note.status is NoteStatus.DRAFT:
            text = t("voice.draft", ref=ref, name=note.user_name, text=note.text or "")
            return text, note_keyboard(note.id, DRAFT_ACTIONS, note.language)
        if note.status is NoteStatus.FAILED:
            reason = note.error or "unexpected"
            key = reason if reason in {*RETRYABLE, "too_big", "unreadable"} else "unexpected"
            mb = f"{size / 1024 / 1024:.0f}" if size else "20+"
            text = t(f"voice.failed.{key}", ref=ref, id=note.id, size=mb)
            actions = (NoteAction.RETRY, NoteAction.DISCARD) if key in RETRYABLE else ()
            return text, note_keyboard(note.id, actions, note.language) if actions else None
        texts = {
            NoteStatus.EMPTY: lambda: t("voice.empty", ref=ref),
            NoteStatus.CONFIRMED: lambda: t("voice.confirmed", ref=ref, text=note.text or ""),
            NoteStatus.DISCARDED: lambda: t("voice.discarded", ref=ref),
        }
        return texts.get(note.status, lambda: t("voice.transcribing", ref=ref))(), None

    # -- buttons and the edit prompt ------------------------------------------------------

    async def pressed(self, query: CallbackQuery, press: NotePress, place: Place) -> None:
        """A draft button (the query is already answered)."""
        user = query.from_user
        note = await self.notes.get(press.note)
        if note is None:
            return
        message_id = query.message.message_id if query.message else None
        try:
            await self._act(press.action, note, user, place, message_id)
        except VoiceNoteRefused as exc:
            t = Catalog(exc.note.language)
            text = t(f"voice.refused.{exc.key}", name=exc.note.user_name,
                     ref=format_ref(exc.note.incident))  # fmt: skip
            await self._client.send_text(place, text)

    async def _act(
        self, action: NoteAction, note: VoiceNote, user: User, place: Place,
        message_id: int | None,
    ) -> None:  # fmt: skip
        uid = str(user.id)
        if action is NoteAction.CONFIRM:
            ctx = Context(Transport.TELEGRAM, uid, display_name(user), place.conversation,
                          language=note.language)  # fmt: skip
            note, reply = await self.notes.confirm(note.id, ctx)
            if not reply.ok:
                await self._client.send_text(place, reply.text)
                return
            await self.show(note, place, message_id=message_id)
        elif action is NoteAction.DISCARD:
            await self.show(await self.notes.discard(note.id, uid), place, message_id=message_id)
        elif action is NoteAction.RETRY:
            note = await self.notes.retry(note.id, uid)
            self._spawn(self._process(note, place, progress=message_id))
        elif action is NoteAction.EDIT:
            await self._ask_for_text(note, uid, place)

    async def _ask_for_text(self, note: VoiceNote, user_id: str, place: Place) -> None:
        if note.user_id != user_id:
            raise VoiceNoteRefused("not_yours", note)
        if note.status is not NoteStatus.DRAFT:
            raise VoiceNoteRefused(f"already_{note.status.value}", note)
        t = Catalog(note.language)
        markup = ForceReply(selective=True)
        ids = await self._client.send_text(
            place, t("voice.edit_prompt", ref=format_ref(note.incident), name=note.user_name),
            markup=markup, reply_to=int(note.reply_ref) if note.reply_ref else None,
        )  # fmt: skip
        self._prompts.add(place.chat, ids[-1], Prompt(PromptKind.EDIT_DRAFT, note.id, user_id,
                                                      note.language))  # fmt: skip

    async def edited(self, prompt: Prompt, message: Message, user: User) -> None:
        place = Place.of(message)
        try:
            note = await self.notes.edit(prompt.target, str(user.id), message.text or "")
        except VoiceNoteRefused as exc:
            t = Catalog(exc.note.language)
            text = t(f"voice.refused.{exc.key}", name=exc.note.user_name,
                     ref=format_ref(exc.note.incident))  # fmt: skip
            await self._client.send_text(place, text)
            return
        await self.show(note, place, reply_to=message.message_id)


def _media(message: Message | None) -> tuple[str, int] | None:
    """(file_id, size) of a voice note, an audio file, or a document that is audio."""
    if message is None:
        return None
    found: Voice | Audio | Document | None = message.voice or message.audio
    document = message.document
    if found is None and document and (document.mime_type or "").startswith("audio/"):
        found = document
    return (found.file_id, found.file_size or 0) if found else None
