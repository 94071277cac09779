"""`POST /alerts/alertmanager`: checks the bearer token, validates the notification, stores
it in the spool and answers 200. Nothing here touches the database, so a busy or locked
database never slows the answer or loses an alert; the processor does the rest.

Answers: 200 stored · 400 not a version-4 notification (the reason is in the body) ·
401 wrong or missing token · 413 too large · 503 intake disabled (no token configured)
or the spool cannot be written (Alertmanager retries).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.alerts.payload import MAX_BODY_BYTES, PayloadError, parse_notification
from bot.alerts.processor import AlertProcessor
from bot.alerts.spool import Spool
from bot.alerts.tracker import AlertTracker
from bot.plan import Plan
from bot.service.incidents import IncidentService

log = logging.getLogger(__name__)

PATH = "/alerts/alertmanager"
TOKEN_VARIABLE = "JAMIE_ALERTMANAGER_TOKEN"
_DISABLED_LOG_EVERY = 60.0


class AlertIntake:
    """The webhook route, the spool behind it and the processor that drains it."""

    def __init__(self, spool: Spool, processor: AlertProcessor, *, token: str | None) -> None:
        self.spool = spool
        self.processor = processor
        self._token = token.encode() if token else None
        self._disabled_logged_at = -_DISABLED_LOG_EVERY

    @classmethod
    def build(
        cls, *, spool: Spool, sessions: async_sessionmaker[AsyncSession], plan: Plan,
        service: IncidentService, clock: Callable[[], datetime], token: str | None,
        on_outbox: Callable[[], None],
    ) -> AlertIntake:  # fmt: skip
        tracker = AlertTracker(sessions, plan, service, clock=clock, on_outbox=on_outbox)
        return cls(spool, AlertProcessor(spool, tracker), token=token)

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.receive, methods=["POST"])]

    async def start(self) -> None:
        await asyncio.to_thread(self.spool.prepare)
        if self._token is None:
            log.warning("Alertmanager intake disabled: %s is not set; %s answers 503",
                        TOKEN_VARIABLE, PATH)  # fmt: skip
        pending = len(await asyncio.to_thread(self.spool.pending))
        if pending:
            log.info("%d alert notification(s) in the spool from before; processing", pending)

    async def run(self, stop: asyncio.Event) -> None:
        await self.processor.run(stop)

    async def receive(self, request: Request) -> Response:
        if self._token is None:
            return self._disabled()
        if not self._authorised(request.headers.get("authorization", "")):
            log.warning("alert notification refused: bad or missing bearer token")
            return JSONResponse(
                {"error": "unauthorised: send Authorization: Bearer <token>"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await _read_limited(request)
        if body is None:
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, 413)
        try:
            notification = parse_notification(body)
        except PayloadError as exc:
            log.warning("alert notification refused: %s", exc.reason[:200])
            return JSONResponse({"error": exc.reason}, 400)
        try:
            entry = await asyncio.to_thread(self.spool.put, body)
        except OSError as exc:
            log.error("alert spool %s not writable (%s); answered 503", self.spool.root, exc)
            return JSONResponse({"error": "cannot store the notification now; retry"}, 503)
        self.processor.poke()
        log.info(
            "alert notification %s stored group=%s alerts=%d",
            entry.id, notification.group_id[:12], len(notification.alerts),
        )  # fmt: skip
        return JSONResponse({"status": "stored", "id": entry.id})

    def _authorised(self, header: str) -> bool:
        scheme, _, given = header.partition(" ")
        assert self._token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self._token
        )

    def _disabled(self) -> Response:
        now = time.monotonic()
        if now - self._disabled_logged_at >= _DISABLED_LOG_EVERY:
            self._disabled_logged_at = now
            log.warning("alert notification refused with 503: set %s to enable %s",
                        TOKEN_VARIABLE, PATH)  # fmt: skip
        return JSONResponse(
            {"error": f"Alertmanager intake is disabled: set {TOKEN_VARIABLE} on Jamie"}, 503
        )


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None once it grows past the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
