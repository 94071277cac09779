"""TEST-ONLY crash points for the notification dispatcher.

With JAMIE_TEST_PAUSE_NOTIFY=before_send (or after_send) and JAMIE_TEST_PAUSE_FILE=<path>,
the dispatcher writes the notification id to that file at that point and then waits
forever, so a test can kill -9 the process exactly between the commit that queued a
notification and its send (or between the send and the record of it). Never set these
in production: nothing else reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from bot.notify.channels.dispatcher import PausePoint

PAUSE_VARIABLE = "JAMIE_TEST_PAUSE_NOTIFY"
FILE_VARIABLE = "JAMIE_TEST_PAUSE_FILE"


def pause_from_env(env: Mapping[str, str]) -> PausePoint | None:
    point, marker = env.get(PAUSE_VARIABLE), env.get(FILE_VARIABLE)
    if not point or not marker:
        return None

    async def pause(where: str, row_id: int) -> None:
        if where != point:
            return
        await asyncio.to_thread(Path(marker).write_text, f"{where} {row_id}\n", "utf-8")
        await asyncio.Event().wait()  # until the test kills the process

    return pause
