"""Signed HTTP requests against Jamie's real ASGI app: what is accepted, what is refused."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.commands.ports import Answer
from bot.storage.models import IncidentRow
from tests.slack.double import SlackDouble
from tests.slack.harness import SlackHarness, eventually, sign

STARTUP_CALLS = ["auth.test", "conversations.join"]


async def incidents(slack: SlackHarness) -> int:
    async with slack.jamie.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(IncidentRow)) or 0)


async def test_slash_open_is_acknowledged_at_once_and_answered_through_response_url(
    slack: SlackHarness,
) -> None:
    started = time.perf_counter()
    response = await slack.slash("open P1 Respostas da IA lentas dept=uti")
    took = time.perf_counter() - started

    assert (response.status_code, response.text) == (200, "")
    assert took < 1.0
    answer = await eventually(lambda: slack.double.responses)
    assert "INC-0001 opened as P1" in answer[0]["text"]
    assert answer[0]["response_type"] == "in_channel"


async def test_the_ack_does_not_wait_for_a_slow_runbook(slack: SlackHarness) -> None:
    async def slow_ask(question: str, *, language: str) -> Answer:
        await asyncio.sleep(2)
        return Answer(passages=())

    slack.assistant.ask = slow_ask  # type: ignore[method-assign]
    started = time.perf_counter()

    response = await slack.slash("o que fazer num P0?", command="/jamie")

    assert response.status_code == 200 and time.perf_counter() - started < 0.3
    answer = await eventually(lambda: slack.double.responses, within=5)
    assert "Não encontrei nada no runbook" in answer[0]["text"]


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda body: sign(body, secret="someone-else"), id="wrong secret"),
        pytest.param(lambda body: sign(body, int(time.time()) - 6 * 60), id="stale"),
        pytest.param(lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))},
                     id="unsigned"),
        pytest.param(lambda body: sign(body + b"&text=tampered"), id="tampered body"),
    ],
)  # fmt: skip
async def test_a_bad_or_stale_signature_is_refused_and_nothing_runs(
    slack: SlackHarness, double: SlackDouble, signature: object
) -> None:
    body = urlencode(slack.slash_form("open P0 Falso alarme")).encode()

    response = await slack.send(
        body,
        "application/x-www-form-urlencoded",
        signature=signature(body),  # type: ignore[operator]
    )

    assert response.status_code == 401
    await asyncio.sleep(0.2)
    assert await incidents(slack) == 0
    assert [c.method for c in double.calls] == STARTUP_CALLS
    assert double.responses == []


async def test_another_workspace_is_refused(slack: SlackHarness, double: SlackDouble) -> None:
    response = await slack.slash("open P0 Falso alarme", team="T0OTHER")

    assert response.status_code == 403
    await asyncio.sleep(0.2)
    assert await incidents(slack) == 0 and double.responses == []


async def test_slacks_url_verification_gets_its_challenge_back(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()

    response = await slack.send(body, "application/json")

    assert response.status_code == 200 and "c-123" in response.text


async def test_an_oversized_body_is_refused_before_reading(slack: SlackHarness) -> None:
    body = b"x" * 1_100_000

    response = await slack.send(body, "application/x-www-form-urlencoded")

    assert response.status_code == 413
