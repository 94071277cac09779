"""Timeline entries for what Jamie observes (alerts, checklist ticks, hook runs) and their
posts to the incident's conversations, written in the caller's transaction.

The domain has no entry kind for these, so they are `update` entries whose `data["event"]`
names what happened; they never touch the incident's "last update", which is the team's.
The timeline text is in the plan's language; each post is in its conversation's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EntryKind
from bot.domain.people import Actor, ConversationRef
from bot.i18n import normalise_language
from bot.notify.outbox import enqueue
from bot.storage.models import BindingRow, ConversationRow, TimelineRow

Render = Callable[[str], str]


async def note(
    session: AsyncSession, incident_id: int, *, actor: Actor, now: datetime, text: str,
    event: str, data: dict[str, Any] | None = None,
) -> TimelineRow:  # fmt: skip
    entry = TimelineRow(
        incident_id=incident_id,
        at=now,
        kind=EntryKind.UPDATE.value,
        actor=actor.name,
        transport=actor.transport.value,
        text=text,
        data={"event": event, **(data or {})},
    )
    session.add(entry)
    await session.flush()
    return entry


async def post(
    session: AsyncSession, incident_id: int, *, key: str, kind: str, render: Render,
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
