"""Slack's rows: which channel belongs to which incident, and which requests were handled."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.slack_models import SlackChannelRow, SlackRequestRow

CREATING, READY, FAILED = "creating", "ready", "failed"
KEY_CHARS = 200


@dataclass(frozen=True, slots=True)
class IncidentChannel:
    incident: int
    state: str
    channel_id: str | None
    name: str | None
    card_ts: str | None
    error: str | None


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class ChannelStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._now = clock
        self._incident_of: dict[str, int | None] = {}

    async def get(self, incident: int) -> IncidentChannel | None:
        async with self._sessions() as session:
            row = await session.get(SlackChannelRow, incident)
            return _snapshot(row) if row else None

    async def incident_of(self, channel_id: str) -> int | None:
        """The incident whose channel this is (remembered: a channel never changes incident,
        and a new incident channel is recorded here when it is made)."""
        if channel_id in self._incident_of:
            return self._incident_of[channel_id]
        async with self._sessions() as session:
            found = await session.scalar(
                select(SlackChannelRow.incident_id).where(SlackChannelRow.channel_id == channel_id)
            )
        self._incident_of[channel_id] = int(found) if found is not None else None
        return self._incident_of[channel_id]

    async def claim(self, incident: int, hold: timedelta) -> bool:
        """Take the right to create the incident's channel: the first claim, or one whose
        holder stopped without finishing (its claim expired)."""
        now = self._now()
        async with self._sessions.begin() as session:
            values = {"incident_id": incident, "state": CREATING, "claimed_until": now + hold,
                      "updated_at": now}  # fmt: skip
            added = await session.scalar(
                _insert(session)(SlackChannelRow).values(**values)
                .on_conflict_do_nothing().returning(SlackChannelRow.incident_id)
            )  # fmt: skip
            if added is not None:
                return True
            taken = await session.execute(
                update(SlackChannelRow)
                .where(
                    SlackChannelRow.incident_id == incident,
                    SlackChannelRow.state == CREATING,
                    SlackChannelRow.claimed_until < now,
                )
                .values(claimed_until=now + hold, updated_at=now)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def release(self, incident: int) -> None:
        """Give up a claim after a failure worth retrying: the next attempt starts afresh."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(SlackChannelRow).where(
                    SlackChannelRow.incident_id == incident, SlackChannelRow.state == CREATING
                )
            )

    async def record(self, incident: int, **values: Any) -> None:
        """Set columns (state, channel_id, name, card_ts, error) of the incident's row."""
        if values.get("channel_id"):
            self._incident_of[str(values["channel_id"])] = incident
        async with self._sessions.begin() as session:
            await session.execute(
                update(SlackChannelRow)
                .where(SlackChannelRow.incident_id == incident)
                .values(updated_at=self._now(), **values)
            )


class RequestLedger:
    """Remembers the Slack requests already handled: `first(key)` is True exactly once."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._now = clock

    async def first(self, key: str, kind: str) -> bool:
        if len(key) > KEY_CHARS:
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        async with self._sessions.begin() as session:
            values = {"key": key, "kind": kind, "attempts": 1, "created_at": self._now()}
            added = await session.scalar(
                _insert(session)(SlackRequestRow).values(**values)
                .on_conflict_do_nothing().returning(SlackRequestRow.key)
            )  # fmt: skip
        return added is not None

    async def forget_before(self, moment: datetime) -> int:
        """Drop keys older than `moment` (Slack retries within minutes, not days)."""
        async with self._sessions.begin() as session:
            done = await session.execute(
                delete(SlackRequestRow).where(SlackRequestRow.created_at < moment)
            )
            return int(done.rowcount)  # type: ignore[attr-defined]


def _snapshot(row: SlackChannelRow) -> IncidentChannel:
    return IncidentChannel(
        incident=row.incident_id,
        state=row.state,
        channel_id=row.channel_id,
        name=row.name,
        card_ts=row.card_ts,
        error=row.error,
    )
