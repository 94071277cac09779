"""The console: a terminal that behaves like one incident channel for one person.

Lines typed are commands; replies print at once; scheduled posts for the console's
conversation (status updates, changes made elsewhere) print as they are delivered.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from bot.commands.handler import CommandHandler, Context
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.i18n import Catalog
from bot.notify.outbox import OutboundMessage
from bot.render.timefmt import TimeFormat

log = logging.getLogger(__name__)

CONSOLE_CONVERSATION = ConversationRef(Transport.CONSOLE, "local")
_QUIT = {"quit", "exit", "sair", "\\q"}


class ConsoleOutput:
    """Serialises writes so a scheduled post never cuts a reply in half."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write_block(self, text: str) -> None:
        with self._lock:
            self._stream.write(text.rstrip("\n") + "\n\n")
            self._stream.flush()


class ConsoleSender:
    """Delivers outbox messages addressed to the console conversation."""

    transport = Transport.CONSOLE

    def __init__(
        self, output: ConsoleOutput, timeformat: TimeFormat, language: str,
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self._output = output
        self._time = timeformat
        self._language = language
        self._now = clock

    async def send(self, address: str, message: OutboundMessage) -> None:
        header = Catalog(self._language)("console.scheduled", at=self._time.clock(self._now()))
        self._output.write_block(f"{header}\n{message.text}")


class ConsoleChat:
    def __init__(
        self, handler: CommandHandler, output: ConsoleOutput, *, user: str, language: str
    ) -> None:
        self._handler = handler
        self._output = output
        self._language = language
        self._context = Context(
            transport=Transport.CONSOLE,
            user_id=user,
            display_name=user,
            conversation=CONSOLE_CONVERSATION,
            language=language,
        )

    async def run(self, stream: TextIO = sys.stdin, *, greeting: str = "") -> None:
        """Read commands until end of input or `quit`."""
        if greeting:
            self._output.write_block(greeting)
        lines = _lines_from(stream)
        while True:
            line = await lines.get()
            if line is None or line.strip().lower() in _QUIT:
                break
            if not line.strip():
                continue
            reply = await self._handler.handle_text(line.strip(), self._context)
            self._output.write_block(reply.text)
        self._output.write_block(Catalog(self._language)("console.bye"))


def _lines_from(stream: TextIO) -> asyncio.Queue[str | None]:
    """A queue fed by a daemon thread reading `stream` (stdin has no portable async read)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in iter(stream.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            log.warning("console input closed: %s", type(exc).__name__)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return queue
