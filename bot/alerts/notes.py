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

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import EntryKind
from bot.domain.people import Actor
from bot.notify.outbox import post_to_followers
from bot.storage.models import TimelineRow

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


# Posting to the incident's conversations is shared with the rest of Jamie.
post = post_to_followers
