"""`jamie serve --no-console` as real processes: killed with SIGKILL between the commit that
queued a page and its send (exactly one delivery after the restart), and two instances on
PostgreSQL sharing the work, the leader killed and the follower taking over in seconds,
with no update sent twice and none lost beyond the takeover."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.domain.enums import Role, Severity, Transport
from bot.domain.people import Actor, ConversationRef
from bot.notify.channels.dispatcher import CONCURRENCY
from bot.plan import load_plan
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.service.incidents import IncidentService
from bot.storage.db import make_engine, make_sessionmaker, migrate
from bot.storage.models import OutboxRow
from bot.storage.sla_models import LeaseRow, NotificationRow, PageRow
from tests.sla.doubles import SECRET, WebhookReceiver, free_port
from tests.sla.harness import fast_plan

REPO = Path(__file__).resolve().parents[2]
ANA = Actor("Ana", Transport.CONSOLE, "ana.sre", Role.COMMANDER)
pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


class Serve:
    """One `jamie serve --no-console`; its log goes to a file the test can show."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--no-console"],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
            )  # fmt: skip

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, str], Path], Serve]]:
    started: list[Serve] = []

    def start(env: dict[str, str], log: Path) -> Serve:
        started.append(Serve(env, log))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def base_env(tmp_path: Path, url: str, receiver: WebhookReceiver) -> dict[str, str]:
    return {
        **os.environ, "JAMIE_HOME": str(tmp_path / "home"), "DATABASE_URL": url,
        "JAMIE_PLAN": str(fast_plan(tmp_path)), "JAMIE_HTTP": "off",
        "JAMIE_SWEEP_SECONDS": "0.5", "JAMIE_LEASE_SECONDS": "3", "JAMIE_CLAIM_SECONDS": "2",
        "JAMIE_STATUS_INTERVAL": "2s", "JAMIE_PAGING_WEBHOOK_URL": receiver.url,
        "JAMIE_PAGING_WEBHOOK_SECRET": SECRET,
    }  # fmt: skip


async def open_incident(url: str, plan_path: Path, severity: Severity) -> int:
    """Another instance (this test) declares the incident; the servers do the rest."""
    plan = load_plan(plan_path)
    engine = make_engine(url)
    try:
        service = IncidentService(
            make_sessionmaker(engine),
            plan,
            Renderer(plan, TimeFormat("America/Sao_Paulo")),
            status_interval=timedelta(seconds=2),  # as the servers' JAMIE_STATUS_INTERVAL
        )
        room = ConversationRef(Transport.CONSOLE, "war-room")  # its status updates go there
        opened = await service.open(
            ANA, severity=severity, title="Mac Studio down", conversation=room
        )
        return opened.number
    finally:
        await engine.dispose()


async def rows(url: str, query: Any) -> list[Any]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return list((await session.execute(query)).all())
    finally:
        await engine.dispose()


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            tail = log.read_text()[-3000:]
            raise AssertionError(f"{what} did not happen in {timeout}s:\n{tail}")
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize("point", ["before_send", "after_send"])
async def test_killed_between_commit_and_send_each_page_arrives_exactly_once(
    tmp_path: Path, receiver: WebhookReceiver, serve: Callable[[dict[str, str], Path], Serve],
    point: str,
) -> None:  # fmt: skip
    url = f"sqlite:///{tmp_path / 'jamie.db'}"
    env = base_env(tmp_path, url, receiver)
    migrate(url)
    marker, log = tmp_path / "paused", tmp_path / "serve.log"
    crashing = {**env, "JAMIE_TEST_PAUSE_NOTIFY": point, "JAMIE_TEST_PAUSE_FILE": str(marker)}
    first = serve(crashing, log)
    await open_incident(url, Path(env["JAMIE_PLAN"]), Severity.P1)  # pages the IT Manager
    wait_until(marker.exists, 20, "the pause", log)
    first.kill()
    before = {r.body["id"] for r in receiver.requests}
    sent_before_restart = len(before)

    def resent() -> bool:
        keys = [r.body["id"] for r in receiver.requests]
        return len(receiver.delivered) >= 6 and all(keys.count(k) == 2 for k in before)

    second = serve(env, log)
    wait_until(resent, 20, "the sends after the restart", log)
    second.stop()  # a clean stop delivers what is queued
    queued = await rows(url, select(NotificationRow.dedupe_key, NotificationRow.delivered_at))

    keys = [r.body["id"] for r in receiver.requests]
    delivered = [body["id"] for body in receiver.delivered]
    assert (sent_before_restart > 0) is (point == "after_send")
    assert sorted(delivered) == sorted(key for key, at in queued if at is not None)
    assert len(delivered) == len(set(delivered))
    paused = {key for key in keys if keys.count(key) == 2}
    if point == "before_send":  # nothing had left: each page sent once, after the restart
        assert paused == set()
    else:  # sent, killed before recording it: sent again with the same key, delivered once
        assert len(paused) >= 1 and paused <= set(delivered)


