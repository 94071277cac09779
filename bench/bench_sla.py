"""Time Jamie's clocks on this machine: breach detection, update drift, failover, delivery.

    .venv/bin/python bench/bench_sla.py [--kills 10] [--lease 15] [--skip-failover]

1. Breach-detection delay: 500 P1 incidents whose response deadlines are staggered over
   the next 50 s, the real scheduler (leader lease, 2 s sweep, precise wake-ups) on a
   SQLite file; delay = when the breach was recorded minus its deadline; p50/p99/max.
2. Drift of status updates: one incident, JAMIE_STATUS_INTERVAL=5s for 60 s (an hour of
   5-minute updates compressed 60x); each post's lateness against its ideal slot.
3. Failover: two `jamie serve --no-console` on a PostgreSQL server started from Debian's
   binaries (as the test suite does); the leader is killed with SIGKILL `--kills` times;
   time from the kill until the other holds the lease; the killed one is restarted.
4. Throughput: 2,000 notifications through the dispatcher to a local signed-webhook
   receiver, and 2,000 outbox messages to a no-op chat sender.
Prints numbers only; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import Jamie  # noqa: E402
from bot.domain.enums import Role, Severity, Transport  # noqa: E402
from bot.domain.people import Actor, ConversationRef  # noqa: E402
from bot.notify.channels.dispatcher import NotificationDispatcher  # noqa: E402
from bot.notify.channels.queue import enqueue_notification  # noqa: E402
from bot.notify.channels.webhook import WebhookChannel  # noqa: E402
from bot.notify.dispatcher import Dispatcher  # noqa: E402
from bot.notify.outbox import OutboundMessage, conversation_row, enqueue  # noqa: E402
from bot.plan.model import Channel  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.models import IncidentRow, OutboxRow  # noqa: E402
from bot.storage.sla_models import LeaseRow, ScheduleMarkRow  # noqa: E402

ANA = Actor("Ana", Transport.CONSOLE, "ana", Role.COMMANDER)
ROOM = ConversationRef(Transport.CONSOLE, "bench")


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def settings(home: Path, **extra: str) -> Settings:
    env = {"JAMIE_HOME": str(home), "JAMIE_HTTP": "off", "JAMIE_STATUS_INTERVAL": "1h", **extra}
    return Settings.from_env(env)


async def breach_detection(home: Path, count: int = 500) -> None:
    app = Jamie(settings(home), assistant=None)
    await app.start()
    await app.clockwork.stop()  # opening 500 incidents first; the clocks start below
    target = app.plan.policy(Severity.P1).targets.response
    numbers = [
        (await app.service.open(ANA, severity=Severity.P1, title=f"bench {i}")).number
        for i in range(count)
    ]
    base = datetime.now(UTC) + timedelta(seconds=8) - target
    async with app.sessions.begin() as session:
        for i, number in enumerate(numbers):
            moment = base + timedelta(seconds=50 * i / count)
            await session.execute(
                update(IncidentRow).where(IncidentRow.id == number).values(
                    started_at=moment, detected_at=moment, declared_at=moment,
                    severity_since=moment,
                )
            )  # fmt: skip
    await app.clockwork.scheduler.start()
    await asyncio.sleep(62)
    async with app.sessions() as session:
        marks = (await session.scalars(select(ScheduleMarkRow))).all()
    await app.stop()
    delays = [
        (m.fired_at - m.due_at).total_seconds()
        for m in marks
        if ":breach:response:" in m.key and m.key.endswith(":0")
    ]
    print(
        f"breach detection over {len(delays)} of {count} incidents (sweep 2 s): "
        f"p50 {pct(delays, 0.5):.2f} s, p99 {pct(delays, 0.99):.2f} s, max {max(delays):.2f} s"
    )


async def update_drift(home: Path) -> None:
    app = Jamie(settings(home, JAMIE_STATUS_INTERVAL="5s"), assistant=None)
    await app.start()
    incident = await app.service.open(ANA, severity=Severity.P1, title="drift", conversation=ROOM)
    await asyncio.sleep(61)
    async with app.sessions() as session:
        posts = (
            await session.scalars(
                select(OutboxRow).where(OutboxRow.kind == "status_update").order_by(OutboxRow.id)
            )
        ).all()
    await app.stop()
    lateness = [
        (p.created_at - (incident.declared_at + timedelta(seconds=5 * (k + 1)))).total_seconds()
        for k, p in enumerate(posts)
    ]
    print(
        f"status updates every 5 s for 60 s: {len(posts)} posts (12 expected), "
        f"lateness p50 {pct(lateness, 0.5):.2f} s, max {max(lateness):.2f} s, "
        f"last {lateness[-1]:.2f} s (drift over the hour)"
    )


def failover(kills: int, lease: int) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from tests.conftest import _postgres_bindir, _PostgresServer

    server = _PostgresServer(_postgres_bindir())
    server.start()
    try:
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = server.url("bench")
        from bot.storage.db import migrate

        migrate(url)
        asyncio.run(_failover(url, kills, lease))
    finally:
        server.stop()


async def _holder(url: str) -> str | None:
    from bot.storage.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(select(LeaseRow.holder))
    finally:
        await engine.dispose()


async def _failover(url: str, kills: int, lease: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="jamie-bench-"))
    env = {
        **os.environ, "DATABASE_URL": url, "JAMIE_HOME": str(home), "JAMIE_HTTP": "off",
        "JAMIE_LEASE_SECONDS": str(lease), "JAMIE_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    log = (home / "serve.log").open("ab")

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--no-console"], cwd=REPO,
            env={**env, "JAMIE_INSTANCE_ID": name}, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    procs = {"a": start("a"), "b": start("b")}
    times: list[float] = []
    try:
        while await _holder(url) not in procs:  # noqa: ASYNC110 (polls another process)
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        for _ in range(kills):
            leader = await _holder(url)
            assert leader is not None
            other = "b" if leader == "a" else "a"
            procs[leader].send_signal(signal.SIGKILL)
            procs[leader].wait()
            killed = time.monotonic()
            while await _holder(url) != other:  # noqa: ASYNC110 (polls another process)
                await asyncio.sleep(0.05)
            times.append(time.monotonic() - killed)
            procs[leader] = start(leader)
            await asyncio.sleep(2)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=20)
    print(
        f"failover over {len(times)} leader kills (lease {lease} s, renewed every "
        f"{lease / 5:.0f} s): mean {statistics.mean(times):.1f} s, max {max(times):.1f} s"
    )


async def throughput(home: Path, count: int = 2000) -> None:
    from tests.sla.doubles import SECRET, WebhookReceiver

    receiver = WebhookReceiver().start()
    app = Jamie(settings(home), assistant=None)
    await app.start()
    await app.clockwork.stop()
    now = datetime.now(UTC)
    async with app.sessions.begin() as session:
        conv = await conversation_row(session, ROOM, now=now)
        for i in range(count):
            await enqueue_notification(
                session, key=f"bench:{i}", incident_id=None, contact="primary_sre",
                channel=Channel.SMS, address="+55 11 90000-0001", language="pt-BR",
                kind="bench", subject="bench", text=f"bench {i}", now=now,
            )  # fmt: skip
            await enqueue(
                session, dedupe_key=f"bench:{i}", conversation_id=conv.id, incident_id=None,
                kind="bench", text=f"bench {i}", now=now,
            )  # fmt: skip
    dispatcher = NotificationDispatcher(
        app.sessions, app.plan, app.clockwork.writer, clock=lambda: datetime.now(UTC)
    )
    channel = WebhookChannel(receiver.url, SECRET)
    dispatcher.register(channel)
    started = time.perf_counter()
    while await dispatcher.deliver_pending():
        pass
    webhook_rate = count / (time.perf_counter() - started)
    await channel.aclose()

    class NoOp:
        transport = Transport.CONSOLE

        async def send(self, address: str, message: OutboundMessage) -> None:
            return

    outbox = Dispatcher(app.sessions, clock=lambda: datetime.now(UTC))
    outbox.register(NoOp())
    started = time.perf_counter()
    while await outbox.deliver_pending():
        pass
    outbox_rate = count / (time.perf_counter() - started)
    await app.stop()
    receiver.stop()
    print(
        f"throughput: notifications to the local webhook {webhook_rate:.0f}/s "
        f"({len(receiver.delivered)} delivered), conversation outbox {outbox_rate:.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=int, default=15, help="JAMIE_LEASE_SECONDS")
    parser.add_argument("--skip-failover", action="store_true")
    parser.add_argument("--skip-clocks", action="store_true", help="no breach/drift runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not args.skip_clocks:
            asyncio.run(breach_detection(root / "breach"))
            asyncio.run(update_drift(root / "drift"))
        asyncio.run(throughput(root / "throughput"))
    if not args.skip_failover:
        failover(args.kills, args.lease)


if __name__ == "__main__":
    main()
