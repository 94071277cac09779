"""The commands Jamie registers with Telegram (setMyCommands), in Portuguese and English.

The words are the command language's own (bot/commands/words.py), accents folded because
Telegram allows only a-z, 0-9 and _; the descriptions are the help lines of the message
catalogs, so the menu and `help` never disagree. deploy/telegram/commands-*.txt hold
the same lists in BotFather's format, for setting them by hand.
"""

from __future__ import annotations

import logging
import re

from telegram import BotCommand

from bot.commands.words import CommandName, fold, primary_word
from bot.i18n import Catalog
from bot.transports.telegram.client import TelegramClient
from bot.transports.telegram.errors import TelegramFailure

log = logging.getLogger(__name__)

# The commands a person on a phone needs; the rest still work when typed.
PHONE_COMMANDS = (
    CommandName.OPEN, CommandName.ACK, CommandName.ESCALATE, CommandName.UPDATE,
    CommandName.MITIGATE, CommandName.RESOLVE, CommandName.STATUS, CommandName.TIMELINE,
    CommandName.LIST, CommandName.ASK, CommandName.HELP,
)  # fmt: skip
# Telegram's language codes (ISO 639-1) for Jamie's catalogs.
MENUS = (("pt", "pt-BR"), ("en", "en"))
_WORD = re.compile(r"^[a-z0-9_]{1,32}$")


def bot_commands(language: str) -> list[BotCommand]:
    t = Catalog(language)
    commands = []
    for name in PHONE_COMMANDS:
        word = fold(primary_word(name, language))
        if not _WORD.match(word):
            continue
        line = t(f"help.{name.value}").replace("`", "")
        description = line.split(" — ", 1)[-1].strip()
        commands.append(BotCommand(word, description[:256]))
    return commands


def botfather_text(language: str) -> str:
    return "".join(f"{c.command} - {c.description}\n" for c in bot_commands(language))


async def register(client: TelegramClient, default_language: str) -> None:
    """The menus per app language, and the default (the plan's language) for the rest."""
    try:
        for code, language in MENUS:
            await client.set_commands(bot_commands(language), code)
        await client.set_commands(bot_commands(default_language), None)
    except TelegramFailure as exc:
        log.warning("telegram command menu not registered: %s", exc.detail)
