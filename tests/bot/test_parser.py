"""The command language: what people type in English or Portuguese, and what it means.

The parser's promise is that any text ends as a Command or a ParseError carrying a message
key, the command it was meant for and the language it was typed in.
"""

from __future__ import annotations

import pytest

from bot.commands.parser import LIMITS, MAX_INPUT, Command, ParseError, parse
from bot.commands.words import CommandName
from bot.domain.enums import Severity

EN, PT = "en", "pt-BR"


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


# -- every command, in both languages --------------------------------------------------------


EVERY_COMMAND = [
    (
        "open P1 Mac Studio down",
        Command(CommandName.OPEN, EN, severity=Severity.P1, text="Mac Studio down"),
    ),
    (
        "abrir P1 Mac Studio fora",
        Command(CommandName.OPEN, PT, severity=Severity.P1, text="Mac Studio fora"),
    ),
    (
        "declare sev0 Both Macs down",
        Command(CommandName.OPEN, EN, severity=Severity.P0, text="Both Macs down"),
    ),
    (
        "declarar p2 Lentidão",
        Command(CommandName.OPEN, PT, severity=Severity.P2, text="Lentidão"),
    ),
    ("ack INC-0042", Command(CommandName.ACK, EN, ref=42)),
    ("reconhecer INC-0042", Command(CommandName.ACK, PT, ref=42)),
    (
        "escalate INC-3 P0 patients affected",
        Command(CommandName.ESCALATE, EN, ref=3, severity=Severity.P0, text="patients affected"),
    ),
    (
        "escalar INC-3 P0 pacientes afetados",
        Command(CommandName.ESCALATE, PT, ref=3, severity=Severity.P0, text="pacientes afetados"),
    ),
    ("downgrade INC-2 P3", Command(CommandName.DOWNGRADE, EN, ref=2, severity=Severity.P3)),
    ("rebaixar #2", Command(CommandName.DOWNGRADE, PT, ref=2)),
    (
        "update INC-7 failover done",
        Command(CommandName.UPDATE, EN, ref=7, text="failover done"),
    ),
    (
        "atualizar INC-7 failover concluído",
        Command(CommandName.UPDATE, PT, ref=7, text="failover concluído"),
    ),
    (
        "mitigate INC-7 traffic on GCP",
        Command(CommandName.MITIGATE, EN, ref=7, text="traffic on GCP"),
    ),
    ("mitigar", Command(CommandName.MITIGATE, PT)),
    (
        "resolve INC-7 power supply replaced",
        Command(CommandName.RESOLVE, EN, ref=7, text="power supply replaced"),
    ),
    (
        "resolver INC-7 fonte trocada",
        Command(CommandName.RESOLVE, PT, ref=7, text="fonte trocada"),
    ),
    ("reopen INC-7 down again", Command(CommandName.REOPEN, EN, ref=7, text="down again")),
    ("reabrir INC-7", Command(CommandName.REOPEN, PT, ref=7)),
    ("status INC-7", Command(CommandName.STATUS, None, ref=7)),
    ("situacao INC-7", Command(CommandName.STATUS, PT, ref=7)),
    ("timeline INC-7", Command(CommandName.TIMELINE, EN, ref=7)),
    ("historico INC-7", Command(CommandName.TIMELINE, PT, ref=7)),
    ("list", Command(CommandName.LIST, EN)),
    ("listar todos", Command(CommandName.LIST, PT, show_all=True)),
    ("list all", Command(CommandName.LIST, EN, show_all=True)),
    ("assign INC-7 @maria", Command(CommandName.ASSIGN, EN, ref=7, text="@maria")),
    ("atribuir INC-7 Maria Souza", Command(CommandName.ASSIGN, PT, ref=7, text="Maria Souza")),
    (
        "ask how do I fail over to GCP?",
        Command(CommandName.ASK, EN, text="how do I fail over to GCP?"),
    ),
    (
        "perguntar como faço o failover?",
        Command(CommandName.ASK, PT, text="como faço o failover?"),
    ),
    (
        "flag INC-7 patient-safety",
        Command(CommandName.FLAG, EN, ref=7, text="patient-safety"),
    ),
    ("sinalizar INC-7 lgpd", Command(CommandName.FLAG, PT, ref=7, text="lgpd")),
    ("notified INC-7 anvisa", Command(CommandName.NOTIFIED, EN, ref=7, text="anvisa")),
    ("notificado INC-7 ANPD", Command(CommandName.NOTIFIED, PT, ref=7, text="ANPD")),
    (
        "workaround INC-7 use the paper forms",
        Command(CommandName.WORKAROUND, EN, ref=7, text="use the paper forms"),
    ),
    (
        "contorno INC-7 usar formulários em papel",
        Command(CommandName.WORKAROUND, PT, ref=7, text="usar formulários em papel"),
    ),
    ("checklist INC-0007", Command(CommandName.CHECKLIST, None, ref=7)),
    ("tick INC-7 2", Command(CommandName.TICK, EN, ref=7, step=2)),
    ("marcar INC-7 2 feito", Command(CommandName.TICK, PT, ref=7, step=2, text="feito")),
    ("run INC-7 3", Command(CommandName.RUN, EN, ref=7, step=3)),
    ("executar INC-7 3", Command(CommandName.RUN, PT, ref=7, step=3)),
    ("confirm INC-7 3", Command(CommandName.CONFIRM, EN, ref=7, step=3)),
    ("confirmar INC-7 3", Command(CommandName.CONFIRM, PT, ref=7, step=3)),
    ("rca INC-7", Command(CommandName.RCA, EN, ref=7)),
    ("causa #7", Command(CommandName.RCA, PT, ref=7)),
    ("help", Command(CommandName.HELP, EN)),
    ("help resolve", Command(CommandName.HELP, EN, topic=CommandName.RESOLVE)),
    ("ajuda resolver", Command(CommandName.HELP, PT, topic=CommandName.RESOLVE)),
]


