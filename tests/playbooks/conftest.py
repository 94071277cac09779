"""The command handler wired with the playbook desk, on SQLite, with a plan whose hooks run
local programs (this Python) and an HTTP double; a responder on Slack, a commander on the
console, and everyone else an observer."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler, Context, Reply
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.plan import Plan, load_plan
from bot.playbooks import checklists
from bot.playbooks.desk import PlaybookDesk
from bot.playbooks.hooks import HookRunner
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.service.incidents import IncidentService
from bot.storage.db import make_engine, make_sessionmaker, migrate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from tests.conftest import FakeClock

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-hook-token-0042"
INCIDENT_ROOM = ConversationRef(Transport.CONSOLE, "local")
WAR_ROOM = ConversationRef(Transport.SLACK, "C0WARROOM")
COMMANDER = Context(Transport.CONSOLE, "ana.sre", "Ana", INCIDENT_ROOM)
RESPONDER = Context(Transport.SLACK, "U0BRUNO", "Bruno", WAR_ROOM)
OBSERVER = Context(Transport.SLACK, "U0UNKNOWN", "Zé", WAR_ROOM)

PRINTS_TOKEN = (
    "import os, sys; print('restarted', sys.argv[1], 'with', os.environ['MODEL_TOKEN']);"
    " print('Authorization: Bearer abcdefghijklmnop')"
)


def playbook_plan(folder: Path) -> Plan:
    """The real plan, plus a responder on Slack and hooks that run here."""
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "deploy" / "plan.yaml").read_text())
    data["responders"]["bruno"] = {
        "name": "Bruno", "role": "responder", "identities": {"slack": ["U0BRUNO"]},
    }  # fmt: skip
    data["hooks"] = {
        "restart_model": {
            "description": "restart the model server",
            "command": [sys.executable, "-c", PRINTS_TOKEN, "{ref}"],
            "env": {"MODEL_TOKEN": "${JAMIE_TEST_SECRET}"},
            "timeout": "10s",
        },
        "slow": {"command": [sys.executable, "-c", "import time; time.sleep(30)"],
                 "timeout": "1s"},
        "chatty": {"command": [sys.executable, "-c", "print('x' * 5000)"]},
        "gcp_fallback": {
            "http": {
                "method": "POST",
                "url": "http://fallback.test/api/activate",
                "headers": {"Authorization": "Bearer ${JAMIE_TEST_SECRET}"},
                "json": {"incident": "{ref}", "severity": "{severity}"},
            }
        },
        "failover_secondary": {"http": {"url": "http://lb.test/failover"}},
        "mac_studio_diagnostics": {"command": [sys.executable, "-c", "print('ok')"]},
    }  # fmt: skip
    data["playbooks"]["test_book"] = {
        "trigger": "test",
        "severity": "P2",
        "actions": [
            "Look at the dashboards",
            {"text": "Restart the model server", "hook": "restart_model"},
            {"text": "Wait for it", "hook": "slow"},
            {"text": "Talk a lot", "hook": "chatty"},
            {"text": "Fall back to GCP", "hook": "gcp_fallback"},
        ],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_plan(path)


@dataclass
class HttpDouble:
    """Answers the hooks' HTTP calls; records them; fails the test on an unexpected host."""

    status: int = 200
    calls: list[httpx.Request] | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "fallback.test", f"unexpected call to {request.url}"
        self.calls = [*(self.calls or []), request]
        body = f"activated; token={SECRET}"
        return httpx.Response(self.status, text=body)


@dataclass
class Desk:
    handler: CommandHandler
    desk: PlaybookDesk
    service: IncidentService
    sessions: async_sessionmaker[AsyncSession]
    plan: Plan
    http: HttpDouble
    clock: FakeClock

    async def say(self, text: str, ctx: Context = COMMANDER) -> Reply:
        return await self.handler.handle_text(text, ctx)

    async def with_playbook(self, key: str = "test_book") -> int:
        """An incident opened in the incident room, followed in the war room too, with the
        playbook's checklist on it; returns its number."""
        reply = await self.say("abrir P2 Respostas lentas do modelo")
        assert reply.incident is not None, reply.text
        number = reply.incident.number
        await self.service.bind(number, WAR_ROOM)
        async with self.sessions.begin() as session:
            await checklists.attach(
                session, number, key, self.plan.playbooks[key], self.clock.now()
            )
        return number


MakeDesk = Callable[..., Desk]


@pytest.fixture
async def desk(tmp_path: Path, sqlite_url: str, clock: FakeClock) -> AsyncIterator[Desk]:
    plan = playbook_plan(tmp_path)
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    renderer = Renderer(plan, TimeFormat("America/Sao_Paulo"))
    service = IncidentService(sessions, plan, renderer, clock=clock.now)
    http = HttpDouble()
    runner = HookRunner(
        plan.hooks,
        environ={"JAMIE_TEST_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
        transport=httpx.MockTransport(http.handler),
    )
    playbooks = PlaybookDesk(sessions, plan, service, runner, clock=clock.now)
    handler = CommandHandler(
        service, plan, renderer, Directory(plan), clock=clock.now, playbooks=playbooks
    )
    yield Desk(handler, playbooks, service, sessions, plan, http, clock)
    await engine.dispose()
