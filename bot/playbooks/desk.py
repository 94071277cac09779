"""The checklist use cases behind `checklist`, `tick`, `run` and `confirm`. Each change is
one transaction with its timeline entry and its posts to the incident's other conversations.

A hook runs in two moves: `run` records a request and shows exactly what will run;
`confirm` (a commander, per bot/commands/policy.py) claims that request with a
compare-and-set, so two confirmations never run it twice, then runs it and records the
outcome. A request older than `confirm_within` must be asked for again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import notes
from bot.domain.errors import DomainError
from bot.domain.incident import Incident, format_ref
from bot.domain.people import Actor, ConversationRef
from bot.i18n import Catalog
from bot.plan import Plan
from bot.plan.durations import format_duration
from bot.playbooks import checklists
from bot.playbooks.checklists import ChecklistItem
from bot.playbooks.hooks import HookError, HookResult, HookRunner
from bot.service.incidents import IncidentService
from bot.storage.alert_models import ChecklistItemRow, HookRunRow

log = logging.getLogger(__name__)

CONFIRM_WITHIN = timedelta(minutes=10)


class PlaybooksUnavailable(DomainError):
    key = "playbook.not_configured"


class StepNotFound(DomainError):
    key = "playbook.no_such_step"


class StepAlreadyTicked(DomainError):
    key = "playbook.already_ticked"


class StepHasNoHook(DomainError):
    key = "playbook.no_hook"


class HookUnavailable(DomainError):
    key = "playbook.hook_unavailable"


class NothingToConfirm(DomainError):
    key = "playbook.nothing_to_confirm"


class RunStatus:
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RunPreview:
    item: ChecklistItem
    hook: str
    what: str
    within: timedelta


@dataclass(frozen=True, slots=True)
class RunOutcome:
    item: ChecklistItem
    hook: str
    result: HookResult


class PlaybookDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        service: IncidentService,
        runner: HookRunner,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None] = lambda: None,
        confirm_within: timedelta = CONFIRM_WITHIN,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._service = service
        self._runner = runner
        self._now = clock
        self._on_outbox = on_outbox
        self.confirm_within = confirm_within
        self._language = plan.default_language

    async def checklist(self, number: int) -> tuple[Incident, list[ChecklistItem]]:
        incident = await self._service.get(number)
        async with self._sessions() as session:
            return incident, await checklists.items(session, number)

    async def tick(
        self, actor: Actor, number: int, step: int, origin: ConversationRef | None, note: str = ""
    ) -> ChecklistItem:
        await self._service.get(number)
        ref = format_ref(number)
        async with self._sessions.begin() as session:
            row = await self._item(session, number, step)
            if row.ticked_at is not None:
                raise StepAlreadyTicked(ref=ref, step=step, by=row.ticked_by or "?")
            now = self._now()
            claimed = await session.execute(
                update(ChecklistItemRow)
                .where(ChecklistItemRow.id == row.id, ChecklistItemRow.ticked_at.is_(None))
                .values(ticked_at=now, ticked_by=actor.name)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                raise StepAlreadyTicked(ref=ref, step=step, by="?")
            params = {"ref": ref, "step": str(step), "text": row.text, "actor": actor.name}
            key = "playbook.ticked_note" if note else "playbook.ticked"
            posted = await self._say(
                session, number, key, actor, origin, now, {"step": step}, note=note, **params
            )
            await session.refresh(row)
            item = checklists.item_from_row(row)
        log.info("incident %s step %d ticked via %s", ref, step, actor.transport)
        if posted:
            self._on_outbox()
        return item

    async def request_run(
        self, actor: Actor, number: int, step: int, origin: ConversationRef | None
    ) -> RunPreview:
        incident = await self._service.get(number)
        async with self._sessions.begin() as session:
            row = await self._item(session, number, step)
            hook = self._hook_of(row, incident.ref, step)
            what = self._runner.describe(hook, _context(incident))
            now = self._now()
            pending = await self._pending(session, row.id, now)
            if pending is None:
                session.add(
                    HookRunRow(
                        incident_id=number, item_id=row.id, hook=hook,
                        status=RunStatus.PENDING, requested_by=actor.name, requested_at=now,
                    )
                )  # fmt: skip
                text = Catalog(self._language)(
                    "playbook.run_requested", hook=hook, step=str(step), actor=actor.name
                )
                await notes.note(
                    session, number, actor=actor, now=now, text=text,
                    event="playbook.run_requested", data={"step": step, "hook": hook},
                )  # fmt: skip
            item = checklists.item_from_row(row)
        return RunPreview(item, hook, what, self.confirm_within)

    async def confirm(
        self, actor: Actor, number: int, step: int, origin: ConversationRef | None
    ) -> RunOutcome:
        incident = await self._service.get(number)
        async with self._sessions.begin() as session:
            row = await self._item(session, number, step)
            hook = self._hook_of(row, incident.ref, step)
            now = self._now()
            run_id = await self._claim(session, row.id, actor, now)
            if run_id is None:
                within = format_duration(self.confirm_within)
                raise NothingToConfirm(ref=incident.ref, step=step, within=within)
            item = checklists.item_from_row(row)
        try:
            result = await self._runner.run(hook, _context(incident))
        except HookError as exc:
            result = HookResult(False, str(exc), "", 0.0)
        await self._record(actor, incident, item, hook, run_id, result, origin)
        return RunOutcome(item, hook, result)

    # -- internals -----------------------------------------------------------------------

    async def _item(self, session: AsyncSession, number: int, step: int) -> ChecklistItemRow:
        row = await checklists.item_row(session, number, step)
        if row is None:
            raise StepNotFound(ref=format_ref(number), step=step)
        return row

    def _hook_of(self, row: ChecklistItemRow, ref: str, step: int) -> str:
        if row.hook is None:
            raise StepHasNoHook(ref=ref, step=step)
        if not self._runner.knows(row.hook):
            raise HookUnavailable(ref=ref, hook=row.hook, reason="not in the plan's hooks")
        return row.hook

    async def _pending(self, session: AsyncSession, item_id: int, now: datetime) -> int | None:
        found = await session.scalar(
            select(HookRunRow.id)
            .where(
                HookRunRow.item_id == item_id,
                HookRunRow.status == RunStatus.PENDING,
                HookRunRow.requested_at >= now - self.confirm_within,
            )
            .order_by(HookRunRow.id.desc())
            .limit(1)
        )
        return found

    async def _claim(
        self, session: AsyncSession, item_id: int, actor: Actor, now: datetime
    ) -> int | None:
        pending = await self._pending(session, item_id, now)
        if pending is None:
            return None
        claimed = await session.execute(
            update(HookRunRow)
            .where(HookRunRow.id == pending, HookRunRow.status == RunStatus.PENDING)
            .values(status=RunStatus.RUNNING, confirmed_by=actor.name, confirmed_at=now)
        )
        return pending if claimed.rowcount else None  # type: ignore[attr-defined]

    async def _record(
        self, actor: Actor, incident: Incident, item: ChecklistItem, hook: str, run_id: int,
        result: HookResult, origin: ConversationRef | None,
    ) -> None:  # fmt: skip
        async with self._sessions.begin() as session:
            now = self._now()
            await session.execute(
                update(HookRunRow)
                .where(HookRunRow.id == run_id)
                .values(
                    status=RunStatus.SUCCEEDED if result.ok else RunStatus.FAILED,
                    finished_at=now,
                    exit_code=result.exit_code,
                    output=result.output,
                )
            )
            params = {
                "ref": incident.ref, "hook": hook, "step": str(item.number),
                "actor": actor.name, "summary": result.summary,
                "seconds": f"{result.seconds:.1f}", "icon": "✅" if result.ok else "❌",
                "output": result.output or "-",
            }  # fmt: skip
            data = {"step": item.number, "hook": hook, "ok": result.ok, "run": run_id}
            posted = await self._say(
                session, incident.number, "playbook.hook_ran", actor, origin, now, data, **params
            )
        if posted:
            self._on_outbox()

    async def _say(
        self, session: AsyncSession, number: int, key: str, by: Actor,
        origin: ConversationRef | None, now: datetime, data: dict[str, object],
        **params: str,
    ) -> bool:  # fmt: skip
        text = Catalog(self._language)(key, **params)
        entry = await notes.note(
            session, number, actor=by, now=now, text=text, event=key, data=data
        )
        return await notes.post(
            session,
            number,
            key=f"playbook:{entry.id}",
            kind=key,
            render=lambda language: Catalog(language)(key, **params),
            now=now,
            default_language=self._language,
            skip=origin,
        )


def _context(incident: Incident) -> dict[str, str]:
    return {
        "ref": incident.ref,
        "number": str(incident.number),
        "severity": incident.severity.value,
    }
