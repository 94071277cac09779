"""The one Slack client: retries that honour Retry-After, pacing, translated errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import (
    ChannelNotFound,
    InvalidBlocks,
    NameTaken,
    RateLimited,
    SlackUnavailable,
)
from bot.transports.slack.pacing import Pacer, PaceSettings
from tests.slack.double import TOKEN, SlackDouble
from tests.slack.harness import GENERAL


@pytest.fixture
async def client(double: SlackDouble) -> AsyncIterator[SlackClient]:
    fast = Pacer(PaceSettings(per_channel=0.0, rates={}))
    slack = SlackClient(TOKEN, base_url=f"{double.url}/api/", pacer=fast,
                        response_url_prefix=f"{double.url}/respond/")  # fmt: skip
    await slack.start()
    yield slack
    await slack.close()


async def test_ratelimited_waits_what_retry_after_says_then_succeeds(
    client: SlackClient, double: SlackDouble
) -> None:
    double.fail("chat.postMessage", "ratelimited", status=429, retry_after=1)
    started = time.monotonic()

    ts = await client.post(GENERAL, "olá")

    assert ts and time.monotonic() - started >= 1.0
    assert len(double.called("chat.postMessage")) == 2


async def test_ratelimited_gives_up_after_the_bounded_retries(
    client: SlackClient, double: SlackDouble
) -> None:
    double.fail("chat.update", "ratelimited", status=429, retry_after=0.05, times=10)

    with pytest.raises(RateLimited):
        await client.update(GENERAL, "1.1", "x", [])

    assert len(double.called("chat.update")) == 4  # the call and three retries


async def test_a_retry_after_beyond_the_wait_limit_is_not_slept_through(
    client: SlackClient, double: SlackDouble
) -> None:
    double.fail("chat.postMessage", "ratelimited", status=429, retry_after=600)
    started = time.monotonic()

    with pytest.raises(RateLimited) as raised:
        await client.post(GENERAL, "olá")

    assert raised.value.retry_after == 600 and time.monotonic() - started < 1


async def test_server_errors_are_retried_then_reported_as_unavailable(
    client: SlackClient, double: SlackDouble
) -> None:
    double.fail("pins.add", "internal_error", status=500, times=10)

    with pytest.raises(SlackUnavailable) as raised:
        await client.pin(GENERAL, "1.1")

    assert raised.value.transient


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        ("conversations.create", "name_taken", NameTaken),
        ("chat.postMessage", "invalid_blocks", InvalidBlocks),
        ("chat.postMessage", "channel_not_found", ChannelNotFound),
    ],
)
async def test_slack_errors_become_ours_without_retrying(
    client: SlackClient, double: SlackDouble, method: str, error: str, expected: type
) -> None:
    double.fail(method, error)

    with pytest.raises(expected):
        if method == "conversations.create":
            await client.create_channel("inc-x")
        else:
            await client.post(GENERAL, "x")

    assert len(double.called(method)) == 1


async def test_a_response_url_outside_slack_is_refused(client: SlackClient) -> None:
    with pytest.raises(Exception, match="response_url_refused"):
        await client.respond("http://127.0.0.1:1/elsewhere", {"text": "x"})


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_fifteen_updates_due_at_once_are_spread_not_fired_together() -> None:
    fake = FakeTime()
    pacer = Pacer(PaceSettings(), clock=fake.clock, sleep=fake.sleep)
    started = fake.now
    moments = []

    for n in range(15):
        await pacer.wait("chat.update", f"C{n}")
        moments.append(fake.now - started)

    per_second = max(sum(1 for m in moments if s <= m < s + 1) for s in range(20))
    assert per_second <= 1 and moments[-1] >= 14 * 60 / 50 - 0.01


async def test_posts_to_one_channel_are_a_second_apart_others_go_between() -> None:
    fake = FakeTime()
    pacer = Pacer(PaceSettings(per_channel=1.0, rates={"chat.postMessage": 10.0}),
                  clock=fake.clock, sleep=fake.sleep)  # fmt: skip
    moments = []
    for channel in ("CA", "CA", "CB", "CA"):
        await pacer.wait("chat.postMessage", channel)
        moments.append(round(fake.now - 100.0, 2))

    assert moments == [0.0, 1.0, 1.1, 2.0]


async def test_retry_after_holds_the_method_for_every_caller() -> None:
    fake = FakeTime()
    pacer = Pacer(PaceSettings(per_channel=0, rates={}), clock=fake.clock, sleep=fake.sleep)

    pacer.hold("chat.update", 30)
    waited = await pacer.wait("chat.update", "C1")

    assert waited == 30
