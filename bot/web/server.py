"""Runs the ASGI app under uvicorn inside Jamie's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger(__name__)


class WebServerError(Exception):
    """The HTTP server could not start; the message names the address and the fix."""


class WebServer:
    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0 for an ephemeral port)."""
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    async def start(self) -> None:
        """Listen, or raise WebServerError naming the address (uvicorn exits on bind errors)."""
        self._task = asyncio.create_task(_quiet_exit(self._server.serve()), name="http")
        while not self._server.started:
            if self._task.done():
                self._task = None
                config = self._server.config
                raise WebServerError(
                    f"cannot listen on {config.host}:{config.port} (in use?): set "
                    "JAMIE_HTTP_PORT to a free port, or JAMIE_HTTP=off"
                )
            await asyncio.sleep(0.02)
        log.info("http listening on %s:%d", self._server.config.host, self.port)

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, timeout=10)
        except TimeoutError:
            self._task.cancel()
        self._task = None


async def _quiet_exit(serving: Coroutine[Any, Any, None]) -> None:
    """uvicorn calls sys.exit when it cannot bind; keep that inside the task."""
    try:
        await serving
    except SystemExit:
        log.warning("http server exited during start-up")
