"""Command names and the words people type for them, in English and Portuguese."""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class CommandName(StrEnum):
    OPEN = "open"
    ACK = "ack"
    ESCALATE = "escalate"
    DOWNGRADE = "downgrade"
    UPDATE = "update"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    STATUS = "status"
    TIMELINE = "timeline"
    LIST = "list"
    ASSIGN = "assign"
    ASK = "ask"
    RCA = "rca"
    CHECKLIST = "checklist"
    TICK = "tick"
    RUN = "run"
    CONFIRM = "confirm"
    FLAG = "flag"
    NOTIFIED = "notified"
    WORKAROUND = "workaround"
    HELP = "help"


_EN = {
    CommandName.OPEN: ("open", "declare", "new"),
    CommandName.ACK: ("ack", "acknowledge"),
    CommandName.ESCALATE: ("escalate", "raise"),
    CommandName.DOWNGRADE: ("downgrade", "lower"),
    CommandName.UPDATE: ("update", "note"),
    CommandName.MITIGATE: ("mitigate", "mitigated"),
    CommandName.RESOLVE: ("resolve", "resolved", "close"),
    CommandName.REOPEN: ("reopen",),
    CommandName.STATUS: ("status",),
    CommandName.TIMELINE: ("timeline", "history"),
    CommandName.LIST: ("list", "ls", "incidents"),
    CommandName.ASSIGN: ("assign", "commander"),
    CommandName.ASK: ("ask", "q"),
    CommandName.RCA: ("rca", "root-cause"),
    CommandName.CHECKLIST: ("checklist", "steps"),
    CommandName.TICK: ("tick", "done"),
    CommandName.RUN: ("run",),
    CommandName.CONFIRM: ("confirm",),
    CommandName.FLAG: ("flag",),
    CommandName.NOTIFIED: ("notified",),
    CommandName.WORKAROUND: ("workaround",),
    CommandName.HELP: ("help", "?"),
}
_PT = {
    CommandName.OPEN: ("abrir", "declarar", "novo", "abre"),
    CommandName.ACK: ("reconhecer", "ciente", "assumir"),
    CommandName.ESCALATE: ("escalar", "elevar"),
    CommandName.DOWNGRADE: ("rebaixar", "reduzir"),
    CommandName.UPDATE: ("atualizar", "atualizacao", "nota"),
    CommandName.MITIGATE: ("mitigar", "mitigado"),
    CommandName.RESOLVE: ("resolver", "resolvido", "encerrar", "fechar"),
    CommandName.REOPEN: ("reabrir",),
    CommandName.STATUS: ("situacao", "estado"),
    CommandName.TIMELINE: ("historico", "linha-do-tempo"),
    CommandName.LIST: ("listar", "lista", "incidentes"),
    CommandName.ASSIGN: ("atribuir", "comandante"),
    CommandName.ASK: ("perguntar", "pergunta", "jamie"),
    CommandName.RCA: ("causa", "causa-raiz"),
    CommandName.CHECKLIST: ("checklist", "passos"),
    CommandName.TICK: ("marcar", "feito"),
    CommandName.RUN: ("executar", "rodar"),
    CommandName.CONFIRM: ("confirmar",),
    CommandName.FLAG: ("sinalizar",),
    CommandName.NOTIFIED: ("notificado", "notificada"),
    CommandName.WORKAROUND: ("contorno", "alternativa"),
    CommandName.HELP: ("ajuda",),
}

# word -> (command, language); "status" is the same in both languages.
WORDS: dict[str, tuple[CommandName, str | None]] = {}
for _table, _lang in ((_EN, "en"), (_PT, "pt-BR")):
    for _name, _words in _table.items():
        for _word in _words:
            WORDS[_word] = (_name, _lang)
WORDS["status"] = (CommandName.STATUS, None)
WORDS["checklist"] = (CommandName.CHECKLIST, None)


def fold(text: str) -> str:
    """Lowercase without accents: 'Situação' -> 'situacao'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def lookup(word: str) -> tuple[CommandName, str | None] | None:
    """The command a typed word names; accepts '/open' and Telegram's '/open@JamieBot'."""
    cleaned = fold(word.strip().lstrip("/").split("@", 1)[0])
    return WORDS.get(cleaned)


def primary_word(name: CommandName, language: str) -> str:
    table = _PT if language == "pt-BR" else _EN
    return table[name][0] if name is not CommandName.STATUS else "status"
