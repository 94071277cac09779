"""Turns one Alertmanager notification into incident changes, alert by alert.

Each alert is read by its own status and fingerprint, against the alerts already recorded
on its group's current incident:

    new        firing, fingerprint not on the incident    joins (or opens) the incident
    repeat     the same firing or resolved state again    only "last seen" moves
    refire     firing with a newer startsAt               fires again (flapping if often)
    resolve    resolved, for the firing episode we know   recorded; all resolved -> propose
    stale      an older episode than the one we know      ignored
    orphan     resolved, never seen firing                ignored

A firing alert for a group whose incident is resolved reopens it when the resolution is
recent (`alerts.reopen_within`), otherwise opens a new incident linked as a recurrence.

Processing a notification twice changes nothing the second time: every transition is
relative to the stored state, posts are de-duplicated by key, and the notification is
logged by its spool id last. An incident opened just before a crash is found again by the
spool id in its declared entry, so a retry never opens a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import notes
from bot.alerts.payload import Alert, AlertStatus, Notification
from bot.alerts.policy import OnAllResolved
from bot.domain.enums import EntryKind, Role, Severity, Status, Transport
from bot.domain.errors import SeverityUnchanged
from bot.domain.incident import format_ref
from bot.domain.people import Actor
from bot.i18n import Catalog
from bot.plan import Plan
from bot.plan.durations import format_duration
from bot.playbooks import checklists
from bot.service.incidents import IncidentService
from bot.storage.alert_models import AlertGroupRow, AlertNotificationRow, AlertRow
from bot.storage.models import IncidentRow, TimelineRow

log = logging.getLogger(__name__)

ALERTMANAGER = Actor(
    name="Alertmanager",
    transport=Transport.ALERTMANAGER,
    user_id="alertmanager",
    role=Role.RESPONDER,
)
FLAPPING_AFTER = 3
LISTED = 8
_NAME_LABELS = ("instance", "host", "service", "job", "environment")


class Change(StrEnum):
    NEW = "new"
    REPEAT = "repeat"
    REFIRE = "refire"
    RESOLVE = "resolve"
    STALE = "stale"
    ORPHAN = "orphan"


def classify(alert: Alert, row: AlertRow | None) -> Change:
    """What this alert means against the state recorded for its fingerprint."""
    firing = alert.status is AlertStatus.FIRING
    if row is None:
        return Change.NEW if firing else Change.ORPHAN
    if alert.starts_at < row.starts_at:
        return Change.STALE
    newer = alert.starts_at > row.starts_at
    if firing:
        if newer:
            return Change.REFIRE
        # The same episode firing after we recorded it resolved arrives out of order.
        return Change.REPEAT if row.status == AlertStatus.FIRING.value else Change.STALE
    return Change.RESOLVE if row.status == AlertStatus.FIRING.value else Change.REPEAT


@dataclass
class Outcome:
    """What one notification did; returned for logs, tests and the benchmark."""

    spool_id: str
    group: str
    incident: int | None = None
    opened: bool = False
    reopened: bool = False
    recurrence_of: int | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)
    proposed: bool = False
    resolved: bool = False
    escalated_to: Severity | None = None
    playbooks: list[str] = field(default_factory=list)
    duplicate: bool = False

    def count(self, change: Change) -> int:
        return len(self.changes.get(change.value, []))


@dataclass(frozen=True, slots=True)
class _Group:
    id: int
    incident_id: int | None
    truncated_max: int


@dataclass(frozen=True, slots=True)
class _IncidentState:
    number: int
    status: Status
    severity: Severity
    resolved_at: datetime | None
    title: str


class AlertTracker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        service: IncidentService,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._policy = plan.alerts
        self._service = service
        self._now = clock
        self._on_outbox = on_outbox
        self._language = plan.default_language

    async def process(
        self, notification: Notification, *, spool_id: str, received_at: datetime
    ) -> Outcome:
        outcome = Outcome(spool_id=spool_id, group=notification.group_id)
        prepared = await self._prepare(notification, spool_id, received_at)
        if prepared is None:
            outcome.duplicate = True
            return outcome
        group, state, rows = prepared
        keys = [alert.key for alert in notification.alerts]
        changes = [(alert, classify(alert, rows.get(alert.key))) for alert in notification.alerts]
        if _starts_episode(changes) and (state is None or state.status is Status.RESOLVED):
            state = await self._incident_for(notification, group, state, spool_id, received_at)
            if state.number != group.incident_id:
                outcome.opened = True
                if group.incident_id is not None:
                    outcome.recurrence_of = group.incident_id
                rows = await self._alert_rows(state.number, keys)
            else:
                outcome.reopened = True
            changes = [(a, classify(a, rows.get(a.key))) for a in notification.alerts]
        if state is None:
            _record_changes(outcome, changes)
            await self._log(notification, group, outcome, spool_id, received_at)
            return outcome
        outcome.incident = state.number
        await self._escalate_if_needed(state, changes, outcome)
        await self._apply(notification, group, state, changes, received_at, outcome)
        if outcome.resolved:
            # Logged only once resolved: a retry after a failure here resolves again.
            await self._auto_resolve(outcome)
            await self._log(notification, group, outcome, spool_id, received_at)
        return outcome

    # -- reading -------------------------------------------------------------------------

    async def _prepare(
        self, notification: Notification, spool_id: str, received_at: datetime
    ) -> tuple[_Group, _IncidentState | None, dict[str, AlertRow]] | None:
        """The group (created on first sight), its incident and the notification's alerts
        recorded on it; None when this notification was processed already."""
        async with self._sessions.begin() as session:
            done = await session.scalar(
                select(AlertNotificationRow.id).where(AlertNotificationRow.spool_id == spool_id)
            )
            if done is not None:
                return None
            group = await self._group(session, notification, received_at)
            state = await self._incident_state(session, group.incident_id)
            keys = [alert.key for alert in notification.alerts]
            rows = await _rows(session, state.number, keys) if state else {}
            return group, state, rows

    async def _group(
        self, session: AsyncSession, notification: Notification, now: datetime
    ) -> _Group:
        values = {
            "group_hash": notification.group_id,
            "group_key": notification.group_key,
            "receiver": notification.receiver[:200],
            "group_labels": dict(notification.group_labels),
            "truncated_max": 0,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        insert = _insert_for(session)
        await session.execute(insert(AlertGroupRow).values(**values).on_conflict_do_nothing())
        row = await session.scalar(
            select(AlertGroupRow).where(AlertGroupRow.group_hash == notification.group_id)
        )
        assert row is not None
        return _Group(row.id, row.incident_id, row.truncated_max)

    @staticmethod
    async def _incident_state(session: AsyncSession, number: int | None) -> _IncidentState | None:
        row = await session.get(IncidentRow, number) if number is not None else None
        if row is None:
            return None
        return _IncidentState(
            row.id, Status(row.status), Severity(row.severity), row.resolved_at, row.title
        )

    async def _alert_rows(self, incident: int, keys: list[str]) -> dict[str, AlertRow]:
        async with self._sessions() as session:
            return await _rows(session, incident, keys)

    # -- opening and reopening -----------------------------------------------------------

    async def _incident_for(
        self, notification: Notification, group: _Group, previous: _IncidentState | None,
        spool_id: str, received_at: datetime,
    ) -> _IncidentState:  # fmt: skip
        """The incident new firing alerts belong to: the previous one reopened if it was
        resolved recently, else a new one (found again if a crash cut the last attempt)."""
        firing = [a for a in notification.alerts if a.status is AlertStatus.FIRING]
        if previous is not None and previous.resolved_at is not None:
            after = received_at - previous.resolved_at
            if after <= self._policy.reopen_within:
                reason = Catalog(self._language)(
                    "alerts.reopen_reason", after=format_duration(after), alerts=_names(firing)
                )
                incident = await self._service.reopen(ALERTMANAGER, previous.number, None, reason)
                return _IncidentState(
                    incident.number, incident.status, incident.severity, None, incident.title
                )
        number = await self._opened_by(spool_id, received_at)
        if number is None:
            number = await self._open(notification, firing, previous, spool_id, received_at)
        async with self._sessions() as session:
            state = await self._incident_state(session, number)
        assert state is not None
        return state

    async def _opened_by(self, spool_id: str, received_at: datetime) -> int | None:
        query = select(TimelineRow.incident_id, TimelineRow.data).where(
            TimelineRow.kind == EntryKind.DECLARED.value,
            TimelineRow.transport == Transport.ALERTMANAGER.value,
            TimelineRow.at >= received_at - timedelta(days=1),
        )
        async with self._sessions() as session:
            for incident_id, data in (await session.execute(query)).all():
                if (data or {}).get("spool") == spool_id:
                    return int(incident_id)
        return None

    async def _open(
        self, notification: Notification, firing: list[Alert], previous: _IncidentState | None,
        spool_id: str, received_at: datetime,
    ) -> int:  # fmt: skip
        severity = min((self._policy.severity_for(a.labels) for a in firing), key=_rank)
        conversations = self._policy.conversation_refs()
        data: dict[str, object] = {"spool": spool_id, "group": notification.group_id}
        if previous is not None:
            data["recurrence_of"] = format_ref(previous.number)
        incident = await self._service.open(
            ALERTMANAGER,
            severity=severity,
            title=_title(firing),
            departments=self._departments(firing),
            conversation=conversations[0] if conversations else None,
            started_at=min(a.starts_at for a in firing),
            detected_at=received_at,
            data=data,
        )
        for conversation in conversations[1:]:
            await self._service.bind(incident.number, conversation)
        return incident.number

    def _departments(self, alerts: Iterable[Alert]) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for alert in alerts:
            for part in alert.labels.get(self._policy.departments_label, "").split(","):
                key = self._plan.department_key(part) if part.strip() else None
                if key:
                    found.setdefault(key, None)
        return tuple(found)

    async def _escalate_if_needed(
        self, state: _IncidentState, changes: list[tuple[Alert, Change]], outcome: Outcome
    ) -> None:
        starting = [a for a, c in changes if c in (Change.NEW, Change.REFIRE)]
        if outcome.opened or not starting or state.status is Status.RESOLVED:
            return
        wanted = min((self._policy.severity_for(a.labels) for a in starting), key=_rank)
        if wanted.rank >= state.severity.rank:
            return
        reason = Catalog(self._language)("alerts.escalation_reason", alerts=_names(starting))
        try:
            await self._service.change_severity(
                ALERTMANAGER, state.number, None, target=wanted, raise_it=True, reason=reason
            )
        except SeverityUnchanged:
            return
        outcome.escalated_to = wanted

    # -- applying ------------------------------------------------------------------------

    async def _apply(
        self, notification: Notification, group: _Group, state: _IncidentState,
        changes: list[tuple[Alert, Change]], received_at: datetime, outcome: Outcome,
    ) -> None:  # fmt: skip
        _record_changes(outcome, changes)
        queued = False
        async with self._sessions.begin() as session:
            now = self._now()
            rows = await _rows(session, state.number, [alert.key for alert, _ in changes])
            starting, refired, ended = self._store(
                session, group, state, changes, rows, received_at, now
            )
            truncated = await self._group_seen(session, notification, group, state, received_at)
            writer = _Writer(session, state.number, self._language, now)
            if starting:
                await writer.event("firing", starting, post=not outcome.opened)
            if outcome.opened:
                queued |= await writer.opened(state, starting, received_at, outcome.recurrence_of)
            if refired:
                flapping = [a for a in refired if rows[a.key].fire_count >= FLAPPING_AFTER]
                await writer.event("refired", refired, flapping=flapping)
            resolved_here = any(
                a.status is AlertStatus.RESOLVED and c in (Change.RESOLVE, Change.REPEAT)
                for a, c in changes
            )
            # Only a resolved alert can leave the incident with nothing firing.
            counts = await _counts(session, state.number) if resolved_here else None
            if ended and counts:
                await writer.event("resolved", ended, firing=counts[0])
            if truncated:
                await writer.truncated(notification)
            await self._playbooks(writer, [*starting, *refired], outcome)
            if counts and counts[1] and not counts[0] and state.status is not Status.RESOLVED:
                if self._policy.on_all_resolved is OnAllResolved.RESOLVE:
                    outcome.resolved = True
                elif ended:
                    await writer.all_resolved(counts[1])
                    outcome.proposed = True
            queued |= await writer.flush()
            if not outcome.resolved:
                await self._log_in(session, notification, group, outcome, received_at, now)
        if queued:
            self._on_outbox()

    def _store(
        self, session: AsyncSession, group: _Group, state: _IncidentState,
        changes: list[tuple[Alert, Change]], rows: dict[str, AlertRow], received_at: datetime,
        now: datetime,
    ) -> tuple[list[Alert], list[Alert], list[Alert]]:  # fmt: skip
        starting: list[Alert] = []
        refired: list[Alert] = []
        ended: list[Alert] = []
        for alert, change in changes:
            row = rows.get(alert.key)
            if change is Change.NEW and row is None:
                row = AlertRow(
                    group_id=group.id,
                    incident_id=state.number,
                    fingerprint=alert.key,
                    alertname=alert.name[:200],
                    status=AlertStatus.FIRING.value,
                    severity=self._policy.severity_for(alert.labels).value,
                    labels=dict(alert.labels),
                    annotations=dict(alert.annotations),
                    generator_url=alert.generator_url or None,
                    starts_at=alert.starts_at,
                    first_seen_at=received_at,
                    last_seen_at=received_at,
                    fire_count=1,
                )
                session.add(row)
                rows[alert.key] = row
                starting.append(alert)
            elif row is None:
                continue
            elif change is Change.REFIRE:
                row.status = AlertStatus.FIRING.value
                row.starts_at = alert.starts_at
                row.ends_at = None
                row.resolved_at = None
                row.fire_count += 1
                row.annotations = dict(alert.annotations)
                refired.append(alert)
            elif change is Change.RESOLVE:
                row.status = AlertStatus.RESOLVED.value
                row.ends_at = alert.ended_at or received_at
                row.resolved_at = now
                ended.append(alert)
            if change is not Change.STALE:
                row.last_seen_at = max(row.last_seen_at, received_at)
        return starting, refired, ended

    async def _group_seen(
        self, session: AsyncSession, notification: Notification, group: _Group,
        state: _IncidentState, received_at: datetime,
    ) -> bool:  # fmt: skip
        """Point the group at the incident and move "last seen"; True when the notification
        left out more alerts than any before it for this incident."""
        row = await session.get(AlertGroupRow, group.id)
        assert row is not None
        if row.incident_id != state.number:
            row.incident_id = state.number
            row.truncated_max = 0
        row.last_seen_at = max(row.last_seen_at, received_at)
        row.group_labels = dict(notification.group_labels)
        if notification.truncated_alerts > row.truncated_max:
            row.truncated_max = notification.truncated_alerts
            return True
        return False

    async def _playbooks(self, writer: _Writer, alerts: list[Alert], outcome: Outcome) -> None:
        seen: set[str] = set()
        for alert in alerts:
            for key in checklists.triggered(self._plan, alert.labels):
                if key in seen:
                    continue
                seen.add(key)
                book = self._plan.playbooks[key]
                attached = await checklists.attach(
                    writer.session, writer.incident, key, book, writer.now
                )
                if attached:
                    outcome.playbooks.append(key)
                    await writer.playbook(key, book.trigger, attached)

    async def _log(
        self, notification: Notification, group: _Group, outcome: Outcome, spool_id: str,
        received_at: datetime,
    ) -> None:  # fmt: skip
        async with self._sessions.begin() as session:
            await self._log_in(session, notification, group, outcome, received_at, self._now())

    @staticmethod
    async def _log_in(
        session: AsyncSession, notification: Notification, group: _Group, outcome: Outcome,
        received_at: datetime, now: datetime,
    ) -> None:  # fmt: skip
        insert = _insert_for(session)
        await session.execute(
            insert(AlertNotificationRow)
            .values(
                spool_id=outcome.spool_id,
                group_id=group.id,
                incident_id=outcome.incident,
                status=notification.status.value,
                alerts=len(notification.alerts),
                truncated=notification.truncated_alerts,
                received_at=received_at,
                processed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["spool_id"])
        )

    async def _auto_resolve(self, outcome: Outcome) -> None:
        assert outcome.incident is not None
        async with self._sessions() as session:
            _, count = await _counts(session, outcome.incident)
        cause = Catalog(self._language)("alerts.auto_resolved", count=count)
        await self._service.resolve(ALERTMANAGER, outcome.incident, None, cause)


class _Writer:
    """Timeline notes for one incident inside one transaction, and one post that carries
    all of them: a burst of alerts makes one message per notification, not one per event."""

    def __init__(self, session: AsyncSession, incident: int, language: str, now: datetime):
        self.session = session
        self.incident = incident
        self.language = language
        self.now = now
        self.ref = format_ref(incident)
        self._lines: list[tuple[str, dict[str, str]]] = []
        self._entry: int | None = None
        self._alerts: list[str] = []

    async def _say(
        self, key: str, data: dict[str, object], *, post: bool = True, **params: str
    ) -> None:
        text = Catalog(self.language)(key, ref=self.ref, **params)
        entry = await notes.note(
            self.session, self.incident, actor=ALERTMANAGER, now=self.now, text=text,
            event=key, data=data,
        )  # fmt: skip
        if post:
            self._entry = self._entry or entry.id
            self._lines.append((key, params))
            self._alerts.extend(str(k) for k in _as_list(data.get("alerts")))

    async def flush(self) -> bool:
        """Queue the post of everything said since the last flush; True when queued."""
        if not self._lines or self._entry is None:
            return False
        lines, self._lines = self._lines, []
        ref = self.ref

        def render(language: str) -> str:
            t = Catalog(language)
            return "\n".join(t(key, ref=ref, **params) for key, params in lines)

        events = [key for key, _ in lines]
        return await notes.post(
            self.session,
            self.incident,
            key=f"alert:{self._entry}",
            kind=events[0] if len(events) == 1 else "alerts.events",
            render=render,
            now=self.now,
            default_language=self.language,
            payload={"events": events, "alerts": self._alerts[:200]},
        )

    async def event(
        self, what: str, alerts: list[Alert], *, flapping: list[Alert] | None = None,
        firing: int = 0, post: bool = True,
    ) -> None:  # fmt: skip
        params = {"alerts": _names(alerts), "count": str(len(alerts)), "firing": str(firing)}
        data: dict[str, object] = {"alerts": [a.key for a in alerts][:50]}
        key = f"alerts.{what}"
        if flapping:
            key = "alerts.flapping"
            params["flapping"] = _names(flapping)
            data["flapping"] = [a.key for a in flapping][:50]
        await self._say(key, data, post=post, **params)

    async def truncated(self, notification: Notification) -> None:
        count = str(notification.truncated_alerts)
        url = notification.external_url or "Alertmanager"
        data: dict[str, object] = {"truncated": notification.truncated_alerts}
        await self._say("alerts.truncated", data, count=count, url=url)

    async def all_resolved(self, count: int) -> None:
        await self._say("alerts.all_resolved", {}, count=str(count))

    async def playbook(
        self, key: str, trigger: str, steps: list[checklists.ChecklistItem]
    ) -> None:
        data: dict[str, object] = {"playbook": key, "steps": [s.number for s in steps]}
        await self._say(
            "playbook.attached", data, name=key, trigger=trigger, count=str(len(steps)),
            first=str(steps[0].number), last=str(steps[-1].number),
        )  # fmt: skip

    async def opened(
        self, state: _IncidentState, alerts: list[Alert], received_at: datetime,
        recurrence_of: int | None,
    ) -> bool:  # fmt: skip
        """The post announcing an incident opened from alerts (the declared entry exists)."""
        started = min((a.starts_at for a in alerts), default=received_at)
        detection = format_duration(max(received_at - started, timedelta(0)))
        previous = format_ref(recurrence_of) if recurrence_of else ""

        def render(language: str) -> str:
            t = Catalog(language)
            text = t(
                "alerts.opened", ref=self.ref, severity=state.severity.value, title=state.title,
                alerts=_names(alerts), detection=detection,
            )  # fmt: skip
            if previous:
                text += "\n" + t("alerts.recurrence", previous=previous)
            return text

        return await notes.post(
            self.session,
            self.incident,
            key=f"alert-opened:{self.incident}",
            kind="alerts.opened",
            render=render,
            now=self.now,
            default_language=self.language,
            payload={"event": "alerts.opened", "alerts": [a.key for a in alerts][:50]},
        )


async def _rows(session: AsyncSession, incident: int, keys: list[str]) -> dict[str, AlertRow]:
    """The incident's recorded alerts among `keys` (fingerprints)."""
    query = select(AlertRow).where(
        AlertRow.incident_id == incident, AlertRow.fingerprint.in_(keys)
    )
    return {row.fingerprint: row for row in (await session.scalars(query)).all()}


