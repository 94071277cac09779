"""Settings and plan values a person can get wrong fail at start-up naming the variable or
field; a busy HTTP port is reported with the fix instead of killing the process."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette

from bot.plan import PlanError, load_plan
from bot.settings import Settings, SettingsError
from bot.web.server import WebServer, WebServerError

PLAN = Path(__file__).resolve().parents[2] / "deploy" / "plan.yaml"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JAMIE_SWEEP_SECONDS", "-1", "JAMIE_SWEEP_SECONDS: must be between"),
        ("JAMIE_SWEEP_SECONDS", "abc", "JAMIE_SWEEP_SECONDS: 'abc' is not a number"),
        ("JAMIE_STATUS_INTERVAL", "0s", "JAMIE_STATUS_INTERVAL: must be at least 1s"),
        ("JAMIE_STATUS_INTERVAL", "soon", "is not a duration"),
        ("JAMIE_HTTP_PORT", "99999", "JAMIE_HTTP_PORT: must be between 0 and 65535"),
        ("JAMIE_TIMEZONE", "Mars/Olympus", "JAMIE_TIMEZONE: unknown time zone"),
    ],
)
def test_a_bad_variable_is_named_in_the_error(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"JAMIE_HOME": str(tmp_path), name: value})


def test_without_jamie_timezone_the_plan_zone_applies(tmp_path: Path) -> None:
    assert Settings.from_env({"JAMIE_HOME": str(tmp_path)}).timezone is None
    assert load_plan(PLAN).timezone == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d.update(default_language="klingon"), "default_language"),
        (lambda d: d["status_updates"].update(every="0s"), "status_updates.every"),
        (lambda d: d["severities"]["P3"].update(status_update_every="0s"), "status_update_every"),
    ],
)
def test_plan_values_that_would_misbehave_are_refused(tmp_path: Path, change, field) -> None:
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    change(data)
    broken = tmp_path / "plan.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with pytest.raises(PlanError, match=field):
        load_plan(broken)


async def test_a_busy_port_is_reported_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(Starlette(), "127.0.0.1", port)

        with pytest.raises(WebServerError, match=f"127.0.0.1:{port}.*JAMIE_HTTP_PORT"):
            await server.start()


async def test_escalating_downwards_says_which_command_goes_that_way(sqlite_app) -> None:
    from bot.commands.handler import Context
    from bot.domain.enums import Transport

    ctx = Context(Transport.CONSOLE, "local", "Ana")
    await sqlite_app.handler.handle_text("open P2 Slow model server", ctx)

    reply = await sqlite_app.handler.handle_text("escalate INC-0001 P3", ctx)

    assert not reply.ok
    assert reply.text == "INC-0001 is P2; P3 goes the other way: use `downgrade INC-0001 P3`."


def test_help_for_an_unknown_command_says_so() -> None:
    from bot.commands.parser import ParseError, parse

    with pytest.raises(ParseError) as refused:
        parse("help frobnicate")

    assert refused.value.key == "error.unknown_command"
    assert refused.value.params == {"word": "frobnicate"}
