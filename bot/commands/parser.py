"""Text in, a Command out, or a ParseError that carries the usage to show.

The parser never raises anything else: odd quoting, emoji, accents and very long input
all end as a Command or a ParseError with a message key.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.words import CommandName, fold, lookup
from bot.domain.enums import Severity
from bot.domain.incident import parse_ref

MAX_INPUT = 4000
LIMITS = {"title": 200, "text": 2000, "question": 500, "person": 120}

# Typographic quotes as phones type them, mapped to the two ASCII ones.
_QUOTES = str.maketrans(dict.fromkeys("“”„«»", '"') | dict.fromkeys("‘’", "'"))
_DEPT_KEYS = {
    "dept", "depts", "department", "departments", "depto", "deptos",
    "departamento", "departamentos", "setor", "setores",
}  # fmt: skip
_IMPACT_KEYS = {"impact", "impacto", "patient", "paciente", "patient-impact", "impacto-paciente"}
_YES = {"yes", "y", "true", "1", "sim", "s", "on"}
_NO = {"no", "n", "false", "0", "nao", "off"}
_IMPACT_FLAGS = {"--patient-impact", "--impacto-paciente", "--impact", "--impacto"}
_ALL_WORDS = {"all", "todos", "todas", "--all", "--todos"}


@dataclass(frozen=True, slots=True)
class Command:
    name: CommandName
    language: str | None
    ref: int | None = None
    severity: Severity | None = None
    text: str = ""
    departments: tuple[str, ...] = ()
    patient_impact: bool | None = None
    show_all: bool = False
    topic: CommandName | None = None
    step: int | None = None


_Parser = Callable[[CommandName, str | None, list[str]], Command]


class ParseError(Exception):
    """Input that is not a valid command; `key` and `params` name the message to show."""

    def __init__(
        self, key: str, *, command: CommandName | None = None, language: str | None = None,
        **params: str,
    ) -> None:  # fmt: skip
        self.key = key
        self.command = command
        self.language = language
        self.params = params
        super().__init__(key)


def tokenize(text: str) -> list[str]:
    """Words, with "double quotes" grouping; unbalanced quotes fall back to plain splitting."""
    normalised = text.translate(_QUOTES)
    # Only double quotes group words: apostrophes are letters in "can't" and "d'água", and
    # backslashes are kept as typed (paths, regexes).
    lexer = shlex.shlex(normalised, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return [word.strip('"') for word in normalised.split() if word.strip('"')]


def parse(text: str) -> Command:
    if len(text) > MAX_INPUT:
        raise ParseError("error.input_too_long", limit=str(MAX_INPUT))
    words = tokenize(text.strip())
    if not words:
        raise ParseError("error.empty")
    found = lookup(words[0])
    if found is None:
        raise ParseError("error.unknown_command", word=words[0][:40])
    name, language = found
    rest = words[1:]
    try:
        return _PARSERS[name](name, language, rest)
    except ParseError as exc:
        exc.command = exc.command or name
        exc.language = exc.language or language
        raise


def _take_ref(rest: list[str], *, alone_digits: bool = True) -> tuple[int | None, list[str]]:
    """An incident reference at the front: INC-42, #42; bare 42 only when it stands alone."""
    if not rest:
        return None, rest
    first = rest[0]
    if first.isdigit() and not (alone_digits and len(rest) == 1):
        return None, rest
    number = parse_ref(first)
    if number is None:
        return None, rest
    return number, rest[1:]


def _join(words: list[str], field: str, *, required: bool = False) -> str:
    text = " ".join(words).strip()
    if required and not text:
        raise ParseError("error.missing_text", field=field)
    limit = LIMITS["title" if field == "title" else "question" if field == "question" else "text"]
    if field == "person":
        limit = LIMITS["person"]
    if len(text) > limit:
        raise ParseError("error.too_long", field=field, limit=str(limit), length=str(len(text)))
    return text