async def _counts(session: AsyncSession, incident: int) -> tuple[int, int]:
    """(firing, total) alerts recorded on the incident (changes so far flushed first)."""
    await session.flush()
    firing = func.sum(case((AlertRow.status == AlertStatus.FIRING.value, 1), else_=0))
    query = select(func.coalesce(firing, 0), func.count()).where(AlertRow.incident_id == incident)
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1])


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _insert_for(session: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, for ON CONFLICT DO NOTHING."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _starts_episode(changes: list[tuple[Alert, Change]]) -> bool:
    return any(c in (Change.NEW, Change.REFIRE) for _, c in changes)


def _record_changes(outcome: Outcome, changes: list[tuple[Alert, Change]]) -> None:
    outcome.changes = {}
    for alert, change in changes:
        outcome.changes.setdefault(change.value, []).append(alert.key)


def _rank(severity: Severity) -> int:
    return severity.rank


def _describe(alert: Alert) -> str:
    where = next((alert.labels[k] for k in _NAME_LABELS if alert.labels.get(k)), "")
    return f"{alert.name} ({where})" if where else alert.name


def _names(alerts: list[Alert]) -> str:
    described = list(dict.fromkeys(_describe(a) for a in alerts))
    shown = ", ".join(described[:LISTED])
    return shown + (f" +{len(described) - LISTED}" if len(described) > LISTED else "")


def _title(alerts: list[Alert]) -> str:
    first = alerts[0]
    summary = first.annotations.get("summary") or first.annotations.get("title")
    title = summary or _describe(first)
    others = len({a.name for a in alerts} - {first.name})
    if others:
        title += f" (+{others})"
    return " ".join(title.split())[:200]
