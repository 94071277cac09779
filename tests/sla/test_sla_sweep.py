"""The clock sweep against the database, on a hand-moved clock: warnings and breaches
posted once and recorded, tiers paged, pages repeating until acknowledged, stakeholder
updates in each person's language, reminders until notified, failures on the timeline,
and the same keys holding across racing sweepers and restarts."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.domain.enums import Severity
from bot.plan.model import Channel
from bot.storage.sla_models import NotificationRow, PageRow, ScheduleMarkRow
from tests.sla.harness import ANA, clocks_for

if TYPE_CHECKING:
    from tests.conftest import App, BuildApp, FakeClock

SEC, MIN, HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


async def test_warning_then_breach_are_posted_once_and_recorded(
    app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(app)
    number = await clocks.open(Severity.P0)

    for step in (50 * SEC, 50 * SEC, 20 * SEC):  # 0:50, 1:40 (past 80 %), 2:00
        clock.advance(step)
        await clocks.tick()
        await clocks.tick()

    assert clocks.chat.texts("sla_warning") == [
        "⚠️ INC-0001: Response clock at 80% — 20s left (target 2m, by 12:02)."
    ]
    [breach] = clocks.chat.texts("sla_breach")
    assert breach.splitlines() == [
        "🔴 INC-0001: Response SLA BREACHED (target 2m, deadline 12:02).",
        "📟 Paged: IT Manager (sms, paging), Hospital CTO (sms, paging).",
    ]
    recorded = [(n.data["event"], n.data.get("stage")) for n in await clocks.notes(number)]
    assert ("sla_warning", "response") in recorded and ("sla_breach", "response") in recorded


async def test_breach_pages_the_plans_tier_and_escalates_to_the_next_while_open(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    await clocks.open(Severity.P0)
    clock.advance(2 * MIN)
    await clocks.tick()
    first = {n.contact for n in clocks.channel.sent if n.payload.get("repeat") == 0
             and "SLA" in n.text}  # fmt: skip

    clock.advance(5 * MIN)
    await clocks.tick()

    second = {n.contact for n in clocks.channel.sent if "SLA" in n.text} - first
    assert first == {"it_manager", "hospital_cto"}
    assert second >= {"hospital_administrator", "head_icu"}


async def test_page_repeats_until_the_person_acknowledges_with_ack(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    number = await clocks.open(Severity.P0)
    await clocks.tick()  # the P0 escalation pages the on-call (Primary SRE is Ana)
    clock.advance(5 * MIN)
    await clocks.tick()
    before_ack = len(clocks.channel.to("primary_sre", "page"))

    reply = await clocks.say(f"ack INC-{number:04d}")
    for _ in range(3):
        clock.advance(5 * MIN)
        await clocks.tick()

    assert before_ack == 6  # call, sms, paging; then their first repeat
    assert "🔕 Pages for INC-0001 to Ana stopped (1)." in reply.text
    assert len(clocks.channel.to("primary_sre", "page")) == before_ack
    assert clocks.channel.to("primary_sre")[-1].text.startswith("(repetição 1) 🚨 P0 INC-0001")


async def test_ack_link_stops_one_persons_repeats_and_not_the_others(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    await clocks.open(Severity.P0)
    clock.advance(2 * MIN)  # response breached: IT Manager and CTO paged (SMS, paging)
    await clocks.tick()
    async with sqlite_app.sessions() as session:
        query = select(PageRow).where(PageRow.reason == "breach", PageRow.contact == "it_manager")
        page = (await session.scalars(query)).one()

    acked = await clocks.pages.acknowledge_token(page.token)
    again = await clocks.pages.acknowledge_token(page.token)
    clock.advance(5 * MIN)
    await clocks.tick()

    repeated = {n.contact for n in clocks.channel.sent if n.payload.get("repeat") == 1}
    assert (acked and acked.name, again) == ("IT Manager", None)
    assert "hospital_cto" in repeated and "it_manager" not in repeated


async def test_page_about_the_response_stops_once_anyone_acknowledges_the_incident(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    number = await clocks.open(Severity.P1)
    await clocks.tick()  # P1 escalation: IT Manager paged at once
    await sqlite_app.service.acknowledge(ANA, number, None)

    clock.advance(5 * MIN)
    await clocks.tick()

    async with sqlite_app.sessions() as session:
        [page] = (await session.scalars(select(PageRow))).all()
    assert (page.close_reason, page.repeats) == ("stage_done", 1)
    assert not [n for n in clocks.channel.to("it_manager") if n.payload.get("repeat")]


async def test_stakeholder_updates_follow_the_cadence_in_each_persons_language(
    sqlite_app: App, clock: FakeClock
) -> None:
    english_cto = sqlite_app.plan.contacts["hospital_cto"].model_copy(update={"language": "en"})
    plan = sqlite_app.plan.model_copy(
        update={"contacts": {**sqlite_app.plan.contacts, "hospital_cto": english_cto}}
    )
    clocks = clocks_for(replace(sqlite_app, plan=plan))
    await clocks.open(Severity.P0)
    await clocks.tick()
    clock.advance(30 * MIN)
    await clocks.tick()
    clock.advance(30 * MIN)
    await clocks.tick()

    admin = [n.channel for n in clocks.channel.to("hospital_administrator", "cadence")]
    cto = clocks.channel.to("hospital_cto", "cadence")
    assert admin == [Channel.CALL, Channel.SMS] * 3  # 0, 30 and 60 minutes
    assert [n.language for n in cto] == ["en"] * 4  # 0 and 60 minutes, call and sms
    assert cto[0].text.startswith("📢 INC-0001 · P0 · APOCALYPSE")
    assert "Estado: declarado" in clocks.channel.to("hospital_administrator")[0].text


async def test_department_heads_get_the_latest_workaround(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    await clocks.open(Severity.P1)
    await clocks.say("workaround INC-0001 use the paper protocol in the ICU")

    await clocks.tick()

    [to_icu, *_] = clocks.channel.to("head_icu", "cadence")
    assert "Contorno: use the paper protocol in the ICU" in to_icu.text


async def test_a_machine_that_slept_sends_one_late_stakeholder_update_not_a_burst(
    app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(app)
    await clocks.open(Severity.P0)
    await clocks.tick()
    sent_before = len(clocks.channel.to("hospital_administrator", "cadence"))

    clock.advance(3 * HOUR + MIN)
    await clocks.tick()
    await clocks.tick()

    assert len(clocks.channel.to("hospital_administrator", "cadence")) - sent_before == 2


async def test_resolution_notice_reaches_every_stakeholder_once(
    sqlite_app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(sqlite_app)
    number = await clocks.open(Severity.P0)
    await clocks.tick()
    clock.advance(MIN)
    await sqlite_app.service.resolve(ANA, number, None, "power supply replaced")

    await clocks.tick()
    await clocks.tick()

    notices = [n for n in clocks.channel.sent if n.kind == "resolution"]
    assert sorted({n.contact for n in notices}) == [
        "head_cardiology", "head_emergency", "head_icu", "head_surgery",
        "hospital_administrator", "hospital_cto",
    ]  # fmt: skip
    assert len(notices) == 2 * 6
    assert "power supply replaced" in notices[0].text


async def test_flag_starts_reminders_until_the_regulator_is_marked_notified(
    app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(app)
    number = await clocks.open(Severity.P1)
    reply = await clocks.say("flag INC-0001 personal-data")
    await clocks.tick()
    clock.advance(36 * HOUR)
    await clocks.tick()
    done = await clocks.say("notified INC-0001 ANPD")
    clock.advance(36 * HOUR)
    await clocks.tick()

    assert reply.text.startswith("⚖️ INC-0001 flagged: personal data breach. Notify ANPD by")
    assert done.text == "✅ INC-0001: ANPD notification recorded as sent by Ana."
    reminders = [n for n in clocks.channel.to("primary_sre") if n.kind == "regulatory"]
    assert [n.channel for n in reminders] == [Channel.EMAIL, Channel.SMS] * 2
    assert len(clocks.chat.texts("regulatory")) == 2
    events = [n.data["event"] for n in await clocks.notes(number)]
    assert events.count("regulatory") == 2 and "regulatory_notified" in events


async def test_notified_without_the_flag_is_refused(sqlite_app: App) -> None:
    clocks = clocks_for(sqlite_app)
    await clocks.open(Severity.P2)

    reply = await clocks.say("notified INC-0001 anvisa")

    assert (reply.ok, reply.text) == (
        False,
        "INC-0001 has no flag that requires notifying ANVISA.",
    )


async def test_failing_person_never_stops_the_others_and_is_recorded(
    app: App, clock: FakeClock
) -> None:
    clocks = clocks_for(app)
    clocks.channel.refused.add("it_manager")
    clocks.channel.down.add("hospital_cto")
    number = await clocks.open(Severity.P0)
    clock.advance(2 * MIN)
    await clocks.tick()
    for _ in range(6):  # the CTO's gateway stays down through every retry
        clock.advance(2 * MIN)
        await clocks.deliver()

    assert clocks.channel.to("primary_sre") and clocks.channel.to("hospital_administrator")
    failures = [n.text for n in await clocks.notes(number, "notify_failed")]
    assert failures[0] == (
        "⚠️ INC-0001: não foi possível notificar IT Manager por sms "
        "(address refused; 1 tentativa(s))."
    )
    assert any("Hospital CTO" in f and "5 tentativa(s)" in f for f in failures)
    assert any("could not notify Hospital CTO" in t for t in clocks.chat.texts("notify_failed"))


async def test_two_sweepers_racing_fire_each_item_once(
    app: App, build_app: BuildApp, clock: FakeClock
) -> None:
    mine, theirs = clocks_for(app), clocks_for(await build_app(app.url))
    await mine.open(Severity.P0)
    clock.advance(2 * MIN)

    await asyncio.gather(mine.sweep.run(clock.now()), theirs.sweep.run(clock.now()))

    async with app.sessions() as session:
        keys = list(await session.scalars(select(ScheduleMarkRow.key)))
        rows = list(await session.scalars(select(NotificationRow.dedupe_key)))
    assert len(keys) == len(set(keys)) and any(":breach:response:" in k for k in keys)
    assert len(rows) == len(set(rows))
    assert len([k for k in keys if ":breach:response:" in k]) == 1


async def test_restart_fires_nothing_again(
    app: App, build_app: BuildApp, clock: FakeClock
) -> None:
    before = clocks_for(app)
    await before.open(Severity.P0)
    clock.advance(3 * MIN)
    await before.tick()
    await app.engine.dispose()

    after = clocks_for(await build_app(app.url))
    fired_after_restart = await after.tick()

    assert fired_after_restart == 0
    assert after.channel.sent == [] and after.chat.sent == []


async def test_timeline_shows_what_the_clocks_did(sqlite_app: App, clock: FakeClock) -> None:
    clocks = clocks_for(sqlite_app)
    await clocks.open(Severity.P0)
    clock.advance(2 * MIN)
    await clocks.tick()

    reply = await clocks.say("timeline INC-0001")

    assert reply.ok
    assert "Response SLA BREACHED" in reply.text or "SLA de Resposta ESTOURADO" in reply.text
