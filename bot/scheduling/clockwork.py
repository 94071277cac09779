"""Everything that runs on time, built from settings: the leader lease and the scheduler,
the status updates, the clock sweep (SLA warnings and breaches, escalation, stakeholder
cadences, regulatory reminders), page repeats, and the delivery of notifications to
people over the channels this deployment has (SMTP, the paging webhook, chat DMs)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from bot.notify.channels.chat import ChatChannel
from bot.notify.channels.dispatcher import NotificationDispatcher
from bot.notify.channels.email import EmailChannel
from bot.notify.channels.queue import Addressbook
from bot.notify.channels.testing import pause_from_env
from bot.notify.channels.webhook import WebhookChannel
from bot.plan import Plan
from bot.regulatory.desk import RegulatoryDesk
from bot.render.text import Renderer
from bot.scheduling.ack_web import ack_routes
from bot.scheduling.lease import LeaderLease
from bot.scheduling.oncall import OnCall
from bot.scheduling.pages import Pages
from bot.scheduling.runner import Scheduler
from bot.scheduling.sla_sweep import ClockSweep
from bot.scheduling.status_updates import StatusUpdates
from bot.scheduling.texts import NoticeWriter
from bot.settings import Settings

log = logging.getLogger(__name__)


def instance_id(settings: Settings) -> str:
    return (settings.notify.instance_id or f"{socket.gethostname()}:{os.getpid()}")[:64]


class Clockwork:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        renderer: Renderer,
        status_updates: StatusUpdates,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
    ) -> None:
        notify = settings.notify
        self._status_updates = status_updates
        self._on_outbox = on_outbox
        self._now = clock
        self.instance = instance_id(settings)
        self.writer = NoticeWriter(plan, renderer)
        self.notifications = NotificationDispatcher(
            sessions,
            plan,
            self.writer,
            clock=clock,
            on_outbox=on_outbox,
            claim_for=timedelta(seconds=notify.claim_seconds),
            instance=self.instance,
            pause=pause_from_env(os.environ),
        )
        self._channels: list[Any] = []
        self._add_channels(settings, sessions)
        self.book = Addressbook(plan, self.notifications.available)
        public = notify.public_url or f"http://{settings.http_host}:{settings.http_port}"
        self.pages = Pages(
            sessions,
            plan,
            self.writer,
            self.book,
            public_url=public,
            clock=clock,
            on_notify=self.notifications.poke,
        )
        self.sweep = ClockSweep(
            sessions,
            plan,
            self.writer,
            self.book,
            self.pages,
            on_outbox=on_outbox,
            on_notify=self.notifications.poke,
        )
        self.regulatory = RegulatoryDesk(
            sessions, plan, renderer.time, clock=clock, on_outbox=on_outbox
        )
        self.oncall = OnCall(self.regulatory, self.pages)
        ttl = timedelta(seconds=notify.lease_seconds)
        self.lease = LeaderLease(sessions, holder=self.instance, ttl=ttl, clock=clock)
        self.scheduler = Scheduler(
            self.lease,
            sweep_seconds=settings.sweep_seconds,
            renew_seconds=notify.lease_seconds / 5,
            clock=clock,
        )
        self.scheduler.add("status-updates", self._status_job)
        self.scheduler.add("clocks", self._clock_job)
        self.scheduler.add("page-repeats", self._page_job)
        self.routes: list[BaseRoute] = ack_routes(self.pages, plan.default_language)

    def _add_channels(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        notify = settings.notify
        channels: list[Any] = [ChatChannel(sessions, clock=self._now, on_outbox=self._on_outbox)]
        if notify.smtp is not None:
            smtp = notify.smtp
            channels.append(
                EmailChannel(
                    smtp.host,
                    smtp.port,
                    smtp.sender,
                    username=smtp.username,
                    password=smtp.password.get_secret_value() if smtp.password else None,
                    starttls=smtp.starttls,
                )
            )
        if notify.webhook_url and notify.webhook_secret:
            channels.append(
                WebhookChannel(notify.webhook_url, notify.webhook_secret.get_secret_value())
            )
        for channel in channels:
            self.notifications.register(channel)
        self._channels = channels

    async def _status_job(self, now: datetime) -> datetime | None:
        if await self._status_updates.post_due(now):
            self._on_outbox()
        return await self._status_updates.next_due()

    async def _clock_job(self, now: datetime) -> datetime | None:
        return (await self.sweep.run(now)).next_at

    async def _page_job(self, now: datetime) -> datetime | None:
        await self.pages.repeat_due(now)
        return await self.pages.next_due()

    async def start(self, stop: asyncio.Event) -> list[asyncio.Task[Any]]:
        """Start the scheduler; returns the notification dispatcher's task."""
        await self.scheduler.start()
        log.info("scheduler started as %s (lease %ss)", self.instance, self.lease.ttl.seconds)
        return [asyncio.create_task(self.notifications.run(stop), name="notifications")]

    async def stop(self) -> None:
        """Stop scheduling and hand the lease over; `drain` once the tasks have ended."""
        await self.scheduler.stop()

    async def drain(self) -> None:
        """Deliver what is queued and close the channels (after the dispatcher's task)."""
        await self.notifications.deliver_pending()
        for channel in self._channels:
            closing = getattr(channel, "aclose", None)
            if closing is not None:
                await closing()
