"""Builders for Slack tests: Jamie with Slack on, served on an ephemeral 127.0.0.1 port and
talking to the local double (`double.py`).

`SlackHarness` it signs requests the way Slack does (v0 HMAC-SHA256 over
`v0:<timestamp>:<body>`), builds realistic payloads for slash commands, card clicks, modal
submissions and events, and sends them to Jamie's real ASGI app over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml
from sqlalchemy import func, select

from bot.app import Jamie
from bot.commands.ports import Answer, Citation
from bot.settings import Settings, SlackSettings
from bot.storage.models import OutboxRow
from bot.transports.slack.app import SlackTuning
from bot.transports.slack.pacing import PaceSettings
from tests.slack.double import TEAM, TOKEN, Channel, SlackDouble

REPO = Path(__file__).resolve().parents[2]
SECRET = "test-signing-secret"
DIGEST = "C0DIGEST"
GENERAL = "C0GENERAL"
# Slack ids of the people in the test plan: two commanders, a responder, and a clinician
# the plan does not list (an observer).
ANA, IGOR, RUI, OLGA = "U0SRE", "U0ITM", "U0RESP", "U0OBS"
FAST = SlackTuning(pace=PaceSettings().faster(100), card_delay=0.05)


class FakeAssistant:
    """The runbook, answering every question with one cited passage."""

    def __init__(self) -> None:
        self.questions: list[tuple[str, str]] = []

    async def ask(self, question: str, *, language: str) -> Answer:
        self.questions.append((question, language))
        passage = Citation(
            "p0-response-protocol.md#first-2-minutes", "First 2 minutes",
            "Acknowledge within 2 minutes and open the incident channel.", "en",
        )  # fmt: skip
        return Answer(passages=(passage,))


def write_plan(target: Path, responders: tuple[str, ...] = ()) -> Path:
    """deploy/plan.yaml with Slack identities; `responders` are more people of RUI's role."""
    plan = yaml.safe_load((REPO / "deploy" / "plan.yaml").read_text(encoding="utf-8"))
    plan["responders"] = {
        "primary-sre": {"name": "Primary SRE", "role": "commander", "language": "en",
                        "identities": {"console": ["*"], "slack": [ANA]}},
        "it-manager": {"name": "IT Manager", "role": "commander",
                       "identities": {"slack": [IGOR]}},
        "oncall-responder": {"name": "On-call Responder", "role": "responder",
                             "identities": {"slack": [RUI, *responders]}},
    }  # fmt: skip
    target.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return target


def slack_settings(tmp_path: Path, double: SlackDouble, **overrides: Any) -> Settings:
    slack = SlackSettings.model_validate({
        "bot_token": TOKEN, "signing_secret": SECRET, "digest_channel": DIGEST,
        "api_url": f"{double.url}/api/", "response_url_prefix": f"{double.url}/respond/",
        **overrides.pop("slack", {}),
    })  # fmt: skip
    values: dict[str, Any] = {
        "home": tmp_path, "database_url": f"sqlite:///{tmp_path / 'jamie.db'}",
        "plan_path": write_plan(tmp_path / "plan.yaml"), "knowledge_dir": tmp_path / "k",
        "index_dir": tmp_path / "index", "http_port": 0, "sweep_seconds": 0.5,
        "status_interval": timedelta(hours=1), "slack": slack, **overrides,
    }  # fmt: skip
    return Settings.model_validate(values)


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


