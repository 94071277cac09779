"""Which playbooks an alert triggers, and the checklist steps they put on an incident.
Functions here take the caller's session; only the use cases (desk, tracker) commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plan import Plan
from bot.plan.model import Playbook
from bot.playbooks.matchers import Matcher, matches_all, parse_matchers
from bot.storage.alert_models import ChecklistItemRow

PLAYBOOK_LABEL = "jamie_playbook"


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    number: int
    playbook: str
    text: str
    hook: str | None
    ticked_at: datetime | None
    ticked_by: str | None

    @property
    def done(self) -> bool:
        return self.ticked_at is not None


def item_from_row(row: ChecklistItemRow) -> ChecklistItem:
    return ChecklistItem(
        row.number, row.playbook, row.text, row.hook, row.ticked_at, row.ticked_by
    )


@lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[Matcher, ...]:
    return parse_matchers(text)


def triggered(plan: Plan, labels: Mapping[str, str]) -> list[str]:
    """The playbooks these alert labels trigger, in plan order."""
    named = labels.get(PLAYBOOK_LABEL)
    return [
        key
        for key, book in plan.playbooks.items()
        if key == named or any(matches_all(_parsed(s), labels) for s in book.alerts)
    ]


async def attach(
    session: AsyncSession, incident_id: int, key: str, book: Playbook, now: datetime
) -> list[ChecklistItem]:
    """Put the playbook's steps on the incident, numbered after any already there; nothing
    when it is attached already."""
    present = await session.scalar(
        select(func.count())
        .select_from(ChecklistItemRow)
        .where(ChecklistItemRow.incident_id == incident_id, ChecklistItemRow.playbook == key)
    )
    if present:
        return []
    last = await session.scalar(
        select(func.max(ChecklistItemRow.number)).where(
            ChecklistItemRow.incident_id == incident_id
        )
    )
    rows = [
        ChecklistItemRow(
            incident_id=incident_id,
            number=(last or 0) + position,
            playbook=key,
            position=position,
            text=step.text,
            hook=step.hook,
            attached_at=now,
        )
        for position, step in enumerate(book.actions, start=1)
    ]
    session.add_all(rows)
    await session.flush()
    return [item_from_row(row) for row in rows]


async def items(session: AsyncSession, incident_id: int) -> list[ChecklistItem]:
    query = (
        select(ChecklistItemRow)
        .where(ChecklistItemRow.incident_id == incident_id)
        .order_by(ChecklistItemRow.number)
    )
    return [item_from_row(row) for row in (await session.scalars(query)).all()]


async def item_row(
    session: AsyncSession, incident_id: int, number: int
) -> ChecklistItemRow | None:
    return await session.scalar(
        select(ChecklistItemRow).where(
            ChecklistItemRow.incident_id == incident_id, ChecklistItemRow.number == number
        )
    )
