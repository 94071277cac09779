"""Starting with Slack on: a refused token stops Jamie with the fix; Slack being down does not."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.app import Jamie
from bot.settings import SettingsError
from tests.slack.double import SlackDouble
from tests.slack.harness import FakeAssistant, slack_settings


async def test_a_refused_token_stops_jamie_naming_the_variable(
    tmp_path: Path, double: SlackDouble
) -> None:
    settings = slack_settings(tmp_path, double, slack={"bot_token": "xoxb-revoked"})
    jamie = Jamie(settings, assistant=FakeAssistant())

    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN was refused by Slack"):
        await jamie.start()
    await jamie.stop()


async def test_slack_unreachable_at_start_leaves_the_rest_of_jamie_running(
    tmp_path: Path, double: SlackDouble
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = slack_settings(
        tmp_path, double, slack={"api_url": f"http://127.0.0.1:{closed}/api/"}
    )
    jamie = Jamie(settings, assistant=FakeAssistant())

    await jamie.start()
    try:
        from bot.commands.handler import Context
        from bot.domain.enums import Transport

        reply = await jamie.commands.handle_text("list", Context(Transport.CONSOLE, "a", "a"))
        assert reply.ok
    finally:
        await jamie.stop()
