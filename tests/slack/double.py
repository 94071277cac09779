"""A local Slack for tests: the Web API methods Jamie uses, response_urls and Socket Mode,
served by aiohttp on an ephemeral 127.0.0.1 port.

It keeps channels, members, messages and pins the way Slack would, records every call,
checks Block Kit limits (answering `invalid_blocks` like Slack), and can be told to fail
a method: `double.fail("conversations.create", "name_taken")`, or with
`status=429, retry_after=1` for `ratelimited`. A method it does not know is recorded in
`unexpected` and answered `unknown_method`, so a test notices calls it did not plan for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TEAM = "T0HOSPITAL"
BOT_USER = "UJAMIE"
_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Failure:
    error: str
    times: int
    status: int = 200
    retry_after: float | None = None
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    pins: list[str] = field(default_factory=list)


class SlackDouble:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.unexpected: list[str] = []
        self.responses: list[dict[str, Any]] = []
        self.channels: dict[str, Channel] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.direct: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._ids = itertools.count(1)
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._acked = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_get("/socket", self._socket_endpoint)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests set up and read -------------------------------------------------------

    def add_channel(self, channel_id: str, name: str) -> Channel:
        self.channels[channel_id] = Channel(channel_id, name, {BOT_USER})
        return self.channels[channel_id]

    def add_user(self, user_id: str, display_name: str) -> None:
        self.users[user_id] = {
            "id": user_id, "name": display_name.lower(),
            "profile": {"display_name": display_name, "real_name": display_name},
        }  # fmt: skip

    def fail(
        self, method: str, error: str, *, times: int = 1, status: int = 200,
        retry_after: float | None = None, when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:  # fmt: skip
        self._failures.setdefault(method, []).append(
            Failure(error, times, status, retry_after, when)
        )

    def response_url(self, token: str) -> str:
        return f"{self.url}/respond/{token}"

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def channel_named(self, prefix: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name.startswith(prefix)), None)

    def incident_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.name.startswith("inc-")]

    # -- Socket Mode ----------------------------------------------------------------------

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        await asyncio.wait_for(self._socket_ready.wait(), 5)
        assert self._socket is not None
        await self._socket.send_str(json.dumps(envelope))

    async def socket_ack(self, envelope_id: str, within: float = 5) -> dict[str, Any]:
        async with self._acked:
            await asyncio.wait_for(
                self._acked.wait_for(lambda: envelope_id in self.socket_acks), within
            )
        return self.socket_acks[envelope_id]

    async def _socket_endpoint(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self._socket_ready.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                async with self._acked:
                    self.socket_acks[str(ack.get("envelope_id"))] = ack
                    self._acked.notify_all()
        return ws

    # -- the Web API ----------------------------------------------------------------------

    async def _stats(self, request: web.Request) -> web.Response:
        """What a benchmark in another process reads: calls per method, channels, pins."""
        methods: dict[str, int] = {}
        for call in self.calls:
            methods[call.method] = methods.get(call.method, 0) + 1
        return web.json_response({
            "methods": methods, "responses": len(self.responses),
            "incident_channels": len(self.incident_channels()),
            "pins": sum(len(c.pins) for c in self.incident_channels()),
            "unexpected": self.unexpected,
        })  # fmt: skip

    async def _respond(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.responses.append({"token": request.match_info["token"], **payload})
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        auth = request.headers.get("Authorization", "")
        token = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if auth != f"Bearer {token}":
            return _answer({"ok": False, "error": "invalid_auth"})
        failure = self._failure(method, params)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return _answer({"ok": False, "error": failure.error}, failure.status, headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            self.unexpected.append(method)
            return _answer({"ok": False, "error": "unknown_method"}, 404)
        result: dict[str, Any] = handler(params)
        return _answer(result)

    def _failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self._failures.get(method, []):
            if failure.times > 0 and (failure.when is None or failure.when(params)):
                failure.times -= 1
                return failure
        return None

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": TEAM, "team": "Hospital", "user_id": BOT_USER,
                "bot_id": "BJAMIE", "url": "https://hospital.example/"}  # fmt: skip

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http", "ws", 1) + "/socket"}

    def _conversations_create(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name", ""))
        if not _NAME.match(name):
            return {"ok": False, "error": "invalid_name_specials"}
        if any(c.name == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel = self.add_channel(f"C{next(self._ids):06d}", name)
        return {"ok": True, "channel": {"id": channel.id, "name": name}}

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel.members.add(BOT_USER)
        return {"ok": True, "channel": {"id": channel.id}}

    def _conversations_invite(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if users and all(u in channel.members for u in users):
            return {"ok": False, "error": "already_in_channel"}
        channel.members.update(users)
        return {"ok": True, "channel": {"id": channel.id}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        target = str(params.get("channel"))
        if target.startswith("U"):
            self.direct.append(params)
            return {"ok": True, "channel": "D" + target, "ts": self._ts()}
        channel = self.channels.get(target)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = block_problem(params.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        ts = self._ts()
        channel.messages[ts] = {**params, "ts": ts}
        return {"ok": True, "channel": channel.id, "ts": ts}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(params.get("ts"))
        if ts not in channel.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = block_problem(params.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        channel.messages[ts] = {**params, "ts": ts}
        return {"ok": True, "channel": channel.id, "ts": ts}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        self.ephemeral.append(params)
        return {"ok": True, "message_ts": self._ts()}

    def _pins_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        ts = str(params.get("timestamp"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if ts not in channel.messages:
            return {"ok": False, "error": "message_not_found"}
        if ts in channel.pins:
            return {"ok": False, "error": "already_pinned"}
        channel.pins.append(ts)
        return {"ok": True}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        problem = block_problem(view.get("blocks"), limit=100) if view else "no view"
        if problem:
            return {"ok": False, "error": "invalid_arguments", "errors": [problem]}
        opened = {**view, "id": f"V{next(self._ids):06d}", "hash": "h1"}
        self.views.append({"trigger_id": params.get("trigger_id"), "view": opened})
        return {"ok": True, "view": opened}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user"))
        if user not in self.users:
            self.add_user(user, user.lower())
        return {"ok": True, "user": self.users[user]}

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(dict(await request.post()))
    for key in ("blocks", "view"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _answer(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


_TEXT_LIMITS = {"section": 3000, "header": 150, "context": 2000}


def block_problem(blocks: Any, limit: int = 50) -> str | None:
    """What Slack would refuse in `blocks` (the limits Jamie must respect), or None."""
    if blocks is None:
        return None
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > limit:
        return f"more than {limit} blocks"
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text")
        if text is not None and len(text) > _TEXT_LIMITS.get(kind, 3000):
            return f"block {i} ({kind}) text of {len(text)} characters"
        if kind == "section" and text is None and not block.get("fields"):
            return f"block {i} section without text"
        for item in block.get("fields") or []:
            if len(item.get("text", "")) > 2000:
                return f"block {i} field too long"
        if len(block.get("fields") or []) > 10:
            return f"block {i} has more than 10 fields"
        for element in block.get("elements") or []:
            if element.get("type") == "button" and len(element["text"]["text"]) > 75:
                return f"block {i} button label too long"
            if element.get("type") == "mrkdwn" and len(element["text"]) > 2000:
                return f"block {i} context element too long"
    return None
