"""The clock sweep: for each incident whose schedule is due (or that changed since it was
last looked at), fire what its agenda says is due, once, and store when to look next.

Each item is claimed by inserting its key into `schedule_marks` in the transaction that
writes its effects (timeline, conversation posts, pages, notifications), so a key fires
once across restarts and instances: a concurrent sweeper's insert waits for ours and then
finds the key taken. `incident_schedules.next_at` holds the next moment anything can fall
due, and `seen_version` the incident's version then: any change to the incident (ack,
escalation, reopening) bumps the version, and the next sweep recomputes at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import EntryKind, Status
from bot.domain.incident import Incident
from bot.notify.channels.queue import Addressbook, Reach, notify_people
from bot.plan.model import Plan, RegulatoryFlag
from bot.scheduling import journal
from bot.scheduling.due import Due, DueKind, agenda
from bot.scheduling.pages import Pages
from bot.scheduling.texts import NoticeWriter
from bot.service.convert import incident_from_row
from bot.storage.models import IncidentRow, TimelineRow
from bot.storage.sla_models import (
    IncidentFlagRow,
    IncidentScheduleRow,
    RegulatoryNoticeRow,
    ScheduleMarkRow,
)

log = logging.getLogger(__name__)

WORKAROUND_EVENT = "workaround"


@dataclass(frozen=True, slots=True)
class SweepResult:
    fired: int
    next_at: datetime | None


class ClockSweep:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        writer: NoticeWriter,
        book: Addressbook,
        pages: Pages,
        *,
        on_outbox: Callable[[], None] | None = None,
        on_notify: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._writer = writer
        self._book = book
        self._pages = pages
        self._on_outbox = on_outbox or (lambda: None)
        self._on_notify = on_notify or (lambda: None)

    async def run(self, now: datetime) -> SweepResult:
        """Fire everything due at `now`; returns how many items fired and the next moment."""
        fired = 0
        for number in await self._candidates(now):
            try:
                fired += await self._evaluate(number, now)
            except Exception:
                log.exception("clock sweep failed for incident %d; the next sweep retries", number)
        if fired:
            self._on_outbox()
            self._on_notify()
        return SweepResult(fired, await self.next_due())

    async def next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(select(func.min(IncidentScheduleRow.next_at)))

    async def _candidates(self, now: datetime) -> list[int]:
        schedule = IncidentScheduleRow
        query = (
            select(IncidentRow.id)
            .outerjoin(schedule, schedule.incident_id == IncidentRow.id)
            .where(
                or_(
                    and_(
                        schedule.incident_id.is_(None),
                        IncidentRow.status != Status.RESOLVED.value,
                    ),
                    schedule.seen_version != IncidentRow.version,
                    schedule.next_at <= now,
                )
            )
            .order_by(IncidentRow.id)
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def _evaluate(self, number: int, now: datetime) -> int:
        fired = 0
        async with self._sessions.begin() as session:
            row = await session.get(IncidentRow, number)
            if row is None:
                return 0
            incident = incident_from_row(row)
            flags, notified = await self._regulatory_state(session, number)
            plan = agenda(incident, self._plan, now, flags=flags, notified=notified)
            for item in plan.due:
                if await self._claim(session, number, item, now):
                    await self._fire(session, incident, item, now)
                    fired += 1
            await self._store_schedule(session, number, plan.next_at, row.version, now)
        if fired:
            log.info("incident %s: %d scheduled item(s) fired", incident.ref, fired)
        return fired

    async def _regulatory_state(
        self, session: AsyncSession, number: int
    ) -> tuple[dict[RegulatoryFlag, datetime], set[str]]:
        flags = {
            RegulatoryFlag(f.flag): f.set_at
            for f in await session.scalars(
                select(IncidentFlagRow).where(IncidentFlagRow.incident_id == number)
            )
        }
        notified = set(
            await session.scalars(
                select(RegulatoryNoticeRow.regulator).where(
                    RegulatoryNoticeRow.incident_id == number
                )
            )
        )
        return flags, notified

    async def _claim(self, session: AsyncSession, number: int, item: Due, now: datetime) -> bool:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        claimed = await session.scalar(
            insert(ScheduleMarkRow)
            .values(
                key=f"{number}:{item.key}"[:200],
                incident_id=number,
                kind=item.kind.value,
                due_at=item.at,
                fired_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(ScheduleMarkRow.id)
        )
        return claimed is not None

    async def _store_schedule(
        self,
        session: AsyncSession,
        number: int,
        next_at: datetime | None,
        version: int,
        now: datetime,
    ) -> None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        values = {"next_at": next_at, "seen_version": version, "evaluated_at": now}
        await session.execute(
            insert(IncidentScheduleRow)
            .values(incident_id=number, **values)
            .on_conflict_do_update(index_elements=["incident_id"], set_=values)
        )

    # -- firing -----------------------------------------------------------------------------

    async def _fire(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        if item.kind is DueKind.WARNING:
            await self._warning(session, incident, item, now)
        elif item.kind is DueKind.BREACH:
            await self._breach(session, incident, item, now)
        elif item.kind is DueKind.ESCALATION:
            await self._escalation(session, incident, item, now)
        elif item.kind in (DueKind.CADENCE, DueKind.RESOLUTION):
            await self._stakeholders(session, incident, item, now)
        elif item.kind is DueKind.REMINDER:
            await self._reminder(session, incident, item, now)

    def _default(self) -> str:
        return self._plan.default_language

    async def _say(
        self,
        session: AsyncSession,
        incident: Incident,
        item: Due,
        now: datetime,
        render: Callable[[str], str],
        *,
        data: dict[str, object] | None = None,
    ) -> None:
        """The same words on the timeline (plan language) and in every conversation."""
        await journal.note(
            session,
            incident.number,
            now=now,
            text=render(self._default()),
            event=item.kind.value,
            data={"item": item.key, **(data or {})},
        )
        await journal.post(
            session,
            incident.number,
            key=f"{item.kind.value}:{incident.number}:{item.key}",
            kind=item.kind.value,
            render=render,
            now=now,
            default_language=self._default(),
        )

    async def _warning(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        assert item.clock is not None
        clock = item.clock
        await self._say(
            session,
            incident,
            item,
            now,
            lambda lang: self._writer.warning(incident, clock, now, lang),
            data={"stage": clock.stage.value},
        )

    async def _breach(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        assert item.clock is not None
        clock = item.clock
        reach = await self._pages.open(
            session,
            key=f"breach:{incident.number}:{item.key}",
            incident=incident,
            clock=clock,
            reason="breach",
            contacts=item.contacts,
            channels=item.channels,
            now=now,
        )

        def render(lang: str) -> str:
            head = self._writer.breach(incident, clock, item.tier, now, lang)
            tail = self._writer.paged(reach.queued, reach.unreachable, lang)
            return f"{head}\n{tail}" if tail else head

        await self._say(
            session,
            incident,
            item,
            now,
            render,
            data={"stage": clock.stage.value, "tier": item.tier, **_reach_data(reach)},
        )

    async def _escalation(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        reach = await self._pages.open(
            session,
            key=f"esc:{incident.number}:{item.key}",
            incident=incident,
            clock=item.clock if item.clock and item.clock.is_open else None,
            reason="declared",
            contacts=item.contacts,
            channels=item.channels,
            now=now,
        )

        def render(lang: str) -> str:
            head = self._writer.escalation(incident, lang)
            tail = self._writer.paged(reach.queued, reach.unreachable, lang)
            return f"{head}\n{tail}" if tail else head

        await self._say(session, incident, item, now, render, data=_reach_data(reach))

    async def _stakeholders(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        """A cadence's update, or the resolution notice: to people only, noted on the
        timeline (not posted: the team sees the incident itself)."""
        if item.kind is DueKind.RESOLUTION:
            key, sent_key = f"res:{incident.number}:{item.key}", "notify.sent_resolution"

            def render(lang: str) -> tuple[str, str]:
                return self._writer.resolution(incident, lang)
        else:
            key, sent_key = f"cad:{incident.number}:{item.key}", "notify.sent_update"
            workaround = await latest_workaround(session, incident.number)
            next_at = self._next_cadence(incident, item, now)

            def render(lang: str) -> tuple[str, str]:
                return self._writer.stakeholder_update(
                    incident,
                    now,
                    lang,
                    next_at=next_at,
                    workaround=workaround,
                    with_workaround=item.include_workarounds,
                )

        reach = await notify_people(
            session,
            self._book,
            key=key,
            incident_id=incident.number,
            contacts=item.contacts,
            channels=item.channels,
            kind=item.kind.value,
            render=render,
            now=now,
            payload={"severity": incident.severity.value},
        )
        # The timeline says "sent" only for people something was queued for.
        text = self._writer.sent(sent_key, reach.queued, self._default()) if reach.queued else ""
        tail = self._writer.paged({}, reach.unreachable, self._default())
        await journal.note(
            session,
            incident.number,
            now=now,
            text="\n".join(part for part in (text, tail) if part),
            event=item.kind.value,
            data={"item": item.key, **_reach_data(reach)},
        )

    def _next_cadence(self, incident: Incident, item: Due, now: datetime) -> datetime | None:
        for cadence in self._plan.cadences:
            if incident.severity in cadence.severities and set(item.contacts) == set(
                self._plan.expand(cadence.notify)
            ):
                return item.at + cadence.every
        return None

    async def _reminder(
        self, session: AsyncSession, incident: Incident, item: Due, now: datetime
    ) -> None:
        assert item.regulator is not None and item.deadline is not None
        regulator, deadline = item.regulator, item.deadline

        def render(lang: str) -> tuple[str, str]:
            return self._writer.reminder(incident, regulator, deadline, now, lang)

        reach = await notify_people(
            session,
            self._book,
            key=f"reg:{incident.number}:{item.key}",
            incident_id=incident.number,
            contacts=item.contacts,
            channels=item.channels,
            kind=item.kind.value,
            render=render,
            now=now,
            payload={"severity": incident.severity.value, "regulator": regulator},
        )
        await self._say(
            session,
            incident,
            item,
            now,
            lambda lang: render(lang)[1],
            data={"regulator": regulator, **_reach_data(reach)},
        )


def _reach_data(reach: Reach) -> dict[str, object]:
    return {
        "notified": {c: [ch.value for ch in chans] for c, chans in reach.queued.items()},
        "unreachable": list(reach.unreachable),
    }


async def latest_workaround(session: AsyncSession, number: int) -> str | None:
    """The newest workaround recorded with `workaround INC-n <text>`."""
    entries = await session.scalars(
        select(TimelineRow)
        .where(TimelineRow.incident_id == number, TimelineRow.kind == EntryKind.UPDATE.value)
        .order_by(TimelineRow.id.desc())
    )
    for entry in entries:
        if (entry.data or {}).get("event") == WORKAROUND_EVENT:
            return entry.text
    return None
