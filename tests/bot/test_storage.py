"""Storage through the incident service, on SQLite and on PostgreSQL: the schema, each
stage's timestamp, one timeline entry per change, refusals that write nothing, the outbox's
de-duplication and the refusal of naive datetimes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.exc import StatementError

from bot.domain.enums import EntryKind, Role, Severity, Status, Transport
from bot.domain.errors import IllegalTransition, IncidentNotFound
from bot.domain.incident import Incident
from bot.domain.people import Actor, ConversationRef
from bot.notify.outbox import conversation_row, enqueue
from bot.storage import db
from bot.storage.db import migrate, sync_url
from bot.storage.models import Base, IncidentRow, OutboxRow, TimelineRow

if TYPE_CHECKING:
    from tests.conftest import App, BuildApp, FakeClock

MIN = timedelta(minutes=1)
ANA = Actor("Ana", Transport.CONSOLE, "local", Role.COMMANDER)
BRUNO = Actor("Bruno", Transport.SLACK, "U0BRUNO", Role.RESPONDER)
CARLA = Actor("Carla", Transport.TELEGRAM, "7001", Role.COMMANDER)
WAR_ROOM = ConversationRef(Transport.SLACK, "C0WARROOM")
MIGRATIONS = Path(db.__file__).with_name("migrations")
CORE_TABLES = {
    "alembic_version", "conversations", "incidents", "incident_conversations", "outbox",
    "timeline_entries",
}  # fmt: skip


async def count(app: App, table: type[object]) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def open_p1(app: App, title: str = "Mac Studio unresponsive") -> Incident:
    return await app.service.open(ANA, severity=Severity.P1, title=title, conversation=WAR_ROOM)


# -- schema ----------------------------------------------------------------------------------


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A plain synchronous connection, as Alembic and an operator's tools see the database."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def schema(url: str) -> tuple[set[str], dict[str, set[str]]]:
    """The revisions the database is at, and each table's columns."""
    with connected(url) as connection:
        query = text("SELECT version_num FROM alembic_version")
        versions = set(connection.execute(query).scalars())
        found = inspect(connection)
        tables = {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}
    return versions, tables


def test_migrations_apply_twice_and_the_second_run_changes_nothing(db_url: str) -> None:
    migrate(db_url)
    first = schema(db_url)
    migrate(db_url)

    versions, tables = schema(db_url)

    assert (versions, tables) == first
    assert versions == set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    assert tables.keys() >= CORE_TABLES