def _parse_open(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    severity: Severity | None = None
    departments: list[str] = []
    impact: bool | None = None
    title: list[str] = []
    for word in rest:
        key, sep, value = word.partition("=")
        folded_key = fold(key.lstrip("-"))
        if severity is None and not sep and (parsed := Severity.parse(word)) is not None:
            severity = parsed
        elif sep and folded_key in _DEPT_KEYS:
            departments.extend(part.strip() for part in value.split(",") if part.strip())
        elif sep and folded_key in _IMPACT_KEYS:
            impact = _yes_no(value)
        elif fold(word) in _IMPACT_FLAGS:
            impact = True
        else:
            title.append(word)
    if severity is None:
        bad = next((w for w in rest if w.upper().startswith(("P", "SEV")) and len(w) <= 5), None)
        if bad and any(ch.isdigit() for ch in bad):
            raise ParseError("error.bad_severity", given=bad)
        raise ParseError("error.missing_severity")
    return Command(
        name=name,
        language=lang,
        severity=severity,
        text=_join(title, "title", required=True),
        departments=tuple(departments),
        patient_impact=impact,
    )


def _yes_no(value: str) -> bool:
    folded = fold(value)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise ParseError("error.bad_yes_no", given=value[:20])


def _parse_ref_only(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    ref, rest = _take_ref(rest)
    if rest:
        raise ParseError("error.unexpected_words", words=" ".join(rest)[:60])
    return Command(name=name, language=lang, ref=ref)


def _parse_severity_change(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    ref, rest = _take_ref(rest, alone_digits=False)
    severity = Severity.parse(rest[0]) if rest else None
    if severity is not None:
        rest = rest[1:]
    elif rest and rest[0].upper().startswith("P") and rest[0][1:].isdigit():
        raise ParseError("error.bad_severity", given=rest[0][:10])
    return Command(
        name=name, language=lang, ref=ref, severity=severity, text=_join(rest, "reason")
    )


def _parse_text(field: str, *, required: bool) -> _Parser:
    def parse_with_text(name: CommandName, lang: str | None, rest: list[str]) -> Command:
        ref, rest = _take_ref(rest, alone_digits=False)
        return Command(
            name=name, language=lang, ref=ref, text=_join(rest, field, required=required)
        )

    return parse_with_text


def _parse_list(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    show_all = any(fold(word) in _ALL_WORDS for word in rest)
    return Command(name=name, language=lang, show_all=show_all)


def _parse_ask(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    return Command(name=name, language=lang, text=_join(rest, "question", required=True))


def _parse_help(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    topic = lookup(rest[0]) if rest else None
    if rest and topic is None:
        raise ParseError("error.unknown_command", word=rest[0][:40])
    return Command(name=name, language=lang, topic=topic[0] if topic else None)


def _parse_step(name: CommandName, lang: str | None, rest: list[str]) -> Command:
    """`tick [INC-n] <step> [note]`: a bare first number is the step, not the incident."""
    ref, rest = _take_ref(rest, alone_digits=False)
    if not rest or not rest[0].isdigit() or not 0 < int(rest[0]) < 10_000:
        raise ParseError("playbook.missing_step", given=(rest[0] if rest else "")[:20])
    return Command(
        name=name, language=lang, ref=ref, step=int(rest[0]), text=_join(rest[1:], "text")
    )


_PARSERS: dict[CommandName, _Parser] = {
    CommandName.OPEN: _parse_open,
    CommandName.ACK: _parse_ref_only,
    CommandName.ESCALATE: _parse_severity_change,
    CommandName.DOWNGRADE: _parse_severity_change,
    CommandName.UPDATE: _parse_text("text", required=True),
    CommandName.MITIGATE: _parse_text("text", required=False),
    CommandName.RESOLVE: _parse_text("root_cause", required=True),
    CommandName.REOPEN: _parse_text("reason", required=False),
    CommandName.STATUS: _parse_ref_only,
    CommandName.TIMELINE: _parse_ref_only,
    CommandName.LIST: _parse_list,
    CommandName.ASSIGN: _parse_text("person", required=True),
    CommandName.ASK: _parse_ask,
    CommandName.RCA: _parse_ref_only,
    CommandName.CHECKLIST: _parse_ref_only,
    CommandName.TICK: _parse_step,
    CommandName.RUN: _parse_step,
    CommandName.CONFIRM: _parse_step,
    CommandName.FLAG: _parse_text("flag", required=True),
    CommandName.NOTIFIED: _parse_text("regulator", required=True),
    CommandName.WORKAROUND: _parse_text("text", required=True),
    CommandName.HELP: _parse_help,
}
