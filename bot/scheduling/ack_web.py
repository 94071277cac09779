"""The acknowledgement link in every page: GET shows a button, POST acknowledges.

A GET never acknowledges: mail scanners and SMS link previews fetch links on their own,
and would otherwise silence a page nobody read. The paging system may POST directly
(JSON answer when it asks for JSON).
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.i18n import Catalog
from bot.scheduling.pages import Pages

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
</head><body><h1>{title}</h1><p>{body}</p>{form}</body></html>"""


def ack_routes(pages: Pages, default_language: str) -> list[BaseRoute]:
    def render(language: str, body: str, form: str = "", status: int = 200) -> Response:
        t = Catalog(language)
        text = _PAGE.format(
            lang=language,
            title=html.escape(t("notify.ack_title")),
            body=html.escape(body),
            form=form,
        )
        return HTMLResponse(text, status_code=status)

    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        page = await pages.describe(token)
        if page is None:
            return render(
                default_language, Catalog(default_language)("notify.ack_unknown"), status=404
            )
        language = pages.language_of(page.contact)
        t = Catalog(language)
        form = (
            f'<form method="post"><button type="submit">'
            f"{html.escape(t('notify.ack_button'))}</button></form>"
        )
        return render(
            language, t("notify.ack_question", ref=page.incident_ref, name=page.name), form
        )

    async def acknowledge(request: Request) -> Response:
        token = request.path_params["token"]
        acked = await pages.acknowledge_token(token)
        wants_json = "application/json" in request.headers.get("accept", "")
        if acked is None:
            if wants_json:
                return JSONResponse({"acknowledged": False}, status_code=404)
            return render(
                default_language, Catalog(default_language)("notify.ack_unknown"), status=404
            )
        if wants_json:
            return JSONResponse(
                {"acknowledged": True, "incident": acked.incident_ref, "pages": acked.count}
            )
        language = pages.language_of(acked.contact)
        return render(
            language, Catalog(language)("notify.ack_done", name=acked.name, ref=acked.incident_ref)
        )

    return [
        Route("/pages/{token}", show, methods=["GET"]),
        Route("/pages/{token}", acknowledge, methods=["POST"]),
    ]
