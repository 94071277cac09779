"""The people's channels against real local servers, in real time: e-mail into aiosmtpd,
signed JSON into an HTTP receiver, and a whole Jamie paging, escalating and stopping on
an acknowledgement over HTTP, with clocks of a few seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import Jamie
from bot.commands.handler import Context
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.notify.channels.base import DeliveryError, Notification
from bot.notify.channels.email import EmailChannel
from bot.notify.channels.webhook import WebhookChannel
from bot.plan.model import Channel
from bot.settings import Settings
from tests.sla.doubles import SECRET, SmtpServer, WebhookReceiver
from tests.sla.harness import fast_plan


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def note(channel: Channel, address: str, key: str = "page:1:0", **extra: str) -> Notification:
    return Notification(
        id=1, key=f"{key}:{channel.value}", kind="page", contact="hospital_cto",
        name="Hospital CTO", channel=channel, address=address, language="en",
        subject="[P0] INC-0001 — Mac Studio down", text="🚨 P0 INC-0001: Mac Studio down.",
        incident_ref="INC-0001", payload={"ack_url": "http://127.0.0.1/pages/t", **extra},
    )  # fmt: skip


async def test_email_reaches_the_smtp_server_with_a_stable_message_id(smtp: SmtpServer) -> None:
    channel = EmailChannel("127.0.0.1", smtp.port, "jamie@hospital.example")

    await channel.send(note(Channel.EMAIL, "cto@hospital.example"))
    await channel.send(note(Channel.EMAIL, "cto@hospital.example"))

    first, second = smtp.messages
    assert (first["To"], first["Subject"], first["Content-Language"]) == (
        "cto@hospital.example", "[P0] INC-0001 — Mac Studio down", "en",
    )  # fmt: skip
    assert first["Message-ID"] == second["Message-ID"]
    assert "Mac Studio down" in first.get_content()


async def test_unreachable_smtp_server_is_a_transient_failure() -> None:
    from tests.sla.doubles import free_port

    channel = EmailChannel("127.0.0.1", free_port(), "jamie@hospital.example", timeout=2)

    with pytest.raises(DeliveryError) as caught:
        await channel.send(note(Channel.EMAIL, "cto@hospital.example"))

    assert not caught.value.permanent


async def test_webhook_posts_signed_json_with_an_idempotency_key(
    receiver: WebhookReceiver,
) -> None:
    channel = WebhookChannel(receiver.url, SECRET)

    await channel.send(note(Channel.SMS, "+55 11 90000-0004", severity="P0"))
    await channel.send(note(Channel.SMS, "+55 11 90000-0004", severity="P0"))
    await channel.aclose()

    [one, two] = receiver.requests
    assert one.signed and one.headers["Idempotency-Key"] == two.headers["Idempotency-Key"]
    assert one.body == {
        "id": "page:1:0:sms", "channel": "sms", "to": "+55 11 90000-0004",
        "contact": "hospital_cto", "name": "Hospital CTO", "language": "en", "kind": "page",
        "incident": "INC-0001", "subject": "[P0] INC-0001 — Mac Studio down",
        "text": "🚨 P0 INC-0001: Mac Studio down.", "ack_url": "http://127.0.0.1/pages/t",
        "severity": "P0",
    }  # fmt: skip
    assert len(receiver.delivered) == 1  # the gateway drops the repeat by its key


@pytest.mark.parametrize(("status", "permanent"), [(503, False), (429, False), (400, True)])
async def test_webhook_failures_are_transient_or_permanent_by_status(
    receiver: WebhookReceiver, status: int, permanent: bool
) -> None:
    receiver.failures, receiver.fail_with = 1, status
    channel = WebhookChannel(receiver.url, SECRET)

    with pytest.raises(DeliveryError) as caught:
        await channel.send(note(Channel.PAGING, "+55 11 90000-0003"))
    await channel.aclose()

    assert caught.value.permanent is permanent


# -- a whole Jamie, in real time ---------------------------------------------------------------


@pytest.fixture
async def jamie(
    tmp_path: Path, receiver: WebhookReceiver, smtp: SmtpServer
) -> AsyncIterator[Jamie]:
    env = {
        "JAMIE_HOME": str(tmp_path), "JAMIE_PLAN": str(fast_plan(tmp_path)),
        "JAMIE_HTTP_PORT": "0", "JAMIE_SWEEP_SECONDS": "0.5", "JAMIE_LEASE_SECONDS": "2",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        "JAMIE_PAGING_WEBHOOK_URL": receiver.url, "JAMIE_PAGING_WEBHOOK_SECRET": SECRET,
        "JAMIE_STATUS_INTERVAL": "1h",
    }  # fmt: skip
    app = Jamie(Settings.from_env(env), assistant=None)
    await app.start()
    web = await app.start_web()
    app.clockwork.pages._public_url = f"http://127.0.0.1:{web.port}"
    yield app
    await app.stop()


async def wait_for(check: object, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_jamie_pages_escalates_and_stops_on_the_ack_link_in_real_time(
    jamie: Jamie, receiver: WebhookReceiver, smtp: SmtpServer
) -> None:
    ctx = Context(Transport.CONSOLE, "ana", "Ana", ConversationRef(Transport.CONSOLE, "room"))
    opened = datetime.now(UTC)
    await jamie.commands.handle_text("open P2 Respostas lentas do modelo", ctx)
    await jamie.commands.handle_text("open P1 Mac Studio degradado", ctx)

    # P1: IT Manager paged at once; the response (2 s) breaches and pages them again.
    await wait_for(lambda: any("SLA" in b["text"] for b in receiver.to("+55 11 90000-0003")))
    breach = next(b for b in receiver.to("+55 11 90000-0003") if "SLA" in b["text"])
    # P2: the IT team hears by e-mail (the plan's routing for P2).
    await wait_for(lambda: {m["To"] for m in smtp.messages} >= {"it.manager@hospital.example"})
    # The P1 breach page is acknowledged with its link; its repeats stop.
    async with httpx.AsyncClient() as client:
        answer = await client.post(breach["ack_url"], headers={"Accept": "application/json"})
    acked_at = len(receiver.to("+55 11 90000-0003"))
    await asyncio.sleep(2.5)
    after_ack = receiver.to("+55 11 90000-0003")[acked_at:]

    assert answer.json() == {"acknowledged": True, "incident": "INC-0002", "pages": 2}
    assert all(r.signed for r in receiver.requests)
    assert [b for b in after_ack if b["ack_url"] == breach["ack_url"]] == []
    assert datetime.now(UTC) - opened < timedelta(seconds=30)
    timeline = await jamie.service.get(2, with_timeline=True)
    events = [e.data.get("event") for e in timeline.timeline]
    assert {"escalation", "sla_breach", "cadence", "page_acked"} <= set(events)