def test_migrated_schema_is_the_one_the_models_describe(db_url: str) -> None:
    migrate(db_url)  # its env.py also imports every model module onto Base.metadata

    with connected(db_url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


# -- the whole lifecycle persists ------------------------------------------------------------


async def test_full_lifecycle_persists_every_stage_time_and_one_timeline_entry_per_change(
    app: App, clock: FakeClock
) -> None:
    service = app.service
    opened_at = clock.now()
    number = (await open_p1(app)).number
    acked_at = clock.advance(3 * MIN)
    await service.acknowledge(BRUNO, number, WAR_ROOM)
    escalated_at = clock.advance(2 * MIN)
    await service.change_severity(
        CARLA, number, None, target=Severity.P0, raise_it=True, reason="ICU affected"
    )
    updated_at = clock.advance(4 * MIN)
    await service.add_update(BRUNO, number, WAR_ROOM, "failover to GCP started")
    mitigated_at = clock.advance(6 * MIN)
    await service.mitigate(BRUNO, number, WAR_ROOM, "traffic on GCP")
    resolved_at = clock.advance(40 * MIN)
    resolved = await service.resolve(CARLA, number, None, "power supply failed")
    reopened_at = clock.advance(10 * MIN)
    await service.reopen(ANA, number, None, "down again")

    stored = await service.get(number, with_timeline=True)

    assert resolved.resolved_at == resolved_at
    assert resolved.mitigated_at == mitigated_at
    assert (stored.status, stored.severity, stored.reopen_count) == (
        Status.ACKNOWLEDGED,
        Severity.P0,
        1,
    )
    assert (stored.declared_at, stored.detected_at, stored.started_at) == (opened_at,) * 3
    assert (stored.acknowledged_at, stored.acknowledged_by, stored.commander) == (
        acked_at,
        "Bruno",
        "Bruno",
    )
    assert (stored.last_update, stored.last_update_at) == ("traffic on GCP", mitigated_at)
    assert (stored.mitigated_at, stored.resolved_at, stored.severity_since) == (
        None,
        None,
        reopened_at,
    )
    assert stored.root_cause == "power supply failed"
    assert [(e.kind, e.actor, e.transport, e.at, e.text) for e in stored.timeline] == [
        (EntryKind.DECLARED, "Ana", Transport.CONSOLE, opened_at, "Mac Studio unresponsive"),
        (EntryKind.ACKNOWLEDGED, "Bruno", Transport.SLACK, acked_at, None),
        (EntryKind.ESCALATED, "Carla", Transport.TELEGRAM, escalated_at, "ICU affected"),
        (EntryKind.UPDATE, "Bruno", Transport.SLACK, updated_at, "failover to GCP started"),
        (EntryKind.MITIGATED, "Bruno", Transport.SLACK, mitigated_at, "traffic on GCP"),
        (EntryKind.RESOLVED, "Carla", Transport.TELEGRAM, resolved_at, "power supply failed"),
        (EntryKind.REOPENED, "Ana", Transport.CONSOLE, reopened_at, "down again"),
    ]
    assert stored.timeline[2].data == {"severity": "P0", "previous": "P1"}
    assert all(entry.at.utcoffset() == timedelta(0) for entry in stored.timeline)


async def test_stored_times_come_back_as_aware_utc(app: App, clock: FakeClock) -> None:
    number = (await open_p1(app)).number

    stored = await app.service.get(number)

    assert (stored.declared_at.tzinfo, stored.declared_at) == (UTC, clock.now())


async def test_incidents_get_readable_sequential_ids(app: App) -> None:
    first = await open_p1(app, "Mac Studio down")
    second = await open_p1(app, "GCP fallback slow")

    assert (first.ref, second.ref) == ("INC-0001", "INC-0002")


async def test_unknown_incident_is_reported_by_its_readable_id(app: App) -> None:
    with pytest.raises(IncidentNotFound) as caught:
        await app.service.acknowledge(BRUNO, 42, WAR_ROOM)

    assert caught.value.params == {"ref": "INC-0042"}


# -- refusals write nothing ------------------------------------------------------------------


async def acknowledged_twice(app: App, number: int) -> None:
    await app.service.acknowledge(BRUNO, number, WAR_ROOM)


async def resolved_twice(app: App, number: int) -> None:
    await app.service.resolve(CARLA, number, WAR_ROOM, "second root cause")


async def mitigated_after_resolution(app: App, number: int) -> None:
    await app.service.mitigate(BRUNO, number, WAR_ROOM, "late mitigation")


async def escalated_after_resolution(app: App, number: int) -> None:
    await app.service.change_severity(BRUNO, number, WAR_ROOM, target=None, raise_it=True)


Move = Callable[["App", int], Awaitable[None]]


@pytest.mark.parametrize(
    ("resolve_first", "illegal_move", "status"),
    [
        (False, acknowledged_twice, "acknowledged"),
        (True, resolved_twice, "resolved"),
        (True, mitigated_after_resolution, "resolved"),
        (True, escalated_after_resolution, "resolved"),
    ],
    ids=["ack-twice", "resolve-resolved", "mitigate-resolved", "escalate-resolved"],
)
async def test_illegal_move_is_refused_and_writes_nothing(
    app: App, clock: FakeClock, resolve_first: bool, illegal_move: Move, status: str
) -> None:
    number = (await open_p1(app)).number
    await app.service.acknowledge(BRUNO, number, WAR_ROOM)
    if resolve_first:
        await app.service.resolve(CARLA, number, None, "power supply failed")
    before = await app.service.get(number, with_timeline=True)
    outbox_before = await count(app, OutboxRow)
    clock.advance(5 * MIN)

    with pytest.raises(IllegalTransition) as caught:
        await illegal_move(app, number)

    after = await app.service.get(number, with_timeline=True)
    assert (caught.value.params["status"], caught.value.params["ref"]) == (status, "INC-0001")
    assert after == before
    assert await count(app, OutboxRow) == outbox_before


# -- outbox ----------------------------------------------------------------------------------


async def test_outbox_dedupe_key_keeps_a_single_message(app: App, clock: FakeClock) -> None:
    async with app.sessions.begin() as session:
        conversation = await conversation_row(session, WAR_ROOM, now=clock.now())
        added = [
            await enqueue(
                session, dedupe_key="status:1:slot-a:1", conversation_id=conversation.id,
                incident_id=None, kind="status_update", text=f"copy {n}", now=clock.now(),
            )
            for n in (1, 2)
        ]  # fmt: skip
    async with app.sessions.begin() as session:
        again = await enqueue(
            session, dedupe_key="status:1:slot-a:1", conversation_id=conversation.id,
            incident_id=None, kind="status_update", text="copy 3", now=clock.now(),
        )  # fmt: skip

    async with app.sessions() as session:
        texts = (await session.scalars(select(OutboxRow.text))).all()
    assert (added, again, texts) == ([True, False], False, ["copy 1"])


async def test_change_announces_itself_to_other_conversations_only(app: App) -> None:
    number = (await open_p1(app)).number
    console = ConversationRef(Transport.CONSOLE, "local")
    await app.service.bind(number, console, language="en")

    await app.service.acknowledge(BRUNO, number, WAR_ROOM)

    async with app.sessions() as session:
        rows = (await session.scalars(select(OutboxRow))).all()
    assert [(row.kind, row.text) for row in rows] == [
        ("event.acknowledged", "INC-0001 · acknowledged — Bruno")
    ]


# -- naive datetimes -------------------------------------------------------------------------


async def test_naive_datetime_is_refused_and_nothing_is_written(
    db_url: str, build_app: BuildApp, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    naive = datetime(2026, 3, 2, 12, 0)  # noqa: DTZ001 - the mistake under test
    monkeypatch.setattr(clock, "now", lambda: naive)
    app = await build_app(db_url)

    with pytest.raises(StatementError, match="naive datetime refused"):
        await open_p1(app)

    assert (await count(app, IncidentRow), await count(app, TimelineRow)) == (0, 0)
