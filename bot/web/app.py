"""The ASGI app. Transports add their routes (Slack events, Alertmanager, Telegram webhook)
to `Jamie.web_routes` before the server starts; this module adds health and metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.enums import Status
from bot.storage.models import IncidentRow, OutboxRow

if TYPE_CHECKING:
    from bot.app import Jamie


def create_web_app(jamie: Jamie) -> Starlette:
    async def healthz(request: Request) -> Response:
        try:
            async with jamie.sessions() as session:
                await session.execute(select(1))
        except Exception as exc:
            return JSONResponse({"status": "fail", "database": type(exc).__name__}, 503)
        return JSONResponse({"status": "ok", "database": jamie.engine.dialect.name})

    async def metrics(request: Request) -> Response:
        async with jamie.sessions() as session:
            active = (
                await session.execute(
                    select(IncidentRow.severity, func.count())
                    .where(IncidentRow.status != Status.RESOLVED.value)
                    .group_by(IncidentRow.severity)
                )
            ).all()
            pending = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
            )
        counts = dict(active)
        lines = [
            "# HELP jamie_incidents_active Active incidents by severity.",
            "# TYPE jamie_incidents_active gauge",
            *(
                f'jamie_incidents_active{{severity="{sev}"}} {counts.get(sev, 0)}'
                for sev in ("P0", "P1", "P2", "P3")
            ),
            "# HELP jamie_outbox_pending Messages waiting for delivery.",
            "# TYPE jamie_outbox_pending gauge",
            f"jamie_outbox_pending {pending or 0}",
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *jamie.web_routes,
    ]
    return Starlette(routes=routes)
