"""Slack's tables on SQLite and PostgreSQL: the migration matches the models, a request key
is first exactly once, and one worker at a time may make an incident's channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import Severity, Transport
from bot.domain.people import Actor
from bot.storage.db import make_engine, make_sessionmaker, migrate, sync_url
from bot.storage.models import Base
from bot.storage.slack_models import SlackChannelRow, SlackRequestRow
from bot.transports.slack.store import READY, ChannelStore, RequestLedger
from tests.conftest import BuildApp, FakeClock

SLACK_TABLES = {SlackChannelRow.__tablename__, SlackRequestRow.__tablename__}


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    migrate(db_url)
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def test_the_slack_migration_matches_the_models(db_url: str) -> None:
    migrate(db_url)
    engine = create_engine(sync_url(db_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    ours = [d for d in differences if SLACK_TABLES & set(_tables(d))]
    assert ours == []


def _tables(difference: object) -> list[str]:
    items = difference if isinstance(difference, list) else [difference]
    names = []
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None) or getattr(part, "name", None)
            names.append(str(getattr(table, "name", table)))
    return names


async def test_a_request_key_is_first_exactly_once_even_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ledger = RequestLedger(sessions, clock=FakeClock().now)

    results = await asyncio.gather(*(ledger.first("event:Ev1", "event") for _ in range(5)))

    assert sorted(results) == [False, False, False, False, True]
    assert await ledger.first("x" * 500, "long") is True
    assert await ledger.first("x" * 500, "long") is False


async def test_one_claim_per_incident_until_it_expires(
    build_app: BuildApp, db_url: str, clock: FakeClock
) -> None:
    app = await build_app(db_url)
    incident = await app.service.open(
        Actor("Ana", Transport.SLACK, "U1"), severity=Severity.P2, title="Fila parada"
    )
    store = ChannelStore(app.sessions, clock=clock.now)

    first = await store.claim(incident.number, timedelta(minutes=2))
    second = await store.claim(incident.number, timedelta(minutes=2))
    clock.advance(timedelta(minutes=3))
    after_expiry = await store.claim(incident.number, timedelta(minutes=2))
    await store.record(incident.number, state=READY, channel_id="C1")

    assert (first, second, after_expiry) == (True, False, True)
    assert await store.incident_of("C1") == incident.number
    known = await store.get(incident.number)
    assert known is not None and (known.state, known.channel_id) == (READY, "C1")
