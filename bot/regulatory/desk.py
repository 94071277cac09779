"""Setting regulatory flags and recording notifications sent: one transaction each, with
the timeline entry, the posts to the incident's other conversations, and a nudge to the
incident's schedule so the clock sweep looks at it on its next round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.errors import DomainError, IncidentNotFound
from bot.domain.incident import format_ref
from bot.domain.people import Actor, ConversationRef
from bot.i18n import Catalog
from bot.plan.model import Plan, RegulatoryFlag
from bot.render.timefmt import TimeFormat
from bot.scheduling import journal
from bot.scheduling.sla_sweep import WORKAROUND_EVENT
from bot.storage.models import IncidentRow
from bot.storage.sla_models import IncidentFlagRow, IncidentScheduleRow, RegulatoryNoticeRow

log = logging.getLogger(__name__)


class UnknownFlag(DomainError):
    key = "regulatory.unknown_flag"


class UnknownRegulator(DomainError):
    key = "regulatory.unknown_regulator"


class NotRequired(DomainError):
    key = "regulatory.not_required"


@dataclass(frozen=True, slots=True)
class Deadline:
    regulator: str
    authority: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Flagged:
    ref: str
    flag: RegulatoryFlag
    new: bool
    deadlines: list[Deadline]


@dataclass(frozen=True, slots=True)
class Notified:
    ref: str
    authority: str
    new: bool


class RegulatoryDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        time: TimeFormat,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._time = time
        self._now = clock
        self._on_outbox = on_outbox or (lambda: None)

    def deadlines_for(self, flag: RegulatoryFlag, since: datetime) -> list[Deadline]:
        return [
            Deadline(key, rule.authority, since + rule.deadline)
            for key, rule in self._plan.regulatory.items()
            if rule.trigger is flag
        ]

    async def flag(
        self,
        actor: Actor,
        number: int,
        flag: RegulatoryFlag,
        origin: ConversationRef | None = None,
    ) -> Flagged:
        now = self._now()
        async with self._sessions.begin() as session:
            await _incident(session, number)
            existing = await session.get(IncidentFlagRow, (number, flag.value))
            if existing is not None:
                return Flagged(
                    format_ref(number), flag, False, self.deadlines_for(flag, existing.set_at)
                )
            session.add(
                IncidentFlagRow(incident_id=number, flag=flag.value, set_at=now, set_by=actor.name)
            )
            deadlines = self.deadlines_for(flag, now)

            def render(language: str) -> str:
                return self._flag_text(number, flag, deadlines, now, language)

            await self._record(
                session,
                number,
                actor,
                now,
                render,
                "regulatory_flag",
                {"flag": flag.value},
                origin,
            )
        log.info("incident %s flagged %s by %s", format_ref(number), flag, actor.transport)
        self._on_outbox()
        return Flagged(format_ref(number), flag, True, deadlines)

    def _flag_text(
        self,
        number: int,
        flag: RegulatoryFlag,
        deadlines: list[Deadline],
        now: datetime,
        language: str,
    ) -> str:
        t = Catalog(language)
        name = t(f"regulatory.flag_{flag.value}")
        if not deadlines:
            return t("regulatory.flagged_none", ref=format_ref(number), flag=name)
        items = ", ".join(
            t(
                "regulatory.deadline_item",
                authority=d.authority,
                deadline=self._time.short(d.due_at, now, language),
            )
            for d in deadlines
        )
        return t("regulatory.flagged", ref=format_ref(number), flag=name, deadlines=items)

    async def mark_notified(
        self, actor: Actor, number: int, regulator: str, origin: ConversationRef | None = None
    ) -> Notified:
        rule = self._plan.regulatory[regulator]
        now = self._now()
        async with self._sessions.begin() as session:
            await _incident(session, number)
            flags = set(
                await session.scalars(
                    select(IncidentFlagRow.flag).where(IncidentFlagRow.incident_id == number)
                )
            )
            if rule.trigger.value not in flags:
                raise NotRequired(ref=format_ref(number), authority=rule.authority)
            if await session.get(RegulatoryNoticeRow, (number, regulator)) is not None:
                return Notified(format_ref(number), rule.authority, False)
            session.add(
                RegulatoryNoticeRow(
                    incident_id=number,
                    regulator=regulator,
                    notified_at=now,
                    notified_by=actor.name,
                )
            )

            def render(language: str) -> str:
                return Catalog(language)(
                    "regulatory.notified",
                    ref=format_ref(number),
                    authority=rule.authority,
                    actor=actor.name,
                )

            await self._record(
                session,
                number,
                actor,
                now,
                render,
                "regulatory_notified",
                {"regulator": regulator},
                origin,
            )
        self._on_outbox()
        return Notified(format_ref(number), rule.authority, True)

    async def record_workaround(self, actor: Actor, number: int, text: str) -> str:
        """The workaround that department heads receive with their next update."""
        now = self._now()
        async with self._sessions.begin() as session:
            await _incident(session, number)
            await journal.note(
                session, number, now=now, text=text, event=WORKAROUND_EVENT, actor=actor
            )
        return format_ref(number)

    async def _record(
        self,
        session: AsyncSession,
        number: int,
        actor: Actor,
        now: datetime,
        render: Callable[[str], str],
        event: str,
        data: dict[str, object],
        origin: ConversationRef | None,
    ) -> None:
        language = self._plan.default_language
        await journal.note(
            session, number, now=now, text=render(language), event=event, actor=actor, data=data
        )
        await journal.post(
            session,
            number,
            key=f"{event}:{number}:{now.isoformat()}",
            kind=event,
            render=render,
            now=now,
            default_language=language,
            skip=origin,
        )
        # Look at the incident's clocks on the next round, not at their old next moment.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(IncidentScheduleRow)
            .values(incident_id=number, next_at=now, seen_version=-1, evaluated_at=now)
            .on_conflict_do_update(index_elements=["incident_id"], set_={"next_at": now})
        )


async def _incident(session: AsyncSession, number: int) -> IncidentRow:
    row = await session.get(IncidentRow, number)
    if row is None:
        raise IncidentNotFound(ref=format_ref(number))
    return row
