"""What Jamie itself records and says about an incident: timeline notes and posts to the
incident's conversations, written in the caller's transaction.

The domain has no entry kind for clocks, pages or flags, so these are `update` entries
whose `data["event"]` names what happened (the convention bot/alerts uses too); they never
touch the incident's "last update", which is the team's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EntryKind, Transport
from bot.domain.people import SYSTEM_ACTOR, Actor, ConversationRef
from bot.i18n import normalise_language
from bot.notify.outbox import enqueue
from bot.storage.models import BindingRow, ConversationRow, TimelineRow


async def note(
    session: AsyncSession,
    incident_id: int,
    *,
    now: datetime,
    text: str,
    event: str,
    actor: Actor = SYSTEM_ACTOR,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        TimelineRow(
            incident_id=incident_id,
            at=now,
            kind=EntryKind.UPDATE.value,
            actor=actor.name,
            transport=(actor.transport or Transport.SYSTEM).value,
            text=text,
            data={"event": event, **(data or {})},
        )
    )


async def post(
    session: AsyncSession,
    incident_id: int,
    *,
    key: str,
    kind: str,
    render: Callable[[str], str],
    now: datetime,
    default_language: str,
    skip: ConversationRef | None = None,
) -> bool:
    """Queue `render(language)` to every conversation following the incident but `skip`
    (where the command was typed: it has its reply); `key` makes it idempotent."""
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
        )
    return added
