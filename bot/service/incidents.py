"""The incident use cases. Each public method is one transaction: the state change, its
timeline entry and the outbox rows that tell the incident's other conversations."""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from bot.domain.enums import EntryKind, Severity, Status, Transport
from bot.domain.errors import (
    AmbiguousIncident,
    DomainError,
    IllegalTransition,
    IncidentNotFound,
    SeverityUnchanged,
)
from bot.domain.incident import Incident, format_ref
from bot.domain.lifecycle import Action, next_status
from bot.domain.people import Actor, ConversationRef
from bot.i18n import normalise_language
from bot.notify.outbox import conversation_row, enqueue
from bot.plan import Plan
from bot.render.text import Renderer
from bot.service.convert import entry_from_row, incident_from_row
from bot.storage.models import BindingRow, ConversationRow, IncidentRow, OutboxRow, TimelineRow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Mutation = Callable[[IncidentRow, datetime], TimelineRow]
_RETRIES = 8
_BACKOFF_CAP = 0.25  # seconds; full jitter below it, doubling per attempt
OPENED_KIND = "incident_opened"


def utcnow() -> datetime:
    return datetime.now(UTC)


class IncidentService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        renderer: Renderer,
        *,
        clock: Clock = utcnow,
        status_interval: timedelta | None = None,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._renderer = renderer
        self._now = clock
        self._interval_override = status_interval
        self._on_outbox = on_outbox or (lambda: None)
        self._opening_watchers: tuple[ConversationRef, ...] = ()
        self._open_listeners: tuple[Callable[[Incident], None], ...] = ()

    def status_interval(self, severity: Severity) -> timedelta:
        return self._interval_override or self._plan.status_interval(severity)

    # -- reading -------------------------------------------------------------------------

    async def get(self, number: int, *, with_timeline: bool = False) -> Incident:
        async with self._sessions() as session:
            row = await self._load(session, number, with_timeline=with_timeline)
            return incident_from_row(row, with_timeline=with_timeline)

    async def list(self, *, active_only: bool = True, limit: int = 50) -> builtins.list[Incident]:
        query = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
        if active_only:
            query = query.where(IncidentRow.status != Status.RESOLVED.value)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
            return [incident_from_row(row) for row in rows]

    async def resolve_ref(self, number: int | None, conversation: ConversationRef | None) -> int:
        """The incident a command means: the one named, or the conversation's only active one."""
        if number is not None:
            return number
        async with self._sessions() as session:
            active = await self._active_in(session, conversation) if conversation else []
        if len(active) == 1:
            return active[0]
        raise AmbiguousIncident(candidates=", ".join(format_ref(n) for n in active))

    async def _active_in(
        self, session: AsyncSession, conversation: ConversationRef
    ) -> builtins.list[int]:
        query = (
            select(IncidentRow.id)
            .join(BindingRow, BindingRow.incident_id == IncidentRow.id)
            .join(ConversationRow, ConversationRow.id == BindingRow.conversation_id)
            .where(
                ConversationRow.transport == conversation.transport.value,
                ConversationRow.address == conversation.address,
                IncidentRow.status != Status.RESOLVED.value,
            )
            .order_by(IncidentRow.id)
        )
        return list((await session.scalars(query)).all())

    # -- changing ------------------------------------------------------------------------

    async def open(
        self,
        actor: Actor,
        *,
        severity: Severity,
        title: str,
        departments: tuple[str, ...] = (),
        patient_impact: bool = False,
        conversation: ConversationRef | None = None,
        started_at: datetime | None = None,
        detected_at: datetime | None = None,
        data: dict[str, Any] | None = None,
    ) -> Incident:
        now = self._now()
        detected = detected_at or now
        async with self._sessions.begin() as session:
            row = IncidentRow(
                title=title,
                severity=severity.value,
                status=Status.DECLARED.value,
                departments=list(departments),
                patient_impact=patient_impact,
                commander=None,
                declared_by=actor.name,
                source=actor.transport.value,
                started_at=min(started_at or detected, detected),
                detected_at=detected,
                declared_at=now,
                severity_since=now,
                next_status_at=now + self.status_interval(severity),
                reopen_count=0,
            )
            session.add(row)
            await session.flush()
            entry = self._entry(
                row, EntryKind.DECLARED, actor, now, text=title,
                data={"severity": severity.value, **(data or {})},
            )  # fmt: skip
            session.add(entry)
            if conversation is not None:
                await self._bind(session, row.id, conversation, now)
            snapshot = incident_from_row(row)
            told = await self._announce_opening(session, snapshot, entry, now)
        log.info("incident %s opened severity=%s via %s", snapshot.ref, severity, actor.transport)
        if told:
            self._on_outbox()
        for listener in self._open_listeners:
            listener(snapshot)
        return snapshot

    def on_opened(self, listener: Callable[[Incident], None]) -> None:
        """Call `listener` (which must not block) after each incident's opening is committed."""
        self._open_listeners = (*self._open_listeners, listener)

    def announce_openings(self, conversation: ConversationRef) -> None:
        """Queue an `incident_opened` message to `conversation` for every incident opened from
        now on, in the opening's own transaction (Slack's digest channel: its sender then makes
        the incident's channel, so incidents opened anywhere get one, durably)."""
        if conversation not in self._opening_watchers:
            self._opening_watchers = (*self._opening_watchers, conversation)

    async def _announce_opening(
        self, session: AsyncSession, incident: Incident, entry: TimelineRow, now: datetime
    ) -> bool:
        added = False
        for watcher in self._opening_watchers:
            conv = await conversation_row(session, watcher, now=now)
            language = normalise_language(conv.language, self._plan.default_language)
            added |= await enqueue(
                session,
                dedupe_key=f"opened:{incident.number}:{conv.id}",
                conversation_id=conv.id,
                incident_id=incident.number,
                kind=OPENED_KIND,
                text=self._renderer.event(incident, entry_from_row(entry), now, language),
                now=now,
            )
        return added

    async def bind(
        self, number: int, conversation: ConversationRef, language: str | None = None
    ) -> None:
        """Follow an incident in another conversation (a Slack channel, a Telegram topic)."""
        async with self._sessions.begin() as session:
            await self._load(session, number)
            await self._bind(session, number, conversation, self._now(), language)

    async def active_in(self, conversation: ConversationRef) -> builtins.list[Incident]:
        """The active incidents followed in `conversation`, oldest first."""
        async with self._sessions() as session:
            numbers = await self._active_in(session, conversation)
            rows = [await self._load(session, number) for number in numbers]
            return [incident_from_row(row) for row in rows]

    async def unbind(self, conversation: ConversationRef) -> builtins.list[int]:
        """Stop following every incident in `conversation` (Jamie was removed from it);
        returns the incident numbers it followed."""
        async with self._sessions.begin() as session:
            conv = await self._conversation(session, conversation)
            if conv is None:
                return []
            rows = (
                await session.scalars(
                    select(BindingRow).where(BindingRow.conversation_id == conv.id)
                )
            ).all()
            for row in rows:
                await session.delete(row)
            return sorted(row.incident_id for row in rows)

    async def move_conversation(self, old: ConversationRef, new: ConversationRef) -> None:
        """The conversation changed address (a Telegram group upgraded to a supergroup):
        its incidents and undelivered messages follow it to `new`."""
        async with self._sessions.begin() as session:
            source = await self._conversation(session, old)
            if source is None:
                return
            target = await self._conversation(session, new)
            if target is None:
                source.address = new.address
                return
            for binding in (
                await session.scalars(
                    select(BindingRow).where(BindingRow.conversation_id == source.id)
                )
            ).all():
                if await session.get(BindingRow, (binding.incident_id, target.id)) is None:
                    session.add(
                        BindingRow(
                            incident_id=binding.incident_id,
                            conversation_id=target.id,
                            created_at=binding.created_at,
                        )
                    )
                await session.delete(binding)
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.conversation_id == source.id, OutboxRow.delivered_at.is_(None))
                .values(conversation_id=target.id)
            )

    @staticmethod
    async def _conversation(session: AsyncSession, ref: ConversationRef) -> ConversationRow | None:
        return await session.scalar(
            select(ConversationRow).where(
                ConversationRow.transport == ref.transport.value,
                ConversationRow.address == ref.address,
            )
        )

    async def acknowledge(
        self, actor: Actor, number: int, origin: ConversationRef | None
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.status = next_status(Status(row.status), Action.ACKNOWLEDGE).value
            row.acknowledged_at = now
            row.acknowledged_by = actor.name
            if row.commander is None:
                row.commander = actor.name
            return self._entry(row, EntryKind.ACKNOWLEDGED, actor, now)

        return await self._change(number, origin, mutate)

    async def change_severity(
        self, actor: Actor, number: int, origin: ConversationRef | None, *,
        target: Severity | None, raise_it: bool, reason: str = "",
    ) -> Incident:  # fmt: skip
        """Escalate (raise_it) or downgrade; without a target, one level in that direction."""

        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            if Status(row.status) is Status.RESOLVED:
                action = "escalate" if raise_it else "downgrade"
                raise IllegalTransition(action=action, status=Status.RESOLVED.value)
            current = Severity(row.severity)
            wanted = target or (current.raised() if raise_it else current.lowered())
            if wanted is None:
                raise SeverityUnchanged(severity=current.value, limit=True)
            if wanted == current:
                raise SeverityUnchanged(severity=current.value, wanted=wanted.value)
            if (wanted.rank < current.rank) != raise_it:
                raise SeverityUnchanged(
                    severity=current.value, wanted=wanted.value, wrong_direction=True
                )
            row.severity = wanted.value
            row.severity_since = now
            sooner = now + self.status_interval(wanted)
            if row.next_status_at is None or sooner < row.next_status_at:
                row.next_status_at = sooner
            kind = EntryKind.ESCALATED if raise_it else EntryKind.DOWNGRADED
            data = {"severity": wanted.value, "previous": current.value}
            return self._entry(row, kind, actor, now, text=reason or None, data=data)

        return await self._change(number, origin, mutate)

    async def add_update(
        self, actor: Actor, number: int, origin: ConversationRef | None, text: str
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.last_update = text
            row.last_update_at = now
            return self._entry(row, EntryKind.UPDATE, actor, now, text=text)

        return await self._change(number, origin, mutate)

    async def mitigate(
        self, actor: Actor, number: int, origin: ConversationRef | None, text: str = ""
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.status = next_status(Status(row.status), Action.MITIGATE).value
            self._fill_acknowledged(row, actor, now)
            row.mitigated_at = now
            if text:
                row.last_update, row.last_update_at = text, now
            return self._entry(row, EntryKind.MITIGATED, actor, now, text=text or None)

        return await self._change(number, origin, mutate)

    async def resolve(
        self, actor: Actor, number: int, origin: ConversationRef | None, root_cause: str
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.status = next_status(Status(row.status), Action.RESOLVE).value
            self._fill_acknowledged(row, actor, now)
            row.mitigated_at = row.mitigated_at or now
            row.resolved_at = now
            row.root_cause = root_cause
            row.next_status_at = None
            return self._entry(row, EntryKind.RESOLVED, actor, now, text=root_cause)

        return await self._change(number, origin, mutate)

    async def reopen(
        self, actor: Actor, number: int, origin: ConversationRef | None, reason: str = ""
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.status = next_status(Status(row.status), Action.REOPEN).value
            previous = {"resolved_at": row.resolved_at.isoformat() if row.resolved_at else ""}
            row.mitigated_at = None
            row.resolved_at = None
            row.severity_since = now
            row.reopen_count += 1
            row.next_status_at = now + self.status_interval(Severity(row.severity))
            return self._entry(
                row, EntryKind.REOPENED, actor, now, text=reason or None, data=previous
            )

        return await self._change(number, origin, mutate)

    async def assign(
        self, actor: Actor, number: int, origin: ConversationRef | None, person: str
    ) -> Incident:
        def mutate(row: IncidentRow, now: datetime) -> TimelineRow:
            row.commander = person
            return self._entry(row, EntryKind.ASSIGNED, actor, now, text=person)

        return await self._change(number, origin, mutate)

    # -- internals -----------------------------------------------------------------------

    async def _change(
        self, number: int, origin: ConversationRef | None, mutate: Mutation
    ) -> Incident:
        try:
            for attempt in range(1, _RETRIES + 1):
                try:
                    return await self._change_once(number, origin, mutate)
                except StaleDataError:
                    log.info(
                        "incident %s changed concurrently; retry %d", format_ref(number), attempt
                    )
                    # Full jitter so a burst of writers to one incident spreads out.
                    await asyncio.sleep(random.uniform(0, min(_BACKOFF_CAP, 0.005 * 2**attempt)))
            return await self._change_once(number, origin, mutate)
        except DomainError as exc:
            exc.params.setdefault("ref", format_ref(number))
            raise

    async def _change_once(
        self, number: int, origin: ConversationRef | None, mutate: Mutation
    ) -> Incident:
        announced = False
        async with self._sessions.begin() as session:
            row = await self._load(session, number)
            now = self._now()
            entry = mutate(row, now)
            session.add(entry)
            await session.flush()
            snapshot = incident_from_row(row)
            announced = await self._announce(session, snapshot, entry, origin, now)
        log.info("incident %s %s", snapshot.ref, entry.kind)
        if announced:
            self._on_outbox()
        return snapshot

    async def _load(
        self, session: AsyncSession, number: int, *, with_timeline: bool = False
    ) -> IncidentRow:
        query = select(IncidentRow).where(IncidentRow.id == number)
        if with_timeline:
            query = query.options(selectinload(IncidentRow.timeline))
        row = await session.scalar(query)
        if row is None:
            raise IncidentNotFound(ref=format_ref(number))
        return row

    async def _bind(
        self, session: AsyncSession, number: int, conversation: ConversationRef, now: datetime,
        language: str | None = None,
    ) -> None:  # fmt: skip
        conv = await conversation_row(session, conversation, now=now, language=language)
        exists = await session.get(BindingRow, (number, conv.id))
        if exists is None:
            session.add(BindingRow(incident_id=number, conversation_id=conv.id, created_at=now))

    async def _announce(
        self, session: AsyncSession, incident: Incident, entry: TimelineRow,
        origin: ConversationRef | None, now: datetime,
    ) -> bool:  # fmt: skip
        """Tell every other conversation following the incident what changed."""
        query = (
            select(ConversationRow)
            .join(BindingRow, BindingRow.conversation_id == ConversationRow.id)
            .where(BindingRow.incident_id == incident.number)
        )
        added = False
        for conv in (await session.scalars(query)).all():
            if origin and (conv.transport, conv.address) == (
                origin.transport.value,
                origin.address,
            ):
                continue
            language = normalise_language(conv.language, self._plan.default_language)
            text = self._renderer.event(incident, entry_from_row(entry), now, language)
            added |= await enqueue(
                session,
                dedupe_key=f"event:{entry.id}:{conv.id}",
                conversation_id=conv.id,
                incident_id=incident.number,
                kind=f"event.{entry.kind}",
                text=text,
                now=now,
                payload={"entry_id": entry.id},
            )
        return added

    @staticmethod
    def _fill_acknowledged(row: IncidentRow, actor: Actor, now: datetime) -> None:
        if row.acknowledged_at is None:
            row.acknowledged_at = now
            row.acknowledged_by = actor.name
        if row.commander is None:
            row.commander = actor.name

    @staticmethod
    def _entry(
        row: IncidentRow, kind: EntryKind, actor: Actor, now: datetime, *,
        text: str | None = None, data: dict[str, Any] | None = None,
    ) -> TimelineRow:  # fmt: skip
        return TimelineRow(
            incident_id=row.id,
            at=now,
            kind=kind.value,
            actor=actor.name,
            transport=actor.transport.value if actor.transport else Transport.SYSTEM.value,
            text=text,
            data=data or {},
        )
