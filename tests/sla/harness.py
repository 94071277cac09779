"""Jamie's scheduled work for one test App: the clock sweep, pages, status updates, both
dispatchers and the command handler with pages and flags, on the test's FakeClock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from sqlalchemy import select

from bot.commands.handler import CommandHandler, Context, Reply
from bot.domain.enums import Role, Severity, Transport
from bot.domain.people import Actor, ConversationRef
from bot.notify.channels.dispatcher import NotificationDispatcher
from bot.notify.channels.queue import Addressbook
from bot.notify.dispatcher import Dispatcher
from bot.notify.outbox import OutboundMessage
from bot.regulatory.desk import RegulatoryDesk
from bot.scheduling.oncall import OnCall
from bot.scheduling.pages import Pages
from bot.scheduling.sla_sweep import ClockSweep
from bot.scheduling.status_updates import StatusUpdates
from bot.scheduling.texts import NoticeWriter
from bot.storage.models import TimelineRow
from tests.sla.doubles import RecordingChannel

if TYPE_CHECKING:
    from tests.conftest import App

ANA = Actor("Ana", Transport.CONSOLE, "ana.sre", Role.COMMANDER, responder_key="primary-sre")
ROOM = ConversationRef(Transport.CONSOLE, "war-room")
PUBLIC_URL = "http://127.0.0.1:8080"
PLAN_FILE = Path(__file__).resolve().parents[2] / "deploy" / "plan.yaml"


class RecordingSender:
    """The console transport: every outbox message posted to a conversation."""

    transport = Transport.CONSOLE

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundMessage]] = []

    async def send(self, address: str, message: OutboundMessage) -> None:
        self.sent.append((address, message))

    def kinds(self) -> list[str]:
        return [m.kind for _, m in self.sent]

    def texts(self, kind: str) -> list[str]:
        return [m.text for _, m in self.sent if m.kind == kind]


@dataclass
class Clocks:
    app: App
    sweep: ClockSweep
    pages: Pages
    status: StatusUpdates
    notifications: NotificationDispatcher
    outbox: Dispatcher
    regulatory: RegulatoryDesk
    handler: CommandHandler
    channel: RecordingChannel
    chat: RecordingSender = field(default_factory=RecordingSender)

    async def tick(self) -> int:
        """One leader round at the clock's time, then deliver everything queued."""
        now = self.app.clock.now()
        fired = (await self.sweep.run(now)).fired
        await self.pages.repeat_due(now)
        await self.status.post_due(now)
        await self.deliver()
        return fired

    async def deliver(self) -> None:
        while await self.notifications.deliver_pending():
            pass
        await self.outbox.deliver_pending()

    async def say(self, text: str, user: str = "ana.sre") -> Reply:
        ctx = Context(Transport.CONSOLE, user, "Ana", ROOM, "en")
        return await self.handler.handle_text(text, ctx)

    async def open(self, severity: Severity = Severity.P0, title: str = "Mac Studio down") -> int:
        incident = await self.app.service.open(ANA, severity=severity, title=title)
        await self.app.service.bind(incident.number, ROOM, language="en")
        return incident.number

    async def notes(self, number: int, event: str | None = None) -> list[TimelineRow]:
        async with self.app.sessions() as session:
            rows = await session.scalars(
                select(TimelineRow)
                .where(TimelineRow.incident_id == number)
                .order_by(TimelineRow.id)
            )
            found = [r for r in rows if "event" in (r.data or {})]
        return [r for r in found if event in (None, r.data["event"])]


def clocks_for(app: App, channel: RecordingChannel | None = None) -> Clocks:
    channel = channel or RecordingChannel()
    writer = NoticeWriter(app.plan, app.renderer)
    outbox = Dispatcher(app.sessions, clock=app.clock.now)
    notifications = NotificationDispatcher(app.sessions, app.plan, writer, clock=app.clock.now)
    notifications.register(channel)
    book = Addressbook(app.plan, notifications.available)
    pages = Pages(app.sessions, app.plan, writer, book, public_url=PUBLIC_URL,
                  clock=app.clock.now)  # fmt: skip
    sweep = ClockSweep(app.sessions, app.plan, writer, book, pages)
    status = StatusUpdates(
        app.sessions, app.plan, app.renderer, interval=app.service.status_interval
    )
    regulatory = RegulatoryDesk(app.sessions, app.plan, app.renderer.time, clock=app.clock.now)
    handler = CommandHandler(
        app.service, app.plan, app.renderer, app.directory, clock=app.clock.now,
        oncall=OnCall(regulatory, pages),
    )  # fmt: skip
    clocks = Clocks(app, sweep, pages, status, notifications, outbox, regulatory, handler,
                    channel)  # fmt: skip
    outbox.register(clocks.chat)
    return clocks


def fast_plan(directory: Path, *, cadence_every: str = "2s") -> Path:
    """deploy/plan.yaml with clocks in seconds: for real-time tests and the benchmark."""
    raw = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    for severity in raw["severities"].values():
        severity["targets"] = {"detection": "1s", "response": "2s", "mitigation": "4s",
                               "resolution": "60s"}  # fmt: skip
        severity.pop("status_update_every", None)
        for tier in severity.get("breach", []):
            tier["after"] = "1s" if tier.get("after") not in (None, "0s") else "0s"
    for cadence in raw["cadences"]:
        cadence.update(first_after="0s", every=cadence_every)
    raw["paging"] = {"repeat_every": "1s", "max_repeats": 3}
    path = directory / "fast-plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path
