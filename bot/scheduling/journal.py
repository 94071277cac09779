"""What Jamie itself records and says about an incident: timeline notes and posts to the
incident's conversations, written in the caller's transaction.

The domain has no entry kind for clocks, pages or flags, so these are `update` entries
whose `data["event"]` names what happened (the convention bot/alerts uses too); they never
touch the incident's "last update", which is the team's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EntryKind, Transport
from bot.domain.people import SYSTEM_ACTOR, Actor
from bot.notify.outbox import post_to_followers
from bot.storage.models import TimelineRow


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


# Posting to the incident's conversations is shared with the rest of Jamie.
post = post_to_followers
