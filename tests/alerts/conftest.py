"""Jamie as it runs: the real app (composition root) with its ASGI server on an ephemeral
loopback port, a SQLite or PostgreSQL database, and a recording console sender; plus
builders for Alertmanager version-4 notifications as Alertmanager sends them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from bot.app import Jamie
from bot.commands.ports import Answer, AssistantUnavailable
from bot.domain.enums import Transport
from bot.notify.outbox import OutboundMessage
from bot.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789abcdef"
ALERT_ROOM = "alerts"

Payload = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- payload builders ------------------------------------------------------------------------


def fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]


def alert(
    name: str, *, status: str = "firing", starts: datetime | None = None,
    ends: datetime | None = None, labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Payload:  # fmt: skip
    """One alert as Alertmanager renders it; firing ones carry the zero endsAt."""
    all_labels = {"alertname": name, "environment": "mvp", **(labels or {})}
    started = starts or utcnow() - timedelta(seconds=20)
    ended = ends or (utcnow() if status == "resolved" else None)
    return {
        "status": status,
        "labels": all_labels,
        "annotations": annotations or {"summary": f"{name} on {all_labels.get('instance', '?')}"},
        "startsAt": stamp(started),
        "endsAt": stamp(ended) if ended else "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.local:9090/graph?g0.expr={name}",
        "fingerprint": fingerprint(all_labels),
    }


def notification(group: str, *alerts: Payload, truncated: int = 0) -> Payload:
    """A version-4 notification; the group's status is firing while any alert fires."""
    firing = any(a["status"] == "firing" for a in alerts)
    common = dict.fromkeys(["environment"], "mvp")
    return {
        "receiver": "jamie",
        "status": "firing" if firing else "resolved",
        "alerts": list(alerts),
        "groupLabels": {"alertname": group},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": truncated,
    }


def resolved(payload: Payload, *, ends: datetime | None = None) -> Payload:
    """The same alert (same startsAt and fingerprint), now resolved."""
    return {**payload, "status": "resolved", "endsAt": stamp(ends or utcnow())}


# -- the running app -------------------------------------------------------------------------


class NoAssistant:
    async def ask(self, question: str, *, language: str) -> Answer:
        raise AssistantUnavailable("not_ready")


@dataclass
class Posted:
    address: str
    message: OutboundMessage
    at: float


@dataclass
class RecordingSender:
    """The console transport's sender, recording what Jamie posts."""

    transport: Transport = Transport.CONSOLE
    posts: list[Posted] = field(default_factory=list)

    async def send(self, address: str, message: OutboundMessage) -> None:
        self.posts.append(Posted(address, message, time.time()))

    def texts(self, kind: str | None = None) -> list[str]:
        """What was posted, or the lines of the posts that tell events of `kind` (one post
        carries one line per event of a notification)."""
        found = []
        for post in self.posts:
            events = post.message.payload.get("events")
            if kind is None or (post.message.kind == kind and not events):
                found.append(post.message.text)
            elif events:
                found += [line for line, event in zip(post.message.text.split("\n"), events,
                                                      strict=True) if event == kind]  # fmt: skip
        return found


@dataclass
class Running:
    jamie: Jamie
    client: httpx.AsyncClient
    sender: RecordingSender

    async def post(self, payload: Payload | bytes, *, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if isinstance(payload, bytes):
            return await self.client.post("/alerts/alertmanager", content=payload, headers=headers)
        return await self.client.post("/alerts/alertmanager", json=payload, headers=headers)

    async def settle(self) -> None:
        """Wait until every stored notification is processed and its posts delivered."""
        deadline = time.monotonic() + 15
        spool = self.jamie.alerts.spool
        while await asyncio.to_thread(spool.pending):
            if time.monotonic() > deadline:
                raise AssertionError("alert notifications still in the spool")
            await asyncio.sleep(0.02)
        await self.jamie.dispatcher.deliver_pending()

    async def count(self, table: type[object]) -> int:
        async with self.jamie.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)


PlanEdit = Callable[[dict[str, Any]], None]
StartJamie = Callable[..., Awaitable[Running]]


def write_plan(folder: Path, edit: PlanEdit | None = None) -> Path:
    """The real plan, posting alert incidents to the console room `alerts`."""
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "deploy" / "plan.yaml").read_text())
    data["alerts"]["conversations"] = [f"console:{ALERT_ROOM}"]
    if edit is not None:
        edit(data)
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
async def start_jamie(tmp_path: Path, db_url: str) -> AsyncIterator[StartJamie]:
    """Starts Jamie (database migrated, processor running, HTTP on 127.0.0.1:<ephemeral>)."""
    started: list[tuple[Jamie, httpx.AsyncClient]] = []

    async def start(*, edit: PlanEdit | None = None, token: str | None = TOKEN) -> Running:
        env = {
            "JAMIE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": db_url,
            "JAMIE_PLAN": str(write_plan(tmp_path, edit)),
            "JAMIE_HTTP_PORT": "0",
            "JAMIE_SWEEP_SECONDS": "3600",
            "JAMIE_TIMEZONE": "America/Sao_Paulo",
        }
        if token is not None:
            env["JAMIE_ALERTMANAGER_TOKEN"] = token
        jamie = Jamie(Settings.from_env(env), assistant=NoAssistant())
        sender = RecordingSender()
        jamie.add_sender(sender)
        await jamie.start()
        web = await jamie.start_web()
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}", timeout=10)
        started.append((jamie, client))
        return Running(jamie, client, sender)

    yield start
    for jamie, client in started:
        await client.aclose()
        await jamie.stop()


@pytest.fixture
async def running(start_jamie: StartJamie) -> Running:
    return await start_jamie()


class AM:
    """The payload builders, handed to tests as the `am` fixture."""

    alert = staticmethod(alert)
    notification = staticmethod(notification)
    resolved = staticmethod(resolved)


@pytest.fixture
def am() -> type[AM]:
    return AM