@pytest.mark.postgres
async def test_killed_leader_is_replaced_within_seconds_without_duplicates(
    tmp_path: Path, postgres_db_url: str, receiver: WebhookReceiver,
    serve: Callable[[dict[str, str], Path], Serve],
) -> None:  # fmt: skip
    url = postgres_db_url
    env = base_env(tmp_path, url, receiver)
    migrate(url)
    port_a, port_b = free_port(), free_port()
    log = tmp_path / "serve.log"
    servers = {
        "a": serve({**env, "JAMIE_INSTANCE_ID": "a", "JAMIE_HTTP": "on",
                    "JAMIE_HTTP_PORT": str(port_a)}, log),
        "b": serve({**env, "JAMIE_INSTANCE_ID": "b", "JAMIE_HTTP": "on",
                    "JAMIE_HTTP_PORT": str(port_b)}, log),
    }  # fmt: skip
    ports = {"a": port_a, "b": port_b}

    async def leader() -> str | None:
        found = await rows(url, select(LeaseRow.holder, LeaseRow.expires_at))
        return str(found[0][0]) if found else None

    async def until_leader(wanted: set[str], limit: float) -> float:
        started = time.monotonic()
        while await leader() not in wanted:
            if time.monotonic() - started > limit:
                raise AssertionError(f"no leader in {wanted}:\n{log.read_text()[-3000:]}")
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    await until_leader({"a", "b"}, 20)
    number = await open_incident(url, Path(env["JAMIE_PLAN"]), Severity.P0)
    await asyncio.sleep(5)
    first = await leader()
    assert first in servers
    follower = "b" if first == "a" else "a"

    servers[first].kill()
    killed_at = time.monotonic()
    takeover = await until_leader({follower}, 30)
    await asyncio.sleep(6)
    # The follower, now leader, also takes commands: a page acknowledged over its HTTP.
    [(token,)] = (await rows(url, select(PageRow.token).where(
        PageRow.contact == "primary_sre", PageRow.reason == "declared")))[:1]  # fmt: skip
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"http://127.0.0.1:{ports[follower]}/pages/{token}",
            headers={"Accept": "application/json"},
        )

    slots = [p for (p,) in await rows(url, select(OutboxRow.payload).where(
        OutboxRow.incident_id == number, OutboxRow.kind == "status_update"))]  # fmt: skip
    times = sorted(time.mktime(time.strptime(s["slot"][:19], "%Y-%m-%dT%H:%M:%S"))
                   for s in slots)  # fmt: skip
    gaps = [b - a for a, b in itertools.pairwise(times)]
    keys = [r.body["id"] for r in receiver.requests]
    admin_updates = [
        b for b in receiver.delivered
        if (b["contact"], b["kind"]) == ("hospital_administrator", "cadence")
    ]  # fmt: skip
    assert takeover < 30, f"takeover took {takeover:.1f}s"
    assert time.monotonic() - killed_at < 60
    assert len({s["slot"] for s in slots}) == len(slots) >= 5  # no status slot twice
    assert max(gaps) <= takeover + 2 + 2  # nothing missed beyond the takeover and a slot
    # Only sends cut by the kill may repeat (at most one batch in flight)...
    assert len(keys) - len(set(keys)) <= CONCURRENCY
    assert len(receiver.delivered) == len(set(keys))  # ...and the gateway drops it
    assert len(admin_updates) >= 4
    assert answer.json()["acknowledged"] is True