@pytest.mark.parametrize(("typed", "expected"), EVERY_COMMAND)
def test_command_is_understood_in_english_and_portuguese(typed: str, expected: Command) -> None:
    assert parse(typed) == expected


@pytest.mark.parametrize("language", [EN, PT])
def test_table_above_types_every_command_in_each_language(language: str) -> None:
    # "status" is the same word in both languages, so the parser gives it no language.
    covered = {
        expected.name for _, expected in EVERY_COMMAND if expected.language in (language, None)
    }

    assert covered == set(CommandName)


# -- open: severities, departments, patient impact -------------------------------------------


@pytest.mark.parametrize(
    ("typed", "title", "departments", "impact"),
    [
        ("open P0 EHR down dept=icu,er impact=yes", "EHR down", ("icu", "er"), True),
        (
            "abrir P0 Prontuário fora depto=uti,ps impacto=sim",
            "Prontuário fora",
            ("uti", "ps"),
            True,
        ),
        ("abrir P1 Lento setor=cardio impacto=não", "Lento", ("cardio",), False),
        ("open P1 Slow department=surgery --patient-impact", "Slow", ("surgery",), True),
        ("abrir P1 Lento departamentos=uti --impacto-paciente", "Lento", ("uti",), True),
        ("open P2 Slow impact=no", "Slow", (), False),
        ("open P2 Slow", "Slow", (), None),
    ],
)
def test_open_takes_departments_and_patient_impact_out_of_the_title(
    typed: str, title: str, departments: tuple[str, ...], impact: bool | None
) -> None:
    command = parse(typed)

    assert (command.text, command.departments, command.patient_impact) == (
        title,
        departments,
        impact,
    )


def test_open_with_an_impact_that_is_not_yes_or_no_is_refused() -> None:
    error = parse_error("open P1 Slow impact=maybe")

    assert (error.key, error.params) == ("error.bad_yes_no", {"given": "maybe"})


@pytest.mark.parametrize(
    ("typed", "severity"),
    [("open P0 x", Severity.P0), ("open p1 x", Severity.P1), ("open SEV2 x", Severity.P2),
     ("open x P3", Severity.P3), ("open P1 P2 spreads", Severity.P1)],
)  # fmt: skip
def test_open_reads_the_first_severity_anywhere_in_the_line(
    typed: str, severity: Severity
) -> None:
    assert parse(typed).severity == severity


# -- incident references ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "ref"),
    [("ack INC-0042", 42), ("ack inc-42", 42), ("ack #42", 42), ("ack inc42", 42),
     ("ack INC_42", 42), ("ack 42", 42), ("ack 0042", 42), ("ack", None)],
)  # fmt: skip
def test_incident_reference_is_read_in_every_written_form(typed: str, ref: int | None) -> None:
    assert parse(typed).ref == ref


@pytest.mark.parametrize(
    ("typed", "ref", "text"),
    [
        ("update 42 servers back", None, "42 servers back"),
        ("update #42 servers back", 42, "servers back"),
        ("update INC-42 servers back", 42, "servers back"),
        ("update inc42 12 servers back", 42, "12 servers back"),
    ],
)
def test_bare_digits_are_a_reference_only_when_they_stand_alone(
    typed: str, ref: int | None, text: str
) -> None:
    command = parse(typed)

    assert (command.ref, command.text) == (ref, text)


