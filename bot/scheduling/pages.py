"""Pages: a message to a person on urgent channels (call, SMS, paging) that repeats every
`paging.repeat_every` until they acknowledge it, by `ack INC-n` or the link it carries.

A page ends when its person acknowledges it, when the stage it is about is done (a page
about the response stops once anyone acknowledged the incident), when the incident is
resolved, or after `paging.max_repeats`. Repeats are claimed with a compare-and-set on
`next_repeat_at`, like status updates, so two sweepers never send the same repeat, and a
machine that slept sends one late repeat rather than a burst.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Stage
from bot.domain.incident import Incident, format_ref
from bot.domain.people import Actor
from bot.domain.sla import Clock
from bot.i18n import Catalog
from bot.notify.channels.queue import Addressbook, Reach, enqueue_notification
from bot.plan.model import Channel, Plan
from bot.scheduling import journal
from bot.scheduling.due import sla_clocks
from bot.scheduling.texts import NoticeWriter
from bot.service.convert import incident_from_row
from bot.storage.models import IncidentRow
from bot.storage.sla_models import PageRow

log = logging.getLogger(__name__)

PAGE_KIND = "page"


@dataclass(frozen=True, slots=True)
class Acknowledged:
    incident_ref: str
    contact: str
    name: str
    count: int


class Pages:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        writer: NoticeWriter,
        book: Addressbook,
        *,
        public_url: str,
        clock: Callable[[], datetime],
        on_notify: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._writer = writer
        self._book = book
        self._public_url = public_url.rstrip("/")
        self._now = clock
        self._on_notify = on_notify or (lambda: None)

    def ack_url(self, token: str) -> str:
        return f"{self._public_url}/pages/{token}"

    # -- opening (inside the sweep's transaction) -------------------------------------------

    async def open(
        self,
        session: AsyncSession,
        *,
        key: str,
        incident: Incident,
        clock: Clock | None,
        reason: str,
        contacts: tuple[str, ...],
        channels: tuple[Channel, ...],
        now: datetime,
    ) -> Reach:
        reach = Reach()
        urgent = set(self._plan.paging.urgent_channels)
        for contact in contacts:
            reachable = [ch for ch in channels if self._book.address(contact, ch)]
            if not reachable:
                reach.unreachable.append(contact)
                continue
            repeating = [ch.value for ch in reachable if ch in urgent]
            page_id, token = await self._insert(
                session,
                key=f"{key}:{contact}",
                incident=incident,
                contact=contact,
                reason=reason,
                stage=clock.stage if clock else None,
                channels=repeating,
                now=now,
            )
            if page_id is None:
                continue
            await self._send(
                session, page_id, token, incident, clock, reason, contact, reachable, 0, now
            )
            reach.queued[contact] = reachable
        return reach

    async def _insert(
        self,
        session: AsyncSession,
        *,
        key: str,
        incident: Incident,
        contact: str,
        reason: str,
        stage: Stage | None,
        channels: list[str],
        now: datetime,
    ) -> tuple[int | None, str]:
        token = secrets.token_urlsafe(24)
        repeats = channels and self._plan.paging.max_repeats > 0
        values = {
            "dedupe_key": key[:200],
            "incident_id": incident.number,
            "contact": contact,
            "reason": reason,
            "stage": stage.value if stage else None,
            "channels": channels,
            "token": token,
            "subject": f"{incident.ref} {reason}",
            "created_at": now,
            "next_repeat_at": now + self._plan.paging.repeat_every if repeats else None,
            "repeats": 0,
        }
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        page_id = await session.scalar(
            insert(PageRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(PageRow.id)
        )
        return page_id, token

    async def _send(
        self,
        session: AsyncSession,
        page_id: int,
        token: str,
        incident: Incident,
        clock: Clock | None,
        reason: str,
        contact: str,
        channels: list[Channel],
        number: int,
        now: datetime,
    ) -> None:
        language = self._book.language(contact)
        subject, text = self._writer.page(
            incident, clock, reason, self.ack_url(token), now, language
        )
        if number:
            text = self._writer.repeat(text, number, language)
        for channel in channels:
            address = self._book.address(contact, channel)
            if address is None:
                continue
            await enqueue_notification(
                session,
                key=f"page:{page_id}:{number}:{channel.value}",
                incident_id=incident.number,
                contact=contact,
                channel=channel,
                address=address,
                language=language,
                kind=PAGE_KIND,
                subject=subject,
                text=text,
                now=now,
                page_id=page_id,
                payload={
                    "ack_url": self.ack_url(token),
                    "severity": incident.severity.value,
                    "repeat": number,
                },
            )

    # -- repeating (a leader job) -----------------------------------------------------------

    async def next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(func.min(PageRow.next_repeat_at)).where(PageRow.closed_at.is_(None))
            )

    async def repeat_due(self, now: datetime) -> int:
        """Send every repeat that is due; returns the pages repeated."""
        async with self._sessions() as session:
            due = (
                await session.execute(
                    select(PageRow.id, PageRow.next_repeat_at).where(
                        PageRow.next_repeat_at <= now, PageRow.closed_at.is_(None)
                    )
                )
            ).all()
        repeated = 0
        for page_id, slot in due:
            if slot is None:
                continue
            repeated += int(await self._repeat_one(page_id, slot, now))
        if repeated:
            self._on_notify()
        return repeated

    async def _repeat_one(self, page_id: int, slot: datetime, now: datetime) -> bool:
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(PageRow)
                .where(PageRow.id == page_id, PageRow.next_repeat_at == slot)
                .values(
                    next_repeat_at=now + self._plan.paging.repeat_every,
                    repeats=PageRow.repeats + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            page = await session.get(PageRow, page_id)
            row = await session.get(IncidentRow, page.incident_id) if page else None
            if page is None or row is None:
                return False
            await session.refresh(page)
            incident = incident_from_row(row)
            ending = self._ending(page, incident, now)
            if ending is not None:
                page.next_repeat_at, page.closed_at, page.close_reason = None, now, ending
                return False
            clock = self._clock(incident, page.stage, now)
            channels = [Channel(c) for c in page.channels]
            await self._send(
                session,
                page.id,
                page.token,
                incident,
                clock,
                page.reason,
                page.contact,
                channels,
                page.repeats,
                now,
            )
        log.info(
            "page %d for %s repeated (%d)", page_id, format_ref(page.incident_id), page.repeats
        )
        return True

    def _ending(self, page: PageRow, incident: Incident, now: datetime) -> str | None:
        if not incident.is_active:
            return "resolved"
        clock = self._clock(incident, page.stage, now)
        if page.stage and (clock is None or not clock.is_open):
            return "stage_done"
        if page.repeats > self._plan.paging.max_repeats:
            return "exhausted"
        return None

    def _clock(self, incident: Incident, stage: str | None, now: datetime) -> Clock | None:
        if stage is None:
            return None
        return next((c for c in sla_clocks(incident, self._plan, now) if c.stage == stage), None)

    # -- acknowledging ----------------------------------------------------------------------

    async def describe(self, token: str) -> Acknowledged | None:
        """The open page a token names (for the ack link's confirmation page)."""
        async with self._sessions() as session:
            page = await session.scalar(select(PageRow).where(PageRow.token == token))
        if page is None or page.acked_at is not None:
            return None
        return Acknowledged(
            format_ref(page.incident_id), page.contact, self._book.name(page.contact), 0
        )

    def language_of(self, contact: str) -> str:
        return self._book.language(contact)

    async def acknowledge_token(self, token: str, *, via: str = "link") -> Acknowledged | None:
        """The person the page went to acknowledged it; None for an unknown or used token."""
        async with self._sessions.begin() as session:
            page = await session.scalar(select(PageRow).where(PageRow.token == token))
            if page is None or page.acked_at is not None:
                return None
            name = self._book.name(page.contact)
            count = await self._ack(session, page.incident_id, page.contact, name, via)
        return Acknowledged(format_ref(page.incident_id), page.contact, name, count)

    async def acknowledge_for(self, actor: Actor, number: int) -> Acknowledged | None:
        """`ack INC-n` by a responder whose plan entry names their contact."""
        contact = self.contact_of(actor)
        if contact is None:
            return None
        async with self._sessions.begin() as session:
            count = await self._ack(session, number, contact, actor.name, actor.transport.value)
        if not count:
            return None
        return Acknowledged(format_ref(number), contact, actor.name, count)

    def contact_of(self, actor: Actor) -> str | None:
        person = self._plan.responders.get(actor.responder_key or "")
        return person.contact if person else None

    async def _ack(
        self, session: AsyncSession, number: int, contact: str, name: str, via: str
    ) -> int:
        now = self._now()
        result = await session.execute(
            update(PageRow)
            .where(
                PageRow.incident_id == number,
                PageRow.contact == contact,
                PageRow.acked_at.is_(None),
                PageRow.closed_at.is_(None),
            )
            .values(
                acked_at=now,
                acked_by=name,
                next_repeat_at=None,
                closed_at=now,
                close_reason="acknowledged",
            )
            .execution_options(synchronize_session=False)
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            language = self._plan.default_language
            text = Catalog(language)("notify.page_acked", name=name, ref=format_ref(number))
            await journal.note(
                session,
                number,
                now=now,
                text=text,
                event="page_acked",
                data={"contact": contact, "via": via, "pages": count},
            )
            log.info(
                "%d page(s) for %s acknowledged by contact %s", count, format_ref(number), contact
            )
        return count
