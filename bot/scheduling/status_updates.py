"""Status updates every N minutes for every active incident, in every conversation bound to it.

The schedule lives in the database (`incidents.next_status_at`), not in the scheduler's
memory: a sweep claims each due incident with a compare-and-set on that column and writes
the posts to the outbox in the same transaction. So a restart rebuilds nothing by hand,
two instances never post the same update twice (the loser's UPDATE matches no row, and
the outbox key `status:<incident>:<slot>` is unique), and a machine that slept through
several slots posts one late update and moves on rather than a burst. Slots stay on the
incident's grid (slot + interval), so lateness of a sweep never accumulates into drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Severity, Status
from bot.i18n import normalise_language
from bot.notify.dispatcher import STATUS_KIND
from bot.notify.outbox import enqueue
from bot.plan import Plan
from bot.render.text import Renderer
from bot.service.convert import incident_from_row
from bot.storage.models import BindingRow, ConversationRow, IncidentRow

log = logging.getLogger(__name__)


class StatusUpdates:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        renderer: Renderer,
        *,
        interval: Callable[[Severity], timedelta],
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._renderer = renderer
        self._interval = interval

    async def next_due(self) -> datetime | None:
        """The earliest update still to post (for the scheduler's precise wake-up)."""
        async with self._sessions() as session:
            return await session.scalar(
                select(func.min(IncidentRow.next_status_at)).where(
                    IncidentRow.status != Status.RESOLVED.value
                )
            )

    async def post_due(self, now: datetime) -> int:
        """Claim every incident whose update is due and queue its posts; returns posts queued."""
        async with self._sessions() as session:
            due = (
                await session.execute(
                    select(IncidentRow.id, IncidentRow.next_status_at).where(
                        IncidentRow.status != Status.RESOLVED.value,
                        IncidentRow.next_status_at.is_not(None),
                        IncidentRow.next_status_at <= now,
                    )
                )
            ).all()
        queued = 0
        for number, slot in due:
            if slot is None:
                continue
            queued += await self._post_one(number, slot, now)
        return queued

    async def _post_one(self, number: int, slot: datetime, now: datetime) -> int:
        async with self._sessions.begin() as session:
            row = await session.get(IncidentRow, number)
            if row is None or row.next_status_at != slot or not Status(row.status).is_active:
                return 0
            following = _following(slot, now, self._interval(Severity(row.severity)))
            claimed = await session.execute(
                update(IncidentRow)
                .where(IncidentRow.id == number, IncidentRow.next_status_at == slot)
                .values(next_status_at=following, version=IncidentRow.version + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            await session.refresh(row)
            incident = incident_from_row(row)
            conversations = (
                await session.scalars(
                    select(ConversationRow)
                    .join(BindingRow, BindingRow.conversation_id == ConversationRow.id)
                    .where(BindingRow.incident_id == number)
                )
            ).all()
            queued = 0
            for conv in conversations:
                language = normalise_language(conv.language, self._plan.default_language)
                added = await enqueue(
                    session,
                    dedupe_key=f"status:{number}:{slot.isoformat()}:{conv.id}",
                    conversation_id=conv.id,
                    incident_id=number,
                    kind=STATUS_KIND,
                    text=self._renderer.status_update(incident, now, language),
                    now=now,
                    payload={
                        "slot": slot.isoformat(),
                        "late_seconds": int((now - slot).total_seconds()),
                    },
                )
                queued += int(added)
        if queued:
            log.info("status update for %s queued to %d conversation(s)", incident.ref, queued)
        return queued


def _following(slot: datetime, now: datetime, interval: timedelta) -> datetime:
    """The next slot on the incident's own grid, so a sweep that ran a second late does
    not push every later update a second further; after a longer gap (a machine that
    slept), one interval from now."""
    on_grid = slot + interval
    return on_grid if on_grid > now else now + interval
