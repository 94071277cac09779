"""The webhook's door: what it refuses (and stores nothing of), how fast it answers, and
that an alert survives a database that is briefly locked or a processing attempt that dies
half-way."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.alerts.payload import MAX_BODY_BYTES
from bot.alerts.processor import AlertProcessor
from bot.alerts.spool import Spool
from bot.alerts.tracker import Outcome
from bot.storage.alert_models import AlertGroupRow, AlertNotificationRow, AlertRow
from bot.storage.models import IncidentRow

if TYPE_CHECKING:
    from tests.alerts.conftest import AM, Running, StartJamie


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """These tests are about the HTTP side and SQLite's locking: SQLite only."""
    return sqlite_url


async def nothing_stored(app: Running) -> bool:
    await asyncio.sleep(0.2)  # give a wrongly stored notification time to be processed
    spooled = await asyncio.to_thread(app.jamie.alerts.spool.pending)
    tables = [IncidentRow, AlertRow, AlertGroupRow, AlertNotificationRow]
    return not spooled and all([await app.count(t) == 0 for t in tables])


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", "Basic dGVzdDp0ZXN0", "Bearer", ""],
    ids=["missing", "wrong", "basic", "empty-bearer", "empty"],
)
async def test_a_bad_token_is_refused_with_401_and_nothing_is_stored(
    running: Running, am: type[AM], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    payload = am.notification("NodeDown", am.alert("NodeDown"))

    response = await running.client.post("/alerts/alertmanager", json=payload, headers=headers)

    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    assert await nothing_stored(running)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"version": "4", "alerts": [', "invalid JSON: Expecting value at line 1 column 29"),
        (b"\xff\xfe{}", "body is not UTF-8 (byte 0)"),
        (b"[1, 2]", "the body must be a JSON object (an Alertmanager notification)"),
        (b'{"version": "3", "groupKey": "g", "status": "firing", "alerts": []}',
         "version: version '3' is not supported; Jamie reads version 4 (+1 more)"),
        (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": []}',
         "alerts: List should have at least 1 item after validation, not 0"),
        (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": '
         b'"burning", "labels": {}, "startsAt": "2026-01-01T00:00:00Z"}]}',
         "alerts.0.status: Input should be 'firing' or 'resolved'"),
        (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": '
         b'"firing", "labels": {}, "startsAt": "2026-01-01T00:00:00"}]}',
         "alerts.0.startsAt: timestamps must carry a zone (RFC 3339)"),
    ],
    ids=["truncated-json", "not-utf8", "not-object", "version-3", "no-alerts", "bad-status",
         "naive-time"],
)  # fmt: skip
async def test_a_malformed_notification_is_refused_with_400_and_the_reason(
    running: Running, body: bytes, reason: str
) -> None:
    response = await running.post(body)

    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert await nothing_stored(running)


async def test_a_body_over_the_limit_is_refused_with_413(running: Running) -> None:
    response = await running.post(b"{" + b" " * MAX_BODY_BYTES + b"}")

    assert response.status_code == 413
    assert await nothing_stored(running)


async def test_without_a_configured_token_the_route_refuses_everything_with_503(
    start_jamie: StartJamie, am: type[AM], caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_jamie(token=None)

    response = await app.post(am.notification("NodeDown", am.alert("NodeDown")), token="x" * 20)

    assert response.status_code == 503
    assert "JAMIE_ALERTMANAGER_TOKEN" in response.json()["error"]
    assert any("set JAMIE_ALERTMANAGER_TOKEN" in r.getMessage() for r in caplog.records)
    assert await nothing_stored(app)


# -- never losing an alert -------------------------------------------------------------------


def hold_write_lock(database: str, seconds: float, held: threading.Event) -> None:
    """Another process's writer: takes SQLite's write lock and keeps it for `seconds`."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE alert_groups SET receiver = receiver")
        held.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def test_an_alert_posted_while_the_database_is_locked_is_answered_fast_and_processed_after(
    running: Running, am: type[AM], sqlite_url: str
) -> None:
    database = make_url(sqlite_url).database
    assert database is not None
    held = threading.Event()
    locker = threading.Thread(target=hold_write_lock, args=(database, 1.2, held))
    locker.start()
    await asyncio.to_thread(held.wait, 5)

    started = time.perf_counter()
    response = await running.post(am.notification("NodeDown", am.alert("NodeDown")))
    answered = time.perf_counter() - started
    unlocked_at = await asyncio.to_thread(lambda: (locker.join(), time.time())[1])
    await running.settle()

    assert (response.status_code, answered < 1.0) == (200, True)  # the lock lasts 1.2 s
    async with running.jamie.sessions() as session:
        [incident] = (await session.scalars(select(IncidentRow))).all()
    assert incident.declared_at.timestamp() >= unlocked_at - 0.2  # processed after the lock


async def test_processing_that_dies_after_opening_the_incident_is_retried_without_a_duplicate(
    running: Running, am: type[AM], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = running.jamie.alerts.processor._tracker
    real_apply = tracker._apply
    calls = 0

    async def apply_failing_once(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("UPDATE alert_groups", {}, Exception("database is locked"))
        await real_apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tracker, "_apply", apply_failing_once)

    response = await running.post(am.notification("NodeDown", am.alert("NodeDown")))
    await running.settle()

    assert (response.status_code, calls) == (200, 2)
    assert await running.count(IncidentRow) == 1
    assert await running.count(AlertRow) == 1
    assert len(running.sender.texts("alerts.opened")) == 1


class _LockedThenFine:
    """A tracker double: the database is locked for the first `failures` attempts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def process(
        self, notification: object, *, spool_id: str, received_at: object
    ) -> Outcome:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return Outcome(spool_id=spool_id, group="g")


async def test_a_locked_database_keeps_the_notification_in_the_spool_until_it_is_processed(
    tmp_path: Path, am: type[AM]
) -> None:
    import json

    spool = Spool(tmp_path / "spool")
    spool.prepare()
    entry = spool.put(json.dumps(am.notification("NodeDown", am.alert("NodeDown"))).encode())
    tracker = _LockedThenFine(failures=2)
    processor = AlertProcessor(spool, tracker)  # type: ignore[arg-type]

    rounds = [await processor.drain() for _ in range(3)]

    assert (rounds, tracker.attempts) == ([0, 0, 1], 3)
    assert not entry.path.exists() and spool.pending() == []
