"""The command handler as every transport uses it: text and who typed it, in; a reply in the
person's language, out. Refusals are replies, never exceptions."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot.commands.handler import Context, Reply
from bot.domain.enums import EntryKind, Role, Severity, Status, Transport
from bot.domain.people import ConversationRef

if TYPE_CHECKING:
    from tests.conftest import App, FakeClock

MIN = timedelta(minutes=1)
CONSOLE_ROOM = ConversationRef(Transport.CONSOLE, "local")
WAR_ROOM = ConversationRef(Transport.SLACK, "C0WARROOM")
AT_CONSOLE = Context(Transport.CONSOLE, "ana.sre", "Ana", CONSOLE_ROOM)
# Nobody in the plan has a Slack identity, so anyone on Slack is an observer.
OBSERVER = Context(Transport.SLACK, "U0UNKNOWN", "Zé", WAR_ROOM)


async def say(app: App, text: str, ctx: Context = AT_CONSOLE) -> Reply:
    return await app.handler.handle_text(text, ctx)


async def said_ok(app: App, text: str, ctx: Context = AT_CONSOLE) -> Reply:
    reply = await say(app, text, ctx)
    assert reply.ok, reply.text
    return reply


# -- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "language", "first_line"),
    [
        (
            "open P1 Mac Studio slow",
            "en",
            "🚨 INC-0001 opened as P1 · CRITICAL (significant service degradation): "
            "Mac Studio slow",
        ),
        (
            "abrir P1 Mac Studio lento",
            "pt-BR",
            "🚨 INC-0001 aberto como P1 · CRÍTICO (degradação significativa): "
            + "Mac Studio lento",
        ),
    ],
)
async def test_open_replies_in_the_language_of_the_command_word(
    sqlite_app: App, typed: str, language: str, first_line: str
) -> None:
    reply = await said_ok(sqlite_app, typed)

    assert (reply.language, reply.text.splitlines()[0]) == (language, first_line)


@pytest.mark.parametrize(
    ("typed", "language", "text"),
    [
        (
            "ack INC-0001",
            "en",
            "👀 INC-0001 acknowledged by Ana (0s after detection; target 5m).",
        ),
        (
            "reconhecer INC-0001",
            "pt-BR",
            "👀 INC-0001 reconhecido por Ana (0s após a detecção; meta 5m).",
        ),
        ("update INC-0001 failover started", "en", "📝 Update recorded on INC-0001."),
        (
            "atualizar INC-0001 failover iniciado",
            "pt-BR",
            "📝 Atualização registrada em INC-0001.",
        ),
        (
            "mitigate INC-0001",
            "en",
            "🩹 INC-0001 mitigated. Still to do: `resolve INC-0001 <root cause>`.",
        ),
        (
            "mitigar INC-0001",
            "pt-BR",
            "🩹 INC-0001 mitigado. Falta resolver: use `resolver INC-0001 <causa raiz>`.",
        ),
        (
            "escalate INC-0001",
            "en",
            "⬆️ INC-0001 escalated from P1 to P0. New deadlines run from now.",
        ),
        (
            "escalar INC-0001",
            "pt-BR",
            "⬆️ INC-0001 escalado de P1 para P0. Novos prazos valem a partir de agora.",
        ),
    ],
)
async def test_reply_speaks_the_language_the_command_was_typed_in(
    sqlite_app: App, typed: str, language: str, text: str
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")

    reply = await said_ok(sqlite_app, typed)

    assert (reply.language, reply.text) == (language, text)


@pytest.mark.parametrize(
    ("context_language", "expected"), [("en", "en"), ("pt-BR", "pt-BR"), (None, "pt-BR")]
)
async def test_word_shared_by_both_languages_follows_the_conversation_then_the_person(
    sqlite_app: App, context_language: str | None, expected: str
) -> None:
    # "status" is English and Portuguese alike; the console's responder speaks pt-BR.
    ctx = Context(Transport.CONSOLE, "ana.sre", "Ana", CONSOLE_ROOM, language=context_language)

    reply = await said_ok(sqlite_app, "status", ctx)

    assert reply.language == expected


# -- refusals as replies ---------------------------------------------------------------------


NOT_FOUND_EN = "There is no incident INC-0099. `list` shows the active ones."
NOT_FOUND_PT = "Não há incidente INC-0099. `listar` mostra os ativos."


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("ack INC-0099", NOT_FOUND_EN),
        ("situação INC-0099", NOT_FOUND_PT),
        ("timeline #99", NOT_FOUND_EN),
        ("atualizar INC-0099 ainda fora", NOT_FOUND_PT),
        ("escalate INC-0099", NOT_FOUND_EN),
        ("resolve INC-0099 disk full", NOT_FOUND_EN),
    ],
)
async def test_unknown_incident_is_a_refusal_that_points_to_the_list(
    sqlite_app: App, typed: str, text: str
) -> None:
    await said_ok(sqlite_app, "open P2 Slow answers")

    reply = await say(sqlite_app, typed)

    assert (reply.ok, reply.text) == (False, text)


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        (
            "resolve INC-0001",
            "The text is missing (root cause).\n"
            "Usage: resolve [INC-n] <root cause> — close the incident",
        ),
        (
            "abrir P9 Queda",
            "“P9” não é uma severidade: use P0, P1, P2 ou P3.\n"
            "Uso: abrir <P0-P3> <título> [depto=uti,ps] [impacto=sim] — declara um incidente",
        ),
        ("frobnicate", "Não conheço o comando “frobnicate”. `ajuda` mostra os comandos."),
    ],
)
async def test_bad_command_is_answered_with_its_usage(
    sqlite_app: App, typed: str, text: str
) -> None:
    reply = await say(sqlite_app, typed)

    assert (reply.ok, reply.text) == (False, text)


async def test_unknown_department_is_refused_listing_the_known_ones(sqlite_app: App) -> None:
    reply = await say(sqlite_app, "open P1 Slow dept=pharmacy")

    assert (reply.ok, reply.text) == (
        False,
        "Unknown department: “pharmacy”. Known: emergency, icu, cardiology, surgery.",
    )
    assert await sqlite_app.service.list() == []


# -- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        (
            "resolve INC-0001 fixed",
            "You (Zé) may not use `resolve`: it needs the commander role. "
            "Ask an incident commander.",
        ),
        (
            "downgrade INC-0001",
            "You (Zé) may not use `downgrade`: it needs the commander role. "
            "Ask an incident commander.",
        ),
        (
            "rebaixar INC-0001",
            "Você (Zé) não pode usar `rebaixar`: é preciso o papel comandante. "
            "Peça a um comandante do incidente.",
        ),
        (
            "ack INC-0001",
            "You (Zé) may not use `ack`: it needs the responder role. Ask an incident commander.",
        ),
    ],
)
async def test_observer_cannot_resolve_downgrade_or_ack_and_is_told_the_role_needed(
    sqlite_app: App, typed: str, text: str
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")
    before = await sqlite_app.service.get(1, with_timeline=True)

    reply = await say(sqlite_app, typed, OBSERVER)

    assert (reply.ok, reply.text) == (False, text)
    assert await sqlite_app.service.get(1, with_timeline=True) == before


async def test_observer_can_open_and_update_an_incident(sqlite_app: App) -> None:
    opened = await say(sqlite_app, "open P2 Slow answers in the ICU", OBSERVER)
    updated = await say(sqlite_app, "update INC-0001 nurses report 10s waits", OBSERVER)

    stored = await sqlite_app.service.get(1)
    assert (opened.ok, updated.ok) == (True, True)
    assert (stored.declared_by, stored.source, stored.last_update) == (
        "Zé",
        Transport.SLACK,
        "nurses report 10s waits",
    )


async def test_anyone_at_the_console_is_a_commander_and_may_resolve(sqlite_app: App) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")
    someone = Context(Transport.CONSOLE, "whoever", "Whoever", CONSOLE_ROOM)

    reply = await say(sqlite_app, "resolve INC-0001 power supply replaced", someone)

    actor = sqlite_app.directory.actor(Transport.CONSOLE, "whoever", "Whoever")
    assert (actor.role, actor.responder_key) == (Role.COMMANDER, "primary-sre")
    assert reply.ok, reply.text
    assert (await sqlite_app.service.get(1)).status == Status.RESOLVED


# -- which incident a command means ----------------------------------------------------------


async def test_status_without_a_number_shows_the_conversations_only_active_incident(
    sqlite_app: App,
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")
    await said_ok(sqlite_app, "open P2 Printer queue stuck", OBSERVER)  # another conversation

    reply = await said_ok(sqlite_app, "status")

    assert reply.incident is not None and reply.incident.number == 1
    assert reply.text.splitlines()[0] == (
        "🟠 INC-0001 · P1 · CRÍTICO (degradação significativa) — Mac Studio slow"
    )


async def test_ack_without_a_number_in_a_conversation_with_two_incidents_asks_which(
    sqlite_app: App,
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")
    await said_ok(sqlite_app, "open P2 GCP fallback slow")

    reply = await say(sqlite_app, "ack")

    assert (reply.ok, reply.text) == (
        False,
        "Which incident? Give its number, e.g. `ack INC-0001`. Active here: INC-0001, INC-0002.",
    )
    assert [i.status for i in await sqlite_app.service.list()] == [Status.DECLARED] * 2


async def test_ack_without_a_number_where_no_incident_is_active_asks_for_one(
    sqlite_app: App,
) -> None:
    reply = await say(sqlite_app, "ack")

    assert (reply.ok, reply.text) == (
        False,
        "No active incident in this conversation. Give its number, e.g. `INC-0001`.",
    )


# -- the unexpected --------------------------------------------------------------------------


async def test_unexpected_error_is_logged_once_and_answered_with_its_reference(
    sqlite_app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection reset while saving bed 12 of the ICU")

    monkeypatch.setattr(sqlite_app.service, "acknowledge", broken)

    with caplog.at_level(logging.ERROR, logger="bot.commands.handler"):
        reply = await say(sqlite_app, "ack INC-0001")

    found = re.fullmatch(
        r"Sorry, something went wrong on my side \(reference ([0-9a-f]{8})\)\. "
        r"Nothing was lost; try again\.",
        reply.text,
    )
    assert not reply.ok and found, reply.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"command ack failed (reference {found.group(1)})"]
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is RuntimeError


# -- the whole story -------------------------------------------------------------------------


async def test_full_incident_story_through_commands(app: App, clock: FakeClock) -> None:
    await said_ok(app, "open P1 Mac Studio unresponsive dept=icu,er impact=yes")
    clock.advance(3 * MIN)
    await said_ok(app, "ack")
    clock.advance(2 * MIN)
    await said_ok(app, "escalate P0 all four departments affected")
    clock.advance(4 * MIN)
    await said_ok(app, "atualizar fallback GCP ativo")
    clock.advance(6 * MIN)
    await said_ok(app, "mitigate traffic served from GCP")
    clock.advance(40 * MIN)
    resolved = await said_ok(app, "resolve power supply failure; unit replaced")
    clock.advance(10 * MIN)
    await said_ok(app, "reopen INC-0001 fans failing again")
    clock.advance(1 * MIN)
    await said_ok(app, "assign INC-0001 @bruno")

    summary = await said_ok(app, "status INC-0001")
    timeline = await said_ok(app, "histórico INC-0001")

    assert resolved.text == (
        "✅ INC-0001 resolved after 55m. Root cause: power supply failure; unit replaced"
    )
    incident = summary.incident
    assert incident is not None
    assert (incident.status, incident.severity, incident.commander, incident.reopen_count) == (
        Status.ACKNOWLEDGED,
        Severity.P0,
        "bruno",
        1,
    )
    assert (incident.departments, incident.patient_impact) == (("icu", "emergency"), True)
    assert timeline.text.splitlines() == [
        "Linha do tempo de INC-0001 (horários em America/Sao_Paulo):",
        "  02/03/2026 12:00 · declarado P1: Mac Studio unresponsive — Ana (console)",
        "  02/03/2026 12:03 · reconhecido — Ana (console)",
        "  02/03/2026 12:05 · escalado de P1 para P0: all four departments affected"
        " — Ana (console)",
        "  02/03/2026 12:09 · atualização: fallback GCP ativo — Ana (console)",
        "  02/03/2026 12:15 · mitigado: traffic served from GCP — Ana (console)",
        "  02/03/2026 12:55 · resolvido; causa raiz: power supply failure; unit replaced"
        " — Ana (console)",
        "  02/03/2026 13:05 · reaberto: fans failing again — Ana (console)",
        "  02/03/2026 13:06 · comandante agora é bruno — Ana (console)",
    ]
    stored = await app.service.get(1, with_timeline=True)
    assert len([e for e in stored.timeline if e.kind is EntryKind.REOPENED]) == 1


# -- known bugs ------------------------------------------------------------------------------


async def test_opening_reply_dates_a_deadline_that_falls_on_another_day(sqlite_app: App) -> None:
    reply = await said_ok(sqlite_app, "open P3 Label printer prints blank")

    # Opened on 2026-03-02 at 12:00 in São Paulo; P3 must be resolved within 72 hours.
    assert "resolve by 2026-03-05 12:00" in reply.text


async def test_escalating_a_resolved_incident_is_refused_naming_escalation(
    sqlite_app: App,
) -> None:
    await said_ok(sqlite_app, "open P1 Mac Studio slow")
    await said_ok(sqlite_app, "resolve INC-0001 power supply replaced")

    reply = await say(sqlite_app, "escalate INC-0001")

    assert (reply.ok, reply.text) == (False, "Can't escalate INC-0001: it is resolved.")
