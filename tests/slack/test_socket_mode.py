"""Socket Mode, for a hospital without public ingress: the same app over a websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.slack.double import APP_TOKEN, SlackDouble
from tests.slack.harness import (
    GENERAL,
    SlackHarness,
    channel_texts,
    eventually,
    slack_settings,
    start_harness,
)


@pytest.fixture
async def socket_slack(tmp_path: Path, double: SlackDouble) -> AsyncIterator[SlackHarness]:
    settings = slack_settings(tmp_path, double, slack={"mode": "socket", "app_token": APP_TOKEN})
    harness = await start_harness(settings, double)
    yield harness
    await harness.http.aclose()
    await harness.jamie.stop()
    assert double.unexpected == []


def envelope(
    envelope_id: str, kind: str, payload: dict[str, Any], retry: int = 0
) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": kind, "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry, "retry_reason": "timeout" if retry else "",
    }  # fmt: skip


async def test_a_slash_command_over_the_socket_is_acknowledged_and_answered(
    socket_slack: SlackHarness, double: SlackDouble
) -> None:
    form = socket_slack.slash_form("open P1 Sem rede no centro cirúrgico")

    await double.socket_send(envelope("e-1", "slash_commands", form))

    assert (await double.socket_ack("e-1"))["envelope_id"] == "e-1"
    answer = await eventually(lambda: double.responses)
    assert "INC-0001 opened as P1" in answer[0]["text"]
    await eventually(lambda: double.channel_named("inc-"))


async def test_a_redelivered_event_runs_once(
    socket_slack: SlackHarness, double: SlackDouble
) -> None:
    body = socket_slack.mention_body("<@UJAMIE> ajuda", channel=GENERAL)

    await double.socket_send(envelope("e-2", "events_api", body))
    await double.socket_send(envelope("e-3", "events_api", body, retry=1))

    await double.socket_ack("e-2")
    await double.socket_ack("e-3")
    replies = await eventually(lambda: channel_texts(double.channels[GENERAL]))
    await socket_slack.settle()
    assert len(channel_texts(double.channels[GENERAL])) == 1
    assert "Comandos do Jamie" in replies[0]


async def test_no_http_route_is_served_in_socket_mode(socket_slack: SlackHarness) -> None:
    response = await socket_slack.slash("list")

    assert response.status_code == 404
