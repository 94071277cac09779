"""Voice notes and their drafts, for every transport (bot/voice/notes.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base


class VoiceNoteRow(Base):
    """A voice note from a chat and what became of it. `file_ref` is the transport's handle
    to fetch the audio again (a retry after a failure needs nothing else); `text` is the
    draft, which reaches the incident's timeline only when its speaker confirms it."""

    __tablename__ = "voice_notes"
    __table_args__ = (UniqueConstraint("transport", "source_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transport: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(200))
    file_ref: Mapped[str] = mapped_column(String(300))
    conversation: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(120))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(32))
    reply_ref: Mapped[str | None] = mapped_column(String(64))
    audio_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
