"""Writing to the outbox inside the caller's transaction, de-duplicated by key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import ConversationRef
from bot.i18n import normalise_language
from bot.storage.models import BindingRow, ConversationRow, OutboxRow


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What a transport receives: text in the conversation's language, plus structure."""

    outbox_id: int
    kind: str
    text: str
    incident_number: int | None
    payload: dict[str, Any] = field(default_factory=dict)


async def conversation_row(
    session: AsyncSession, ref: ConversationRef, *, now: datetime, language: str | None = None
) -> ConversationRow:
    """The conversation's row, created on first sight (safe under concurrent creation)."""
    values = {
        "transport": ref.transport.value,
        "address": ref.address,
        "language": language,
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(ConversationRow).values(**values).on_conflict_do_nothing())
    found = await session.scalar(
        select(ConversationRow).where(
            ConversationRow.transport == ref.transport.value,
            ConversationRow.address == ref.address,
        )
    )
    assert found is not None
    return found


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    conversation_id: int,
    incident_id: int | None,
    kind: str,
    text: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a message unless one with the same key exists; True when added."""
    values = {
        "dedupe_key": dedupe_key,
        "conversation_id": conversation_id,
        "incident_id": incident_id,
        "kind": kind,
        "text": text,
        "payload": payload or {},
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }
    return await insert_once(session, OutboxRow, values)


async def insert_once(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same `dedupe_key` exists; True when inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg reports rowcount -1 for this statement, which
    # made every duplicate look like an insertion on PostgreSQL.
    added = await session.scalar(
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.id)
    )
    return added is not None


async def post_to_followers(
    session: AsyncSession, incident_id: int, *, key: str, kind: str, render: Callable[[str], str],
    now: datetime, default_language: str, skip: ConversationRef | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:  # fmt: skip
    """Queue `render(language)` for every conversation following the incident (but `skip`);
    `key` makes it idempotent. True when anything was queued."""
    query = (
        select(ConversationRow)
        .join(BindingRow, BindingRow.conversation_id == ConversationRow.id)
        .where(BindingRow.incident_id == incident_id)
        .order_by(ConversationRow.id)
    )
    added = False
    for conv in (await session.scalars(query)).all():
        if skip is not None and (conv.transport, conv.address) == (
            skip.transport.value,
            skip.address,
        ):
            continue
        language = normalise_language(conv.language, default_language)
        added |= await enqueue(
            session,
            dedupe_key=f"{key}:{conv.id}"[:200],
            conversation_id=conv.id,
            incident_id=incident_id,
            kind=kind,
            text=render(language),
            now=now,
            payload=payload,
        )
    return added
