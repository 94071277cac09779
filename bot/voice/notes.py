"""Voice notes to draft updates, for every chat transport.

The flow, the same for Telegram today and Slack's audio clips later:

1. `receive(IncomingNote)` records the note (idempotent on the transport's own key) with a
   handle to fetch its audio again: the note's id survives any failure, for a retry.
2. The transport downloads the audio and calls `transcribe(note_id, audio)`; the note
   becomes a `draft` (text heard), `empty` (nobody spoke: no text, never invented words)
   or `failed` (with a reason key: ffmpeg_missing, model_missing, unreadable, …).
3. The speaker `confirm`s the draft (only then does it reach the timeline, as an
   `update` through the command handler and its role checks), `edit`s it, or
   `discard`s it. A failed note can be `retry`'d once the fix is in.

Hook for Slack (bot/transports/slack, not wired yet): on a `file_shared`/message event
with an audio file in an incident channel, call `receive` with
`IncomingNote(Transport.SLACK, source_key=file_id, file_ref=file_id, …)`, download the
file with the bot token (`files.info` → `url_private_download`), call `transcribe`, and
show the draft with Confirm / Edit / Discard buttons whose actions call `confirm`,
`edit` and `discard` with the clicking user's id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.handler import CommandHandler, Context, Reply
from bot.commands.parser import Command
from bot.commands.words import CommandName
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.i18n import normalise_language
from bot.storage.models import ConversationRow
from bot.storage.voice_models import VoiceNoteRow
from jamie.speech import SpeechError, Transcriber

log = logging.getLogger(__name__)

MAX_DRAFT_CHARS = 3000


class NoteStatus(StrEnum):
    RECEIVED = "received"
    DRAFT = "draft"
    EMPTY = "empty"
    FAILED = "failed"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


class VoiceNoteRefused(Exception):
    """A draft action that cannot happen: `key` is a message key under `voice.`."""

    def __init__(self, key: str, note: VoiceNote) -> None:
        super().__init__(key)
        self.key = key
        self.note = note


@dataclass(frozen=True, slots=True)
class IncomingNote:
    transport: Transport
    source_key: str  # the transport's id of the note (Telegram: file_unique_id + message)
    file_ref: str  # what fetches the audio again (Telegram: file_id)
    conversation: ConversationRef
    user_id: str
    user_name: str
    incident: int
    language: str  # pt-BR or en: what the speaker is expected to speak


@dataclass(frozen=True, slots=True)
class VoiceNote:
    id: int
    transport: Transport
    file_ref: str
    conversation: ConversationRef
    user_id: str
    user_name: str
    incident: int
    language: str
    status: NoteStatus
    text: str | None
    error: str | None
    reply_ref: str | None


class VoiceNotes:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transcriber: Transcriber,
        handler: CommandHandler,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self.transcriber = transcriber
        self._handler = handler
        self._now = clock

    @property
    def default_language(self) -> str:
        return self._handler.plan.default_language

    async def language_of(
        self, conversation: ConversationRef, user_language: str | None, client: str | None
    ) -> str:
        """The language to transcribe in, never guessed from the audio: the speaker's in the
        plan, else the chat's, else the speaker's app language when it is Portuguese or
        English, else the plan's."""
        if user_language:
            return normalise_language(user_language, self.default_language)
        async with self._sessions() as session:
            chat = await session.scalar(
                select(ConversationRow.language).where(
                    ConversationRow.transport == conversation.transport.value,
                    ConversationRow.address == conversation.address,
                )
            )
        for candidate in (chat, client):
            if candidate and normalise_language(candidate, "") in ("pt-BR", "en"):
                return normalise_language(candidate)
        return self.default_language

    async def receive(self, note: IncomingNote) -> tuple[VoiceNote, bool]:
        """Record the note; False when the same note was received before."""
        now = self._now()
        values = {
            "transport": note.transport.value, "source_key": note.source_key[:200],
            "file_ref": note.file_ref[:300], "conversation": note.conversation.address,
            "user_id": note.user_id, "user_name": note.user_name[:120],
            "incident_id": note.incident, "language": note.language,
            "status": NoteStatus.RECEIVED.value, "created_at": now, "updated_at": now,
        }  # fmt: skip
        async with self._sessions.begin() as session:
            added = await session.scalar(
                _insert(session)(VoiceNoteRow).values(**values)
                .on_conflict_do_nothing().returning(VoiceNoteRow.id)
            )  # fmt: skip
            row = await session.scalar(
                select(VoiceNoteRow).where(
                    VoiceNoteRow.transport == note.transport.value,
                    VoiceNoteRow.source_key == note.source_key[:200],
                )
            )
            assert row is not None
            return _snapshot(row), added is not None

    async def get(self, note_id: int) -> VoiceNote | None:
        async with self._sessions() as session:
            row = await session.get(VoiceNoteRow, note_id)
            return _snapshot(row) if row else None

    async def transcribe(self, note_id: int, audio: bytes) -> VoiceNote:
        """Transcribe the note's audio into a draft; failures are recorded, not raised."""
        note = await self._require(note_id)
        try:
            transcript = await self.transcriber.transcribe(audio, language=note.language)
        except SpeechError as exc:
            log.warning("voice note %d not transcribed: %s (%s)", note_id, exc.reason, exc.fix)
            return await self._set(note_id, status=NoteStatus.FAILED, error=exc.reason)
        except Exception:
            log.exception("voice note %d: transcription failed", note_id)
            return await self._set(note_id, status=NoteStatus.FAILED, error="unexpected")
        text = transcript.text[:MAX_DRAFT_CHARS]
        status = NoteStatus.DRAFT if text else NoteStatus.EMPTY
        return await self._set(
            note_id, status=status, text=text or None, error=None,
            audio_seconds=transcript.audio_seconds,
        )  # fmt: skip

    async def fail(self, note_id: int, reason: str) -> VoiceNote:
        """The transport could not fetch the audio (`too_big`, `download`)."""
        return await self._set(note_id, status=NoteStatus.FAILED, error=reason)

    async def retry(self, note_id: int, user_id: str) -> VoiceNote:
        """A failed note goes back to `received`; the transport fetches it again."""
        note = await self._mine(note_id, user_id)
        if not await self._move(note_id, NoteStatus.FAILED, NoteStatus.RECEIVED):
            raise VoiceNoteRefused(f"already_{note.status.value}", note)
        return await self._require(note_id)

    async def remember_reply(self, note_id: int, reply_ref: str) -> None:
        await self._set(note_id, reply_ref=reply_ref)

    async def edit(self, note_id: int, user_id: str, text: str) -> VoiceNote:
        note = await self._mine(note_id, user_id)
        text = " ".join(text.split())[:MAX_DRAFT_CHARS]
        if note.status is not NoteStatus.DRAFT or not text:
            raise VoiceNoteRefused(f"already_{note.status.value}", note)
        return await self._set(note_id, text=text)

    async def discard(self, note_id: int, user_id: str) -> VoiceNote:
        note = await self._mine(note_id, user_id)
        for source in (NoteStatus.DRAFT, NoteStatus.FAILED, NoteStatus.EMPTY):
            if await self._move(note_id, source, NoteStatus.DISCARDED):
                log.info("voice note %d discarded", note_id)
                return await self._require(note_id)
        raise VoiceNoteRefused(f"already_{note.status.value}", note)

    async def confirm(self, note_id: int, ctx: Context) -> tuple[VoiceNote, Reply]:
        """Post the draft to the incident's timeline as an update, exactly once."""
        note = await self._mine(note_id, ctx.user_id)
        if not await self._move(note_id, NoteStatus.DRAFT, NoteStatus.CONFIRMING):
            raise VoiceNoteRefused(f"already_{note.status.value}", note)
        command = Command(CommandName.UPDATE, None, ref=note.incident, text=note.text or "")
        reply = await self._handler.handle(command, ctx)
        final = NoteStatus.CONFIRMED if reply.ok else NoteStatus.DRAFT
        await self._move(note_id, NoteStatus.CONFIRMING, final)
        log.info("voice note %d %s for incident %d", note_id, final.value, note.incident)
        return await self._require(note_id), reply

    # -- internals -----------------------------------------------------------------------

    async def _require(self, note_id: int) -> VoiceNote:
        note = await self.get(note_id)
        if note is None:
            raise LookupError(f"voice note {note_id} does not exist")
        return note

    async def _mine(self, note_id: int, user_id: str) -> VoiceNote:
        note = await self._require(note_id)
        if note.user_id != user_id:
            raise VoiceNoteRefused("not_yours", note)
        return note

    async def _move(self, note_id: int, source: NoteStatus, target: NoteStatus) -> bool:
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(VoiceNoteRow)
                .where(VoiceNoteRow.id == note_id, VoiceNoteRow.status == source.value)
                .values(status=target.value, updated_at=self._now())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def _set(self, note_id: int, **values: Any) -> VoiceNote:
        if isinstance(values.get("status"), NoteStatus):
            values["status"] = values["status"].value
        async with self._sessions.begin() as session:
            await session.execute(
                update(VoiceNoteRow)
                .where(VoiceNoteRow.id == note_id)
                .values(updated_at=self._now(), **values)
            )
        return await self._require(note_id)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _snapshot(row: VoiceNoteRow) -> VoiceNote:
    transport = Transport(row.transport)
    return VoiceNote(
        id=row.id, transport=transport, file_ref=row.file_ref,
        conversation=ConversationRef(transport, row.conversation), user_id=row.user_id,
        user_name=row.user_name, incident=row.incident_id, language=row.language,
        status=NoteStatus(row.status), text=row.text, error=row.error, reply_ref=row.reply_ref,
    )  # fmt: skip
