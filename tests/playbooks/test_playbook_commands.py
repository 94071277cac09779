"""Checklists through the shared command language: `checklist`, `tick`/`marcar`, `run` and
`confirm` from any transport, each tick and each hook run on the timeline and posted to
the incident's other conversations; hooks run only once a commander confirms."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.commands.parser import ParseError, parse
from bot.commands.words import CommandName
from bot.storage.alert_models import HookRunRow
from bot.storage.models import OutboxRow, TimelineRow
from tests.playbooks.conftest import OBSERVER, RESPONDER, SECRET

if TYPE_CHECKING:
    from tests.playbooks.conftest import Desk


async def notes(desk: Desk, number: int) -> list[tuple[str, str]]:
    async with desk.sessions() as session:
        rows = await session.scalars(
            select(TimelineRow).where(TimelineRow.incident_id == number).order_by(TimelineRow.id)
        )
        return [(r.data.get("event", r.kind), r.text or "") for r in rows.all()]


async def posts(desk: Desk) -> list[str]:
    async with desk.sessions() as session:
        return list((await session.scalars(select(OutboxRow.text).order_by(OutboxRow.id))).all())


# -- the grammar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "ref", "step", "text"),
    [
        ("tick 2", CommandName.TICK, None, 2, ""),
        ("marcar INC-0003 2 painel verificado", CommandName.TICK, 3, 2, "painel verificado"),
        ("feito #3 4", CommandName.TICK, 3, 4, ""),
        ("run 3", CommandName.RUN, None, 3, ""),
        ("executar inc3 1", CommandName.RUN, 3, 1, ""),
        ("confirm INC-0007 2", CommandName.CONFIRM, 7, 2, ""),
        ("confirmar 2", CommandName.CONFIRM, None, 2, ""),
    ],
)
def test_step_commands_take_an_optional_incident_and_a_step_number(
    typed: str, name: CommandName, ref: int | None, step: int, text: str
) -> None:
    command = parse(typed)

    assert (command.name, command.ref, command.step, command.text) == (name, ref, step, text)


@pytest.mark.parametrize("typed", ["tick", "marcar INC-0003", "run dois", "confirm #3 0"])
def test_a_step_command_without_a_step_number_says_what_is_missing(typed: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(typed)

    assert caught.value.key == "playbook.missing_step"


def test_checklist_is_the_same_word_in_both_languages() -> None:
    assert (parse("checklist INC-0002").name, parse("checklist").language) == (
        CommandName.CHECKLIST, None,
    )  # fmt: skip


# -- checklist and tick ----------------------------------------------------------------------


async def test_an_incident_without_a_playbook_has_no_checklist(desk: Desk) -> None:
    await desk.say("abrir P3 Tela piscando")

    reply = await desk.say("checklist")

    assert reply.text == "INC-0001 não tem checklist: nenhum playbook correspondeu aos alertas."


async def test_checklist_lists_the_steps_with_their_hooks_in_the_language_asked(
    desk: Desk,
) -> None:
    number = await desk.with_playbook()
    await desk.say(f"tick INC-{number:04d} 1")

    reply = await desk.say("steps INC-0001")

    lines = reply.text.splitlines()
    assert lines[:4] == [
        "📋 Checklist of INC-0001 (1/5 done):",
        "Playbook “test_book” — test",
        "  ✅ 1. Look at the dashboards — Ana, 12:00",
        "  ⬜ 2. Restart the model server",
    ]
    assert lines[4] == "     ⚙️ hook “restart_model”: `run INC-0001 2`"


async def test_a_tick_from_slack_is_on_the_timeline_and_posted_to_the_other_rooms(
    desk: Desk,
) -> None:
    await desk.with_playbook()

    reply = await desk.say("marcar INC-0001 2 reiniciado às 12h", RESPONDER)

    assert reply.text == "✅ Passo 2 de INC-0001 marcado: Restart the model server"
    assert (await notes(desk, 1))[-1] == (
        "playbook.ticked_note",
        "INC-0001 · ✅ passo 2 feito: Restart the model server — Bruno: reiniciado às 12h",
    )
    # Posted to the console room that follows the incident, not back to Slack.
    assert (await posts(desk))[-1].startswith("INC-0001 · ✅ passo 2 feito")


async def test_ticking_a_step_twice_names_who_ticked_it(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("tick 1")

    reply = await desk.say("tick 1", RESPONDER)

    assert (reply.ok, reply.text) == (False, "Step 1 of INC-0001 was already ticked by Ana.")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tick 9", "INC-0001 has no step 9. `checklist INC-0001` lists them."),
        ("run 1", "Step 1 of INC-0001 has no hook to run; tick it when done: `tick INC-0001 1`."),
    ],
)
async def test_a_step_that_is_not_there_or_has_no_hook_is_refused_with_the_way_forward(
    desk: Desk, typed: str, expected: str
) -> None:
    await desk.with_playbook()

    reply = await desk.say(typed)

    assert (reply.ok, reply.text) == (False, expected)


async def test_an_observer_may_read_the_checklist_but_not_tick_it(desk: Desk) -> None:
    await desk.with_playbook()

    read = await desk.say("checklist INC-0001", OBSERVER)
    tick = await desk.say("tick INC-0001 1", OBSERVER)

    assert (read.ok, tick.ok) == (True, False)
    assert "responder" in tick.text


# -- hooks: run shows, confirm runs ----------------------------------------------------------


async def test_run_shows_what_will_run_without_the_secret_and_runs_nothing(desk: Desk) -> None:
    await desk.with_playbook()

    reply = await desk.say("run INC-0001 5", RESPONDER)

    assert reply.text.splitlines() == [
        "⚙️ Step 5 of INC-0001 runs the hook “gcp_fallback”:",
        "POST http://fallback.test/api/activate",
        "To run it, a commander types `confirm INC-0001 5` within 10m.",
    ]
    assert desk.http.calls is None
    assert (await notes(desk, 1))[-1][0] == "playbook.run_requested"


async def test_only_a_commander_may_confirm(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("run INC-0001 2", RESPONDER)

    reply = await desk.say("confirm INC-0001 2", RESPONDER)

    assert (reply.ok, "commander" in reply.text) == (False, True)
    async with desk.sessions() as session:
        assert (await session.scalars(select(HookRunRow.status))).all() == ["pending"]


async def test_a_confirmed_command_hook_runs_and_its_output_is_recorded_without_secrets(
    desk: Desk,
) -> None:
    await desk.with_playbook()
    await desk.say("executar INC-0001 2", RESPONDER)

    reply = await desk.say("confirmar INC-0001 2")

    assert reply.ok, reply.text
    first, *output = reply.text.splitlines()
    assert first.startswith(
        "✅ INC-0001 · gancho “restart_model” (passo 2) confirmado por Ana: exit 0"
    )
    assert output == ["restarted INC-0001 with ***", "Authorization: Bearer ***"]
    assert SECRET not in reply.text
    event, text = (await notes(desk, 1))[-1]
    assert (event, SECRET in text, "restarted INC-0001 with ***" in text) == (
        "playbook.hook_ran", False, True,
    )  # fmt: skip
    async with desk.sessions() as session:
        run = await session.scalar(select(HookRunRow))
    assert run is not None
    assert (run.status, run.exit_code, run.requested_by, run.confirmed_by) == (
        "succeeded", 0, "Bruno", "Ana",
    )  # fmt: skip


async def test_a_confirmed_http_hook_sends_the_secret_but_never_shows_it(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("run INC-0001 5")
    desk.http.status = 503

    reply = await desk.say("confirm INC-0001 5")

    [call] = desk.http.calls or []
    assert call.headers["authorization"] == f"Bearer {SECRET}"
    assert call.content == b'{"incident":"INC-0001","severity":"P2"}'
    assert (reply.ok, reply.text.splitlines()[1]) == (False, "activated; token=***")
    assert "HTTP 503" in reply.text


async def test_a_request_is_confirmed_once_and_expires(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("run 4")
    once = await desk.say("confirm 4")
    again = await desk.say("confirm 4")
    await desk.say("run 4")
    desk.clock.advance(timedelta(minutes=11))
    late = await desk.say("confirm 4")

    assert (once.ok, again.ok, late.ok) == (True, False, False)
    assert late.text == (
        "Nothing to confirm for step 4 of INC-0001: ask for it first with `run INC-0001 4` "
        "(a request holds for 10m)."
    )


async def test_a_hook_that_overruns_its_timeout_is_stopped_and_reported(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("run 3")

    reply = await desk.say("confirm 3")

    assert (reply.ok, "timed out after 1s" in reply.text) == (False, True)


async def test_long_hook_output_is_truncated(desk: Desk) -> None:
    await desk.with_playbook()
    await desk.say("run 4")

    reply = await desk.say("confirm 4")

    assert reply.text.endswith("… (5000 characters, truncated)")
    assert len(reply.text) < 1700
