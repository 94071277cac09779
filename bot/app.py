"""The composition root: builds every part from settings and starts and stops them in order."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.routing import BaseRoute

from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler
from bot.commands.ports import Assistant
from bot.i18n import normalise_language
from bot.notify.dispatcher import Dispatcher, Sender
from bot.plan import Plan, load_plan
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.scheduling.status_updates import StatusUpdates
from bot.service.incidents import IncidentService
from bot.settings import Settings
from bot.storage.db import make_engine, make_sessionmaker, migrate
from bot.web.app import create_web_app
from bot.web.server import WebServer

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_assistant(settings: Settings) -> Assistant:
    """The runbook assistant (imports the knowledge stack only when called)."""
    from jamie.assistant import RunbookAssistant
    from jamie.knowledge import KnowledgeIndex

    return RunbookAssistant(KnowledgeIndex(settings.index_dir))


class Jamie:
    """One running Jamie: database, plan, service, commands, outbox, scheduler."""

    def __init__(self, settings: Settings, *, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.plan: Plan = load_plan(settings.plan_path)
        self.language = normalise_language(settings.language or self.plan.default_language)
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.time = TimeFormat(settings.timezone)
        self.renderer = Renderer(self.plan, self.time)
        self.dispatcher = Dispatcher(self.sessions, clock=utcnow)
        self.service = IncidentService(
            self.sessions,
            self.plan,
            self.renderer,
            clock=utcnow,
            status_interval=settings.status_interval,
            on_outbox=self.dispatcher.poke,
        )
        self.status_updates = StatusUpdates(
            self.sessions, self.plan, self.renderer, interval=self.service.status_interval
        )
        self.assistant = assistant if assistant is not None else build_assistant(settings)
        self.commands = CommandHandler(
            self.service,
            self.plan,
            self.renderer,
            Directory(self.plan),
            clock=utcnow,
            assistant=self.assistant,
        )
        self.web_routes: list[BaseRoute] = []
        self.web: WebServer | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    def add_sender(self, sender: Sender) -> None:
        self.dispatcher.register(sender)

    async def start(self) -> None:
        await asyncio.to_thread(migrate, self.settings.database_url)
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop), name="outbox"))
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.settings.sweep_seconds,
            id="status-sweep",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("jamie started (plan %s, db %s)", self.plan.version, self.engine.dialect.name)

    async def start_web(self) -> WebServer:
        """Serve health, metrics and the transports' routes (call after adding routes)."""
        self.web = WebServer(
            create_web_app(self), self.settings.http_host, self.settings.http_port
        )
        await self.web.start()
        return self.web

    async def sweep(self) -> None:
        """The scheduled job: queue due status updates, then wake the dispatcher."""
        try:
            if await self.status_updates.post_due(utcnow()):
                self.dispatcher.poke()
        except Exception:
            log.exception("status sweep failed; the next sweep retries")

    async def stop(self) -> None:
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=5)
            except TimeoutError:
                task.cancel()
        self._tasks.clear()
        await self.dispatcher.deliver_pending()
        await self.engine.dispose()
        log.info("jamie stopped")

    async def __aenter__(self) -> Jamie:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()
