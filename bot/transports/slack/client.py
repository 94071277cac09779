"""The one way Jamie calls Slack: every Web API call and every `response_url` reply.

Each call is paced (`pacing.py`), retried a bounded number of times on `ratelimited`
(waiting what `Retry-After` says) and on network errors or 5xx, logged as one INFO line
(method, channel, outcome, milliseconds; never the text), and its failure translated into
`errors.py`'s hierarchy. slack_sdk's own retry handlers are switched off so retries happen
here only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.transports.slack.errors import (
    RateLimited,
    SlackError,
    SlackUnavailable,
    from_code,
)
from bot.transports.slack.pacing import Pacer, PaceTooSlow

log = logging.getLogger(__name__)

Block = dict[str, Any]
# Methods Slack does not accept JSON bodies for: sent as query parameters.
_READS = frozenset({"auth.test", "users.info"})


class SlackClient:
    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        response_url_prefix: str,
        pacer: Pacer | None = None,
        retries: int = 3,
        max_wait: float = 30.0,
        timeout: int = 10,
    ) -> None:
        self.web = AsyncWebClient(token=token, base_url=base_url, timeout=timeout)
        self.web.retry_handlers = []
        self.pacer = pacer or Pacer()
        self._retries = retries
        self._max_wait = max_wait
        self._response_prefix = response_url_prefix
        self._session: aiohttp.ClientSession | None = None
        self._closing = False

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
            self.web.session = self._session

    def closing(self) -> None:
        """Shutting down: a call that would wait for its pacing slot fails at once (as
        transient, so the outbox keeps its message for the next start) instead."""
        self._closing = True

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.web.session = None

    # -- the Web API methods Jamie uses ---------------------------------------------------

    async def auth_test(self) -> dict[str, Any]:
        return await self.call("auth.test")

    async def create_channel(self, name: str) -> str:
        data = await self.call("conversations.create", name=name, is_private=False)
        return str(data["channel"]["id"])

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        await self.call("conversations.invite", channel=channel, users=",".join(users))

    async def join(self, channel: str) -> None:
        await self.call("conversations.join", channel=channel)

    async def post(
        self, channel: str, text: str, blocks: Sequence[Block] | None = None,
        *, thread_ts: str | None = None,
    ) -> str:  # fmt: skip
        params: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if blocks is not None:
            params["blocks"] = list(blocks)
        if thread_ts:
            params["thread_ts"] = thread_ts
        data = await self.call("chat.postMessage", **params)
        return str(data["ts"])

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[Block]) -> None:
        await self.call("chat.update", channel=channel, ts=ts, text=text, blocks=list(blocks))

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        await self.call("chat.postEphemeral", channel=channel, user=user, text=text)

    async def pin(self, channel: str, ts: str) -> None:
        await self.call("pins.add", channel=channel, timestamp=ts)

    async def open_view(self, trigger_id: str, view: Block) -> None:
        await self.call("views.open", trigger_id=trigger_id, view=view)

    async def user_info(self, user: str) -> dict[str, Any]:
        data = await self.call("users.info", user=user)
        found: dict[str, Any] = data.get("user") or {}
        return found

    # -- the choke point ------------------------------------------------------------------

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one Web API method with pacing, bounded retries and translated errors."""
        channel = params.get("channel")
        for attempt in range(1, self._retries + 2):
            try:
                await self.pacer.wait(method, channel, at_most=0.5 if self._closing else None)
            except PaceTooSlow as exc:
                raise SlackUnavailable("shutting_down", method) from exc
            started = time.perf_counter()
            try:
                if method in _READS:
                    response = await self.web.api_call(method, http_verb="GET", params=params)
                else:
                    response = await self.web.api_call(method, json=params)
            except SlackApiError as exc:
                delay = self._retry_delay(method, exc, attempt)
                _log_call(method, channel, _code(exc), started)
                if delay is None:
                    raise self._translate(method, exc) from exc
                await asyncio.sleep(delay)
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                _log_call(method, channel, type(exc).__name__, started)
                if attempt > self._retries:
                    raise SlackUnavailable(type(exc).__name__, method) from exc
                await asyncio.sleep(_backoff(attempt))
                continue
            _log_call(method, channel, "ok", started)
            data: dict[str, Any] = dict(response.data) if isinstance(response.data, dict) else {}
            return data
        raise AssertionError("unreachable: the loop returns or raises")

    def _retry_delay(self, method: str, exc: SlackApiError, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the error is final."""
        status = exc.response.status_code
        if status == 429 or _code(exc) == "ratelimited":
            wait = _retry_after(exc.response.headers)
            if attempt > self._retries or wait > self._max_wait:
                return None
            self.pacer.hold(method, wait)
            return 0.0  # the pacer holds the slot; waiting here too would double it
        if status >= 500 and attempt <= self._retries:
            return _backoff(attempt)
        return None

    @staticmethod
    def _translate(method: str, exc: SlackApiError) -> SlackError:
        status = exc.response.status_code
        if status == 429 or _code(exc) == "ratelimited":
            return RateLimited("ratelimited", method, _retry_after(exc.response.headers))
        if status >= 500:
            return SlackUnavailable(f"http_{status}", method)
        return from_code(_code(exc), method)

    # -- replies through a response_url ------------------------------------------------------

    async def respond(self, response_url: str, payload: Mapping[str, Any]) -> None:
        """Answer a slash command or a click through its response_url (valid 30 minutes)."""
        if not response_url.startswith(self._response_prefix):
            raise SlackError("response_url_refused", "respond")
        hook = AsyncWebhookClient(response_url, session=self._session, timeout=10)
        for attempt in range(1, self._retries + 2):
            started = time.perf_counter()
            try:
                result = await hook.send_dict(dict(payload))
            except (aiohttp.ClientError, TimeoutError) as exc:
                _log_call("response_url", None, type(exc).__name__, started)
                if attempt > self._retries:
                    raise SlackUnavailable(type(exc).__name__, "respond") from exc
                await asyncio.sleep(_backoff(attempt))
                continue
            _log_call("response_url", None, str(result.status_code), started)
            if result.status_code == 200:
                return
            if result.status_code == 429 and attempt <= self._retries:
                await asyncio.sleep(min(_retry_after(result.headers), self._max_wait))
                continue
            if result.status_code >= 500 and attempt <= self._retries:
                await asyncio.sleep(_backoff(attempt))
                continue
            raise SlackError(str(result.body or result.status_code)[:60], "respond")
        raise AssertionError("unreachable: the loop returns or raises")


def _code(exc: SlackApiError) -> str:
    data = exc.response.data
    return str(data.get("error", "unknown")) if isinstance(data, dict) else "unknown"


def _retry_after(headers: Mapping[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except ValueError:
                break
    return 1.0


def _backoff(attempt: int) -> float:
    return float(min(0.25 * 2 ** (attempt - 1), 4.0))


def _log_call(method: str, channel: str | None, outcome: str, started: float) -> None:
    millis = (time.perf_counter() - started) * 1000
    log.info("slack %s channel=%s -> %s in %.0f ms", method, channel or "-", outcome, millis)
