"""Jamie's Slack app: a slack-bolt AsyncApp served on Jamie's own ASGI server
(POST /slack/events) or over Socket Mode, as SLACK_MODE says.

The composition root builds one `SlackTransport`, registers its outbox sender and routes,
and starts and stops it with the rest of Jamie. Bolt verifies each request's signature
and age (401 otherwise) before anything here runs; then a middleware refuses any
workspace but the configured one, and `listeners.py` does the work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.settings import SettingsError, SlackSettings
from bot.transports.slack.blocks import CardRenderer
from bot.transports.slack.cards import CardKeeper
from bot.transports.slack.channels import ChannelProvisioner
from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import SlackError
from bot.transports.slack.gate import DEFAULT_SLOTS, WorkGate
from bot.transports.slack.listeners import Listeners
from bot.transports.slack.pacing import Pacer, PaceSettings
from bot.transports.slack.people import People
from bot.transports.slack.sender import SlackSender
from bot.transports.slack.store import ChannelStore, RequestLedger

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import Jamie

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000
KEEP_REQUEST_KEYS = timedelta(days=2)
_AUTH_RETRY_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SlackTuning:
    """Pacing and card refresh delay: Slack's real limits by default; faster for a double."""

    pace: PaceSettings = field(default_factory=PaceSettings)
    card_delay: float = 0.5
    work_slots: int = DEFAULT_SLOTS


class SlackTransport:
    def __init__(
        self, jamie: Jamie, settings: SlackSettings, *, clock: Callable[[], datetime],
        tuning: SlackTuning | None = None,
    ) -> None:  # fmt: skip
        tuning = tuning or SlackTuning()
        self.settings = settings
        self.digest = ConversationRef(Transport.SLACK, settings.digest_channel)
        self._now = clock
        self.client = SlackClient(
            settings.bot_token.get_secret_value(),
            base_url=settings.api_url,
            response_url_prefix=settings.response_url_prefix,
            pacer=Pacer(tuning.pace),
        )
        self.channels = ChannelStore(jamie.sessions, clock=self._now)
        self.ledger = RequestLedger(jamie.sessions, clock=self._now)
        card = CardRenderer(jamie.renderer, jamie.language)
        self.cards = CardKeeper(
            self.client, self.channels, jamie.service, card, clock=self._now,
            delay=tuning.card_delay,
        )  # fmt: skip
        self.provisioner = ChannelProvisioner(
            self.client, self.channels, jamie.service, self.cards, jamie.plan, jamie.time,
            language=jamie.language, clock=self._now,
        )  # fmt: skip
        self.sender = SlackSender(
            self.client, jamie.service, jamie.renderer, self.provisioner, self.cards,
            language=jamie.language,
        )  # fmt: skip
        self.bolt = AsyncApp(
            signing_secret=settings.signing_secret.get_secret_value(),
            authorize=self._authorizer(),
            # Tokenless: listeners call Slack through self.client only, never bolt's client.
            client=AsyncWebClient(base_url=settings.api_url),
            process_before_response=False,
            logger=logging.getLogger("bot.transports.slack.bolt"),
        )
        self.bolt.middleware(self._only_our_workspace)
        Listeners(
            handler=jamie.commands, directory=jamie.commands.directory, plan=jamie.plan,
            client=self.client, people=People(self.client), ledger=self.ledger,
            provisioner=self.provisioner, cards=self.cards, channels=self.channels,
            digest_channel=settings.digest_channel, gate=WorkGate(tuning.work_slots),
        ).register(self.bolt)  # fmt: skip
        self._http = AsyncSlackRequestHandler(self.bolt)
        self._auth: AuthorizeResult | None = None
        self._team: str | None = settings.team_id
        self._socket: AsyncSocketModeHandler | None = None
        self._background: asyncio.Task[None] | None = None

    def tune(self, tuning: SlackTuning) -> None:
        """Other pacing and card delay (tests and benchmarks against a local double)."""
        self.client.pacer.settings = tuning.pace
        self.cards.delay = tuning.card_delay

    def routes(self) -> list[BaseRoute]:
        if self.settings.mode != "http":
            return []
        return [Route(EVENTS_PATH, self._events, methods=["POST"])]

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.client.start()
        await self.ledger.forget_before(self._now() - KEEP_REQUEST_KEYS)
        if not await self._identify():
            self._background = asyncio.create_task(self._identify_later(), name="slack-auth")
        if self.settings.mode == "socket":
            await self._connect_socket()
        log.info("slack started (%s mode, team %s)", self.settings.mode, self._team or "?")

    def closing(self) -> None:
        """Jamie is stopping: deliver only what needs no waiting; the outbox keeps the rest."""
        self.client.closing()

    async def stop(self) -> None:
        if self._background is not None:
            self._background.cancel()
            self._background = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        await self.cards.stop()
        await self.client.close()

    async def _identify(self) -> bool:
        """auth.test once: the workspace and bot user ids. A refused token stops Jamie with
        the fix; Slack being unreachable only delays Slack (the console keeps working)."""
        try:
            found = await self.client.auth_test()
        except SlackError as exc:
            if not exc.transient:
                raise SettingsError(
                    f"SLACK_BOT_TOKEN was refused by Slack ({exc.code}): copy the Bot User "
                    "OAuth Token (xoxb-…) from the app's OAuth & Permissions page"
                ) from exc
            log.warning("slack auth.test failed (%s); retrying in the background", exc.code)
            return False
        self._team = self.settings.team_id or str(found.get("team_id") or "") or None
        self._auth = AuthorizeResult(
            enterprise_id=found.get("enterprise_id"),
            team_id=self._team,
            bot_user_id=found.get("user_id"),
            bot_id=found.get("bot_id"),
            bot_token=self.settings.bot_token.get_secret_value(),
        )
        try:
            await self.client.join(self.settings.digest_channel)
        except SlackError as exc:
            log.warning("could not join the digest channel: %s", exc.code)
        return True

    async def _identify_later(self) -> None:
        identified = False
        while not identified:
            await asyncio.sleep(_AUTH_RETRY_SECONDS)
            identified = await self._identify()

    async def _connect_socket(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert self.settings.app_token is not None  # settings validation requires it
        self._socket = AsyncSocketModeHandler(
            self.bolt, self.settings.app_token.get_secret_value(), web_client=self.client.web
        )
        await self._socket.connect_async()  # type: ignore[no-untyped-call]

    # -- requests -------------------------------------------------------------------------

    async def _events(self, request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return Response(status_code=413)
        started = time.perf_counter()
        response = await self._http.handle(request)
        # How long Jamie took to acknowledge, for benchmarks and proxies (W3C Server-Timing).
        took = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"ack;dur={took:.1f}"
        return response

    def _authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's `authorize` hook (a plain function: bolt passes arguments by name)."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            if self._auth is None:
                raise SlackError("not_identified_yet", "authorize")
            return self._auth

        return authorize

    async def _only_our_workspace(
        self, context: AsyncBoltContext, next: Any
    ) -> BoltResponse | None:
        team = context.team_id
        if team and self._team and team != self._team:
            log.warning("refused a request from workspace %s", team)
            return BoltResponse(status=403, body="")
        await next()
        return None