async def eventually(check: Callable[[], Any], within: float = 8.0, message: str = "") -> Any:
    """Wait until `check()` returns something truthy (awaiting it when it is a coroutine)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met in {within}s")
        await asyncio.sleep(0.05)


_ids = itertools.count(1)


@dataclass
class SlackHarness:
    jamie: Jamie
    double: SlackDouble
    http: httpx.AsyncClient
    assistant: FakeAssistant
    sent: list[httpx.Response] = field(default_factory=list)

    # -- raw, signed ----------------------------------------------------------------------

    async def send(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
        signature: dict[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        all_headers = {
            "Content-Type": content_type,
            **(signature or sign(body)),
            **(headers or {}),
        }
        response = await self.http.post("/slack/events", content=body, headers=all_headers)
        self.sent.append(response)
        return response

    async def send_form(self, form: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await self.send(
            urlencode(form).encode(), "application/x-www-form-urlencoded", **kwargs
        )

    async def send_payload(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.send_form({"payload": json.dumps(payload)}, **kwargs)

    # -- realistic requests ---------------------------------------------------------------

    def slash_form(
        self, text: str, *, user: str = ANA, channel: str = GENERAL, command: str = "/incident",
        trigger: str | None = None, team: str = TEAM,
    ) -> dict[str, str]:  # fmt: skip
        n = next(_ids)
        return {
            "token": "legacy", "team_id": team, "team_domain": "hospital",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": command, "text": text,
            "api_app_id": "A0JAMIE", "is_enterprise_install": "false",
            "response_url": self.double.response_url(f"r{n}"),
            "trigger_id": trigger or f"{n}.trigger",
        }  # fmt: skip

    async def slash(self, text: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", None)
        return await self.send_form(self.slash_form(text, **kwargs), headers=headers)

    def click_payload(
        self, action_id: str, value: str, *, user: str = ANA, channel: str = GENERAL,
        message_ts: str = "1700000000.000001",
    ) -> dict[str, Any]:  # fmt: skip
        n = next(_ids)
        return {
            "type": "block_actions", "team": {"id": TEAM, "domain": "hospital"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0JAMIE", "token": "legacy", "trigger_id": f"{n}.click",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel, "name": "inc"},
            "message": {"ts": message_ts, "type": "message"},
            "response_url": self.double.response_url(f"a{n}"),
            "actions": [{"action_id": action_id, "block_id": "jamie_card", "value": value,
                         "type": "button", "action_ts": f"{time.time():.6f}"}],
        }  # fmt: skip

    async def click(self, action_id: str, value: str, **kwargs: Any) -> httpx.Response:
        return await self.send_payload(self.click_payload(action_id, value, **kwargs))

    def submission(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = ANA
    ) -> dict[str, Any]:
        n = next(_ids)
        state = {block: {"value": value} for block, value in values.items()}
        return {
            "type": "view_submission", "team": {"id": TEAM, "domain": "hospital"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0JAMIE", "token": "legacy", "trigger_id": f"{n}.view",
            "view": {**view, "state": {"values": state}},
        }  # fmt: skip

    async def submit(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = ANA
    ) -> httpx.Response:
        return await self.send_payload(self.submission(view, values, user=user))

    def mention_body(
        self, text: str, *, user: str = ANA, channel: str = GENERAL, event_id: str | None = None
    ) -> dict[str, Any]:
        n = next(_ids)
        return {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A0JAMIE", "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UJAMIE", "is_bot": True}],
            "event": {"type": "app_mention", "user": user, "text": text, "channel": channel,
                      "ts": f"1700000100.{n:06d}", "event_ts": f"1700000100.{n:06d}"},
        }  # fmt: skip

    async def mention(self, body: dict[str, Any], *, retry: int | None = None) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.send(
            json.dumps(body).encode(), "application/json", headers=headers if retry else None
        )

    # -- reading Jamie's state ------------------------------------------------------------

    async def settle(self, within: float = 10.0) -> None:
        """Wait until the outbox holds nothing undelivered and no card edit is pending (the
        running dispatcher may hold a row when this starts, so this polls)."""
        assert self.jamie.slack is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            await self.jamie.dispatcher.deliver_pending()
            await self.jamie.slack.cards.drain()
            async with self.jamie.sessions() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(OutboxRow)
                    .where(OutboxRow.delivered_at.is_(None))
                )  # fmt: skip
            if not pending:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the outbox still holds {pending} message(s) after {within}s")


async def start_harness(settings: Settings, double: SlackDouble) -> SlackHarness:
    assistant = FakeAssistant()
    jamie = Jamie(settings, assistant=assistant)
    assert jamie.slack is not None
    jamie.slack.tune(FAST)
    await jamie.start()
    web = await jamie.start_web()
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}", timeout=10)
    return SlackHarness(jamie, double, http, assistant)


def card_of(channel: Channel) -> dict[str, Any]:
    """The incident card: the channel's pinned message, as Slack holds it now."""
    assert channel.pins, f"nothing pinned in {channel.name}"
    return channel.messages[channel.pins[0]]


def button_value(card: dict[str, Any], action_id: str) -> str:
    for block in card.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button on the card")


def buttons(card: dict[str, Any]) -> list[str]:
    return [
        str(element["action_id"])
        for block in card.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def shown(message: dict[str, Any]) -> str:
    """Everything a person sees in a message: its text and every text of its blocks."""
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields") or []]
        parts += [e["text"] for e in block.get("elements") or [] if e.get("type") == "mrkdwn"]
    return "\n".join(parts)


def channel_texts(channel: Channel) -> list[str]:
    return [shown(m) for m in channel.messages.values()]