def test_bare_digits_followed_by_words_are_not_taken_for_an_ack_reference() -> None:
    error = parse_error("ack 42 now")

    assert (error.key, error.params) == ("error.unexpected_words", {"words": "42 now"})


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key", "params", "command", "language"),
    [
        ("open Mac down", "error.missing_severity", {}, CommandName.OPEN, EN),
        ("abrir Mac fora", "error.missing_severity", {}, CommandName.OPEN, PT),
        ("open P9 Mac down", "error.bad_severity", {"given": "P9"}, CommandName.OPEN, EN),
        ("abrir P9 Mac fora", "error.bad_severity", {"given": "P9"}, CommandName.OPEN, PT),
        ("escalate INC-3 P7", "error.bad_severity", {"given": "P7"}, CommandName.ESCALATE, EN),
        ("open P1", "error.missing_text", {"field": "title"}, CommandName.OPEN, EN),
        ("atualizar INC-1", "error.missing_text", {"field": "text"}, CommandName.UPDATE, PT),
        ("resolver INC-1", "error.missing_text", {"field": "root_cause"}, CommandName.RESOLVE, PT),
        ("perguntar", "error.missing_text", {"field": "question"}, CommandName.ASK, PT),
        (
            "status INC-1 extra",
            "error.unexpected_words",
            {"words": "extra"},
            CommandName.STATUS,
            None,
        ),
        ("frobnicate now", "error.unknown_command", {"word": "frobnicate"}, None, None),
        ("🔥 fire", "error.unknown_command", {"word": "🔥"}, None, None),
        ("", "error.empty", {}, None, None),
        ("   \t ", "error.empty", {}, None, None),
    ],
)
def test_bad_input_is_refused_with_the_message_command_and_language(
    typed: str,
    key: str,
    params: dict[str, str],
    command: CommandName | None,
    language: str | None,
) -> None:
    error = parse_error(typed)

    assert (error.key, error.params, error.command, error.language) == (
        key,
        params,
        command,
        language,
    )


def test_unknown_command_word_is_cut_to_40_characters() -> None:
    error = parse_error("x" * 300)

    assert error.params == {"word": "x" * 40}


@pytest.mark.parametrize(
    ("prefix", "field", "limit_key"),
    [
        ("open P1 ", "title", "title"),
        ("update INC-1 ", "text", "text"),
        ("resolve INC-1 ", "root_cause", "text"),
        ("escalate INC-1 P0 ", "reason", "text"),
        ("ask ", "question", "question"),
        ("assign INC-1 ", "person", "person"),
    ],
)
def test_text_over_its_limit_is_refused_and_at_the_limit_accepted(
    prefix: str, field: str, limit_key: str
) -> None:
    limit = LIMITS[limit_key]

    accepted = parse(prefix + "a" * limit)
    error = parse_error(prefix + "a" * (limit + 1))

    assert len(accepted.text) == limit
    assert (error.key, error.params) == (
        "error.too_long",
        {"field": field, "limit": str(limit), "length": str(limit + 1)},
    )


def test_message_longer_than_the_input_limit_is_refused_before_parsing() -> None:
    error = parse_error("update INC-1 " + "a" * MAX_INPUT)

    assert (error.key, error.params) == ("error.input_too_long", {"limit": str(MAX_INPUT)})


# -- what people really type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ('update INC-1 "db is back', "db is back"),
        ("update INC-1 'db is back", "'db is back"),  # apostrophes are kept as typed
        ('open P1 "Mac Studio" down', "Mac Studio down"),
        ("open P1 “Mac Studio” down", "Mac Studio down"),
        ("open P1 «Mac Studio» down", "Mac Studio down"),
        ("update INC-1 “it's fine”", "it's fine"),
        ("update INC-1 it’s back", "it's back"),
        (
            "atualizar INC-1 serviço de emergência normalizado",
            "serviço de emergência normalizado",
        ),
        ("update INC-1 🔥 db on fire 🔥", "🔥 db on fire 🔥"),
    ],
)
def test_quotes_accents_and_emoji_leave_the_text_intact(typed: str, text: str) -> None:
    assert parse(typed).text == text


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("update INC-1 can't restart, don't know why", "can't restart, don't know why"),
        ("abrir P1 falta d'água e d'óleo na UTI", "falta d'água e d'óleo na UTI"),
    ],
)
def test_apostrophes_inside_words_survive_in_free_text(typed: str, text: str) -> None:
    assert parse(typed).text == text


@pytest.mark.parametrize(
    ("typed", "name", "language"),
    [
        ("situação", CommandName.STATUS, PT),
        ("Situação INC-1", CommandName.STATUS, PT),
        ("histórico INC-1", CommandName.TIMELINE, PT),
        ("atualização INC-1 ok", CommandName.UPDATE, PT),
        ("ACK INC-1", CommandName.ACK, EN),
        ("/open@JamieBot P1 Down", CommandName.OPEN, EN),
        ("/abrir@JamieBot P1 Fora", CommandName.OPEN, PT),
        ("/status@JamieBot", CommandName.STATUS, None),
        ("/ajuda", CommandName.HELP, PT),
    ],
)
def test_command_word_is_recognised_with_accents_capitals_and_bot_mentions(
    typed: str, name: CommandName, language: str | None
) -> None:
    command = parse(typed)

    assert (command.name, command.language) == (name, language)
