"""Scheduled status updates, from the sweep that queues them to the dispatcher that delivers
them: on time, once per slot however many sweepers race, one late update after a sleep,
none for resolved incidents, unchanged by a restart, and robust to a failing chat."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.domain.enums import Role, Severity, Transport
from bot.domain.people import Actor, ConversationRef
from bot.notify.dispatcher import STATUS_KIND, Dispatcher
from bot.notify.outbox import OutboundMessage
from bot.scheduling.status_updates import StatusUpdates
from bot.storage.models import IncidentRow, OutboxRow

if TYPE_CHECKING:
    from tests.conftest import App, BuildApp, FakeClock

SEC = timedelta(seconds=1)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ANA = Actor("Ana", Transport.CONSOLE, "ana.sre", Role.COMMANDER)
ROOM = ConversationRef(Transport.CONSOLE, "war-room")


class RecordingSender:
    """The console transport as a double: records what it is given; addresses listed in
    `unreachable` fail the way a chat API that is down would."""

    transport = Transport.CONSOLE

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundMessage]] = []
        self.unreachable: set[str] = set()

    async def send(self, address: str, message: OutboundMessage) -> None:
        if address in self.unreachable:
            raise ConnectionError(f"{address} is unreachable")
        self.sent.append((address, message))

    def status_updates(self) -> list[tuple[str, OutboundMessage]]:
        return [(address, m) for address, m in self.sent if m.kind == STATUS_KIND]


@dataclass
class Scheduler:
    """What Jamie runs in the background for one App: the sweep and the dispatcher."""

    app: App
    updates: StatusUpdates
    dispatcher: Dispatcher
    sender: RecordingSender = field(default_factory=RecordingSender)

    async def sweep(self) -> int:
        return await self.updates.post_due(self.app.clock.now())

    async def sweep_and_deliver(self) -> int:
        await self.sweep()
        return await self.dispatcher.deliver_pending()


def scheduler_for(app: App) -> Scheduler:
    updates = StatusUpdates(
        app.sessions, app.plan, app.renderer, interval=app.service.status_interval
    )
    scheduler = Scheduler(app, updates, Dispatcher(app.sessions, clock=app.clock.now))
    scheduler.dispatcher.register(scheduler.sender)
    return scheduler


async def open_in(
    app: App, *rooms: ConversationRef, severity: Severity = Severity.P1, title: str = "Mac slow"
) -> int:
    """Open an incident followed, in English, by `rooms` (the war room by default)."""
    incident = await app.service.open(ANA, severity=severity, title=title)
    for room in rooms or (ROOM,):
        await app.service.bind(incident.number, room, language="en")
    return incident.number


async def outbox(app: App, kind: str = STATUS_KIND) -> list[OutboxRow]:
    async with app.sessions() as session:
        query = select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id)
        return list((await session.scalars(query)).all())


# -- when ------------------------------------------------------------------------------------


async def test_status_update_is_queued_only_once_it_is_due(
    sqlite_app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(sqlite_app)
    await open_in(sqlite_app)

    clock.advance(5 * MIN - SEC)
    early = await scheduler.sweep_and_deliver()
    clock.advance(SEC)
    due = await scheduler.sweep_and_deliver()

    assert (early, due) == (0, 1)
    assert [address for address, _ in scheduler.sender.status_updates()] == ["war-room"]


async def test_p3_gets_its_status_update_hourly(sqlite_app: App, clock: FakeClock) -> None:
    scheduler = scheduler_for(sqlite_app)
    await open_in(sqlite_app, severity=Severity.P3)

    clock.advance(59 * MIN)
    before_the_hour = await scheduler.sweep()
    clock.advance(1 * MIN)
    on_the_hour = await scheduler.sweep()

    assert (before_the_hour, on_the_hour) == (0, 1)


async def test_escalation_brings_the_next_update_forward(
    sqlite_app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(sqlite_app)
    number = await open_in(sqlite_app, severity=Severity.P3)
    clock.advance(10 * MIN)
    await sqlite_app.service.change_severity(ANA, number, None, target=Severity.P1, raise_it=True)

    clock.advance(5 * MIN)

    assert await scheduler.sweep() == 1


async def test_resolved_incident_gets_no_status_update(sqlite_app: App, clock: FakeClock) -> None:
    scheduler = scheduler_for(sqlite_app)
    number = await open_in(sqlite_app)
    clock.advance(1 * MIN)
    await sqlite_app.service.resolve(ANA, number, None, "false alarm")

    clock.advance(1 * HOUR)
    await scheduler.sweep_and_deliver()

    assert scheduler.sender.status_updates() == []
    assert await outbox(sqlite_app) == []


async def test_after_a_one_hour_sleep_one_late_update_is_posted_not_twelve(
    app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(app)
    number = await open_in(app)

    woke_at = clock.advance(1 * HOUR)
    first_sweep = await scheduler.sweep()
    second_sweep = await scheduler.sweep()
    await scheduler.dispatcher.deliver_pending()

    (_, message), *others = scheduler.sender.status_updates()
    incident = await app.service.get(number)
    assert (first_sweep, second_sweep, others) == (1, 0, [])
    assert message.payload["late_seconds"] == int((55 * MIN).total_seconds())
    assert incident.next_status_at == woke_at + 5 * MIN


# -- what -----------------------------------------------------------------------------------


async def test_status_update_tells_severity_state_clocks_last_update_and_next_time(
    sqlite_app: App, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 11, 0, tzinfo=UTC))  # 08:00 in São Paulo
    scheduler = scheduler_for(sqlite_app)
    number = await open_in(sqlite_app, title="Mac Studio unresponsive")
    clock.advance(2 * MIN)
    await sqlite_app.service.acknowledge(ANA, number, None)
    clock.advance(1 * MIN)
    await sqlite_app.service.add_update(ANA, number, None, "failover to GCP started")

    clock.advance(2 * MIN)
    await scheduler.sweep_and_deliver()

    [(_, message)] = scheduler.sender.status_updates()
    assert message.text.splitlines() == [
        "📢 Status update · 🟠 INC-0001 · P1 · CRITICAL (significant service degradation)"
        " — Mac Studio unresponsive",
        "State: acknowledged · 5m since declared (08:00)",
        "Commander: Ana",
        "SLA clocks:",
        "  ✅ Detection: met in 0s (target 1m)",
        "  ✅ Response: met in 2m (target 5m)",
        "  ⏳ Mitigation: 25m left (target 30m, by 08:30)",
        "  ⏳ Resolution: 11h55m left (target 12h, by 20:00)",
        "Last update (08:03): failover to GCP started",
        "Next update: 08:10",
        "Times in America/Sao_Paulo.",
    ]
    assert (message.kind, message.incident_number) == (STATUS_KIND, number)


async def test_status_update_dates_a_deadline_that_falls_on_another_day(
    sqlite_app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(sqlite_app)
    await open_in(sqlite_app, severity=Severity.P3)  # 12:00 in São Paulo; 72 hours to resolve

    clock.advance(1 * HOUR)
    await scheduler.sweep_and_deliver()

    [(_, message)] = scheduler.sender.status_updates()
    assert "  ⏳ Resolution: 2d23h left (target 3d, by 2026-03-05 12:00)" in message.text


# -- how many --------------------------------------------------------------------------------


async def test_two_sweepers_racing_for_the_same_slot_queue_one_post(
    app: App, build_app: BuildApp, clock: FakeClock
) -> None:
    # Two instances of Jamie on one database, each with its own connections.
    other_instance = await build_app(app.url)
    mine, theirs = scheduler_for(app), scheduler_for(other_instance)
    await open_in(app)
    clock.advance(5 * MIN)

    queued = await asyncio.gather(mine.sweep(), theirs.sweep())

    assert sorted(queued) == [0, 1]
    assert len(await outbox(app)) == 1


async def test_two_concurrent_sweeps_in_one_instance_queue_one_post(
    app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(app)
    await open_in(app)
    clock.advance(5 * MIN)

    queued = await asyncio.gather(scheduler.sweep(), scheduler.sweep())

    assert sorted(queued) == [0, 1]
    assert len(await outbox(app)) == 1


async def test_restart_continues_the_schedule_without_doubling(
    app: App, build_app: BuildApp, clock: FakeClock
) -> None:
    before = scheduler_for(app)
    await open_in(app)
    clock.advance(5 * MIN)
    await before.sweep_and_deliver()
    await app.engine.dispose()

    after = scheduler_for(await build_app(app.url))
    same_moment = await after.sweep_and_deliver()
    clock.advance(5 * MIN)
    next_slot = await after.sweep_and_deliver()

    assert (len(before.sender.status_updates()), same_moment, next_slot) == (1, 0, 1)
    slots = [m.payload["slot"] for _, m in before.sender.sent + after.sender.sent]
    assert len(slots) == len(set(slots)) == 2


async def test_update_queued_before_a_crash_is_delivered_once_after_restart(
    app: App, build_app: BuildApp, clock: FakeClock
) -> None:
    crashed = scheduler_for(app)
    await open_in(app)
    clock.advance(5 * MIN)
    await crashed.sweep()  # queued, then the process died before delivering
    await app.engine.dispose()

    restarted = scheduler_for(await build_app(app.url))
    first = await restarted.sweep_and_deliver()
    second = await restarted.sweep_and_deliver()

    assert (first, second, len(restarted.sender.status_updates())) == (1, 0, 1)


async def test_older_pending_update_is_superseded_by_the_newest(
    sqlite_app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(sqlite_app)
    await open_in(sqlite_app)
    clock.advance(5 * MIN)
    await scheduler.sweep()
    clock.advance(5 * MIN)
    await scheduler.sweep()

    delivered = await scheduler.dispatcher.deliver_pending()

    [(_, message)] = scheduler.sender.status_updates()
    older, newest = await outbox(sqlite_app)
    assert (delivered, message.outbox_id) == (1, newest.id)
    assert (older.last_error, older.delivered_at) == (
        "superseded by a newer update",
        clock.now(),
    )
    assert scheduler.sender.sent == [("war-room", message)]


# -- failures --------------------------------------------------------------------------------


async def test_failing_conversation_does_not_block_others_and_is_retried_later(
    app: App, clock: FakeClock
) -> None:
    scheduler = scheduler_for(app)
    down, up = (
        ConversationRef(Transport.CONSOLE, "room-down"),
        ConversationRef(Transport.CONSOLE, "room-up"),
    )
    await open_in(app, down, up)
    scheduler.sender.unreachable.add("room-down")
    failed_at = clock.advance(5 * MIN)

    first_round = await scheduler.sweep_and_deliver()
    [failed] = [row for row in await outbox(app) if row.delivered_at is None]
    scheduler.sender.unreachable.clear()
    during_backoff = await scheduler.dispatcher.deliver_pending()
    clock.advance(2 * SEC)
    after_backoff = await scheduler.dispatcher.deliver_pending()

    [retried] = [row for row in await outbox(app) if row.id == failed.id]
    assert (first_round, during_backoff, after_backoff) == (1, 0, 1)
    assert [address for address, _ in scheduler.sender.sent] == ["room-up", "room-down"]
    assert (failed.attempts, failed.last_error, failed.available_at) == (
        1,
        "ConnectionError: room-down is unreachable",
        failed_at + 2 * SEC,
    )
    assert (retried.attempts, retried.delivered_at) == (2, clock.now())


async def test_failed_delivery_leaves_the_incident_untouched(app: App, clock: FakeClock) -> None:
    scheduler = scheduler_for(app)
    number = await open_in(app)
    scheduler.sender.unreachable.add("war-room")
    clock.advance(5 * MIN)
    await scheduler.sweep()
    before = await app.service.get(number, with_timeline=True)

    await scheduler.dispatcher.deliver_pending()

    assert await app.service.get(number, with_timeline=True) == before
    async with app.sessions() as session:
        assert await session.scalar(select(IncidentRow.status)) == "declared"
