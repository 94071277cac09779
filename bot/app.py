"""The composition root: builds every part from settings and starts and stops them in order."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr
from starlette.routing import BaseRoute

from bot.alerts.intake import AlertIntake
from bot.alerts.spool import Spool
from bot.commands.advice import AdviceDesk
from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler
from bot.commands.ports import Advisor, Assistant, PlaybookRef
from bot.commands.words import CommandName
from bot.domain.enums import Transport
from bot.domain.incident import Incident
from bot.i18n import normalise_language
from bot.notify.dispatcher import Dispatcher, Sender
from bot.plan import Plan, load_plan
from bot.playbooks.desk import PlaybookDesk
from bot.playbooks.hooks import HookRunner
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.scheduling.clockwork import Clockwork
from bot.scheduling.status_updates import StatusUpdates
from bot.service.incidents import IncidentService
from bot.settings import Settings, SettingsError, SlackSettings, TelegramSettings
from bot.storage.db import make_engine, make_sessionmaker, migrate
from bot.web.app import create_web_app
from bot.web.server import WebServer

if TYPE_CHECKING:
    from bot.transports.slack.app import SlackTransport
    from bot.transports.telegram.app import TelegramTransport

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_assistant(settings: Settings, plan: Plan | None = None) -> Assistant:
    """The runbook assistant over the model chain of JAMIE_MODELS (imports the knowledge and
    model stacks only when called; models load lazily, off the event loop)."""
    from jamie.assistant import RunbookAssistant
    from jamie.knowledge import KnowledgeIndex
    from jamie.models import ModelConfigError
    from jamie.models.config import build_chain, load_chain_spec
    from jamie.privacy import PrivacyGate, RedactionPolicy, Redactor, SecretScrubber

    gate = PrivacyGate(
        Redactor(RedactionPolicy.from_env()),
        SecretScrubber.from_env(extra=_secret_values(settings)),
    )
    try:
        chain = build_chain(load_chain_spec(settings.models), gate=gate)
    except ModelConfigError as exc:
        raise SettingsError(f"invalid setting JAMIE_MODELS: {exc}") from exc
    books = [
        PlaybookRef(key, book.trigger, book.severity.value, tuple(s.text for s in book.actions))
        for key, book in (plan.playbooks.items() if plan else ())
    ]
    return RunbookAssistant(KnowledgeIndex(settings.index_dir), chain=chain, playbooks=books)


def _secret_values(model: BaseModel) -> list[str]:
    """Every SecretStr in the settings, however deep: they must never reach a prompt."""
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found += _secret_values(value)
    return found


class Jamie:
    """One running Jamie: database, plan, service, commands, outbox, scheduler."""

    def __init__(self, settings: Settings, *, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.plan: Plan = load_plan(settings.plan_path)
        self.language = normalise_language(settings.language or self.plan.default_language)
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.time = TimeFormat(settings.timezone or self.plan.timezone)
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
        self.assistant = (
            assistant if assistant is not None else build_assistant(settings, self.plan)
        )
        self.advice: AdviceDesk | None = None
        if isinstance(self.assistant, Advisor):
            self.advice = AdviceDesk(
                self.sessions, self.plan, self.assistant, clock=utcnow,
                get_incident=partial(self.service.get, with_timeline=True),
                on_outbox=self.dispatcher.poke,
            )  # fmt: skip
            self.service.on_opened(self._suggest_for_alert_openings)
        self.playbooks = PlaybookDesk(
            self.sessions, self.plan, self.service, HookRunner(self.plan.hooks),
            clock=utcnow, on_outbox=self.dispatcher.poke,
        )  # fmt: skip
        # Scheduled work behind the leader lease, and notifications to people.
        self.clockwork = Clockwork(
            settings, self.sessions, self.plan, self.renderer, self.status_updates,
            clock=utcnow, on_outbox=self.dispatcher.poke,
        )  # fmt: skip
        self.commands = CommandHandler(
            self.service,
            self.plan,
            self.renderer,
            Directory(self.plan),
            clock=utcnow,
            assistant=self.assistant,
            playbooks=self.playbooks,
            oncall=self.clockwork.oncall,
            advice=self.advice,
        )
        self.web_routes: list[BaseRoute] = [*self.clockwork.routes]
        self.alerts = self._wire_alerts()
        self.web: WebServer | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.slack: SlackTransport | None = None
        if settings.slack is not None:
            self.slack = self._wire_slack(settings.slack)
        self.telegram: TelegramTransport | None = None
        if settings.telegram is not None:
            self.telegram = self._wire_telegram(settings.telegram)

    def _suggest_for_alert_openings(self, incident: Incident) -> None:
        """Incidents Alertmanager opens get the same background root-cause suggestion as
        those opened by a command (the command handler starts its own)."""
        if self.advice is not None and incident.source is Transport.ALERTMANAGER:
            self.advice.after(CommandName.OPEN, incident.number, "", None)

    def add_sender(self, sender: Sender) -> None:
        self.dispatcher.register(sender)

    def _wire_alerts(self) -> AlertIntake:
        """Alertmanager's webhook route; its processor runs as a task from `start`."""
        token = self.settings.alertmanager_token
        intake = AlertIntake.build(
            spool=Spool(self.settings.alert_spool or self.settings.home / "alert-spool"),
            sessions=self.sessions, plan=self.plan, service=self.service, clock=utcnow,
            token=token.get_secret_value() if token else None, on_outbox=self.dispatcher.poke,
        )  # fmt: skip
        self.web_routes.extend(intake.routes())
        return intake

    def _wire_slack(self, slack_settings: SlackSettings) -> SlackTransport:
        """Slack's sender, its routes, and an `incident_opened` message to its digest
        channel for every new incident (whose delivery makes the incident's channel)."""
        from bot.transports.slack.app import SlackTransport

        slack = SlackTransport(self, slack_settings, clock=utcnow)
        self.add_sender(slack.sender)
        self.web_routes.extend(slack.routes())
        self.service.announce_openings(slack.digest)
        return slack

    def _wire_telegram(self, telegram_settings: TelegramSettings) -> TelegramTransport:
        """Telegram's sender, its webhook route (webhook mode), and an `incident_opened`
        message to the ops group for every new incident (whose delivery makes its topic)."""
        from bot.transports.telegram.app import TelegramTransport

        telegram = TelegramTransport(self, telegram_settings, clock=utcnow)
        self.add_sender(telegram.sender)
        self.web_routes.extend(telegram.routes())
        if telegram.ops_group is not None:
            self.service.announce_openings(telegram.ops_group)
        return telegram

    async def start(self) -> None:
        await asyncio.to_thread(migrate, self.settings.database_url)
        if self.slack is not None:
            await self.slack.start()
        if self.telegram is not None:
            await self.telegram.start()
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop), name="outbox"))
        await self.alerts.start()
        self._tasks.append(asyncio.create_task(self.alerts.run(self._stop), name="alerts"))
        self._tasks.extend(await self.clockwork.start(self._stop))
        if self.advice is not None:
            # Model health checks in the background: a cold start never waits for a model.
            health = self.advice.advisor.run_health_checks(self._stop)
            self._tasks.append(asyncio.create_task(health, name="model-health"))
        log.info("jamie started (plan %s, db %s)", self.plan.version, self.engine.dialect.name)

    async def start_web(self) -> WebServer:
        """Serve health, metrics and the transports' routes (call after adding routes)."""
        self.web = WebServer(
            create_web_app(self), self.settings.http_host, self.settings.http_port
        )
        await self.web.start()
        return self.web

    async def sweep(self) -> None:
        """One round of the scheduled work now (if this instance holds the leader lease)."""
        await self.clockwork.scheduler.tick()

    async def stop(self) -> None:
        if self.web is not None:
            await self.web.stop()
            self.web = None
        await self.clockwork.stop()
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=5)
            except TimeoutError:
                task.cancel()
        self._tasks.clear()
        await self.clockwork.drain()
        if self.advice is not None:
            await self.advice.stop()
            await self.advice.advisor.close()
        if self.slack is not None:
            self.slack.closing()
        await self.dispatcher.deliver_pending()
        if self.slack is not None:
            await self.slack.stop()
        if self.telegram is not None:
            await self.telegram.stop()
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
