"""Alertmanager's webhook end to end: real version-4 payloads posted over HTTP to Jamie's
running ASGI app, on SQLite and on PostgreSQL; each alert handled by its own status and
fingerprint, incidents opened, joined, resolved, reopened, and nothing lost or doubled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.domain.enums import EntryKind, Severity, Status, Transport
from bot.storage.alert_models import (
    AlertGroupRow,
    AlertNotificationRow,
    AlertRow,
    ChecklistItemRow,
)
from bot.storage.models import IncidentRow, TimelineRow

if TYPE_CHECKING:
    from tests.alerts.conftest import AM, Running, StartJamie

SECOND = timedelta(seconds=1)


async def incidents(app: Running) -> list[IncidentRow]:
    async with app.jamie.sessions() as session:
        return list((await session.scalars(select(IncidentRow).order_by(IncidentRow.id))).all())


async def alerts_of(app: Running, number: int) -> list[AlertRow]:
    async with app.jamie.sessions() as session:
        query = select(AlertRow).where(AlertRow.incident_id == number).order_by(AlertRow.id)
        return list((await session.scalars(query)).all())


async def events(app: Running, number: int) -> list[str]:
    """The timeline of an incident as kinds, with the alert events spelled out."""
    async with app.jamie.sessions() as session:
        rows = await session.scalars(
            select(TimelineRow).where(TimelineRow.incident_id == number).order_by(TimelineRow.id)
        )
        return [row.data.get("event", row.kind) for row in rows.all()]


async def deliver(app: Running, *payloads: dict[str, object]) -> None:
    for payload in payloads:
        response = await app.post(payload)
        assert response.status_code == 200, response.text
    await app.settle()


# -- opening ---------------------------------------------------------------------------------


async def test_first_firing_alert_opens_an_incident_that_records_its_detection_time(
    running: Running, am: type[AM]
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=12)
    summary = "CPU above 90% for 5 minutes on mac-studio-1"
    cpu = am.alert("CPUUtilisationCritical", starts=started, annotations={"summary": summary},
                   labels={"instance": "mac-studio-1", "jamie_severity": "P2"})  # fmt: skip

    before = datetime.now(UTC)
    await deliver(running, am.notification("CPUUtilisationCritical", cpu))

    [incident] = await incidents(running)
    assert (incident.title, incident.severity, incident.source, incident.declared_by) == (
        "CPU above 90% for 5 minutes on mac-studio-1", "P2", "alertmanager", "Alertmanager",
    )  # fmt: skip
    assert incident.started_at == started.replace(microsecond=started.microsecond)
    assert before - SECOND <= incident.detected_at <= datetime.now(UTC)
    detection = incident.detected_at - incident.started_at
    assert 12 <= detection.total_seconds() < 20
    [opened] = running.sender.texts("alerts.opened")
    assert opened.startswith("🚨 INC-0001 aberto pelo Alertmanager como P2: CPU above 90%")
    assert "CPUUtilisationCritical (mac-studio-1)" in opened
    assert "Detectado 1" in opened  # 12-19 s after the alert started
    status = await running.jamie.commands.handle_text("status INC-0001", _console())
    assert re.search(r"Detecção: cumprido em 1\ds \(meta 5m\)", status.text), status.text


async def test_severity_comes_from_the_severity_label_through_the_plans_map(
    running: Running, am: type[AM]
) -> None:
    page = am.alert("MacStudioDown", labels={"severity": "page", "instance": "ms-1"})

    await deliver(running, am.notification("MacStudioDown", page))

    [incident] = await incidents(running)
    assert incident.severity == Severity.P0.value


async def test_a_more_severe_alert_joining_the_group_escalates_the_incident(
    running: Running, am: type[AM]
) -> None:
    warning = am.alert("Latency", labels={"instance": "a", "severity": "warning"})
    critical = am.alert("Latency", labels={"instance": "b", "severity": "critical"})

    await deliver(running, am.notification("Latency", warning))
    await deliver(running, am.notification("Latency", warning, critical))

    [incident] = await incidents(running)
    assert incident.severity == "P1"
    assert await events(running, incident.id) == [
        "declared", "alerts.firing", "escalated", "alerts.firing",
    ]  # fmt: skip


# -- the same group, alert by alert ----------------------------------------------------------


async def test_mixed_firing_and_resolved_alerts_in_one_group_are_handled_one_by_one(
    running: Running, am: type[AM]
) -> None:
    a = am.alert("DiskUsageCritical", labels={"instance": "ms-1"})
    b = am.alert("DiskUsageCritical", labels={"instance": "ms-2"})
    await deliver(running, am.notification("DiskUsageCritical", a, b))

    # The group is still "firing" at the top level: only the alerts say which ended.
    mixed = am.notification("DiskUsageCritical", am.resolved(a), b)
    assert mixed["status"] == "firing"
    await deliver(running, mixed)

    [incident] = await incidents(running)
    rows = await alerts_of(running, incident.id)
    assert [(row.labels["instance"], row.status) for row in rows] == [
        ("ms-1", "resolved"), ("ms-2", "firing"),
    ]  # fmt: skip
    assert incident.status == Status.DECLARED.value
    assert running.sender.texts("alerts.all_resolved") == []

    await deliver(running, am.notification("DiskUsageCritical", am.resolved(a), am.resolved(b)))

    [incident] = await incidents(running)
    assert incident.status == Status.DECLARED.value  # proposed, not resolved: the plan says so
    assert await events(running, incident.id) == [
        "declared", "alerts.firing", "alerts.resolved", "alerts.resolved", "alerts.all_resolved",
    ]  # fmt: skip
    [proposal] = running.sender.texts("alerts.all_resolved")
    assert proposal == (
        "INC-0001 · ✅ Todos os 2 alerta(s) resolvidos. Proponho resolver o incidente: "
        "`resolver INC-0001 <causa raiz>`."
    )


async def test_the_same_notification_repeated_only_moves_last_seen(
    running: Running, am: type[AM]
) -> None:
    cpu = am.alert("CPUUtilisationCritical", labels={"instance": "ms-1"})
    payload = am.notification("CPUUtilisationCritical", cpu)
    await deliver(running, payload)
    [first] = await alerts_of(running, 1)
    timeline_before = await events(running, 1)
    posts_before = len(running.sender.posts)

    await deliver(running, payload, payload)

    [again] = await alerts_of(running, 1)
    assert len(await incidents(running)) == 1
    assert await events(running, 1) == timeline_before
    assert len(running.sender.posts) == posts_before
    assert (again.fire_count, again.first_seen_at) == (1, first.first_seen_at)
    assert again.last_seen_at > first.last_seen_at
    assert await running.count(AlertNotificationRow) == 3


async def test_a_flapping_alert_stays_on_one_incident_and_is_called_flapping(
    running: Running, am: type[AM]
) -> None:
    now = datetime.now(UTC)
    episodes = [am.alert("LatencyHigh", starts=now - timedelta(seconds=60 - 10 * n),
                         labels={"instance": "wifi-uti"}) for n in range(3)]  # fmt: skip
    extra = am.alert("LatencyHigh", labels={"instance": "wifi-ps"})  # keeps the incident open
    for episode in episodes:
        await deliver(running, am.notification("LatencyHigh", episode, extra))
        await deliver(running, am.notification("LatencyHigh", am.resolved(episode), extra))

    [incident] = await incidents(running)
    rows = await alerts_of(running, incident.id)
    assert [(r.labels["instance"], r.status, r.fire_count) for r in rows] == [
        ("wifi-uti", "resolved", 3), ("wifi-ps", "firing", 1),
    ]  # fmt: skip
    assert await events(running, incident.id) == [
        "declared", "alerts.firing", "alerts.resolved",
        "alerts.refired", "alerts.resolved",
        "alerts.flapping", "alerts.resolved",
    ]  # fmt: skip
    [flapping] = running.sender.texts("alerts.flapping")
    assert "oscilando: LatencyHigh (wifi-uti)" in flapping


async def test_an_older_episode_arriving_late_is_ignored(running: Running, am: type[AM]) -> None:
    now = datetime.now(UTC)
    old = am.alert("ErrorRateCritical", starts=now - timedelta(minutes=5))
    new = am.alert("ErrorRateCritical", starts=now - timedelta(minutes=1))
    await deliver(running, am.notification("ErrorRateCritical", new))

    await deliver(running, am.notification("ErrorRateCritical", am.resolved(old)))

    [row] = await alerts_of(running, 1)
    assert row.status == "firing"


async def test_a_refire_soon_after_resolution_reopens_the_incident(
    running: Running, am: type[AM]
) -> None:
    first = am.alert("AIResponseTimeSlow", starts=datetime.now(UTC) - timedelta(minutes=2))
    await deliver(running, am.notification("AIResponseTimeSlow", first))
    ctx = _console()
    reply = await running.jamie.commands.handle_text("resolver INC-0001 modelo reiniciado", ctx)
    assert reply.ok, reply.text

    again = am.alert("AIResponseTimeSlow", starts=datetime.now(UTC))
    await deliver(running, am.notification("AIResponseTimeSlow", again))

    [incident] = await incidents(running)
    assert (incident.status, incident.reopen_count) == (Status.ACKNOWLEDGED.value, 1)
    [row] = await alerts_of(running, 1)
    assert (row.status, row.fire_count) == ("firing", 2)
    assert (await events(running, 1))[-2:] == ["reopened", "alerts.refired"]


async def test_a_refire_long_after_resolution_opens_a_linked_recurrence(
    running: Running, am: type[AM]
) -> None:
    first = am.alert("AIResponseTimeSlow", starts=datetime.now(UTC) - timedelta(hours=3))
    await deliver(running, am.notification("AIResponseTimeSlow", first))
    await running.jamie.commands.handle_text("resolve INC-0001 model restarted", _console())
    async with running.jamie.sessions.begin() as session:  # resolved two hours ago
        earlier = datetime.now(UTC) - timedelta(hours=2)
        await session.execute(update(IncidentRow).values(resolved_at=earlier))

    again = am.alert("AIResponseTimeSlow", starts=datetime.now(UTC))
    await deliver(running, am.notification("AIResponseTimeSlow", again))

    old, new = await incidents(running)
    assert (old.status, new.status) == (Status.RESOLVED.value, Status.DECLARED.value)
    async with running.jamie.sessions() as session:
        declared = await session.scalar(
            select(TimelineRow).where(
                TimelineRow.incident_id == new.id, TimelineRow.kind == EntryKind.DECLARED.value
            )
        )
        group = await session.scalar(select(AlertGroupRow))
    assert declared is not None and declared.data["recurrence_of"] == "INC-0001"
    assert group is not None and group.incident_id == new.id
    [opened_again] = [t for t in running.sender.texts("alerts.opened") if "INC-0002" in t]
    assert "Recorrência de INC-0001" in opened_again


async def test_when_configured_jamie_resolves_once_every_alert_resolved(
    start_jamie: StartJamie, am: type[AM]
) -> None:
    app = await start_jamie(edit=lambda plan: plan["alerts"].update(on_all_resolved="resolve"))
    a = am.alert("DiskUsageWarning", labels={"instance": "ms-1"})
    await deliver(app, am.notification("DiskUsageWarning", a))

    await deliver(app, am.notification("DiskUsageWarning", am.resolved(a)))

    [incident] = await incidents(app)
    assert incident.status == Status.RESOLVED.value
    assert (await events(app, incident.id))[-2:] == ["alerts.resolved", "resolved"]
    assert incident.root_cause == "todos os 1 alerta(s) resolvidos (resolvido pelo Alertmanager)"


# -- what Alertmanager sends that is unusual -------------------------------------------------


async def test_truncated_alerts_are_noted_on_the_incident_once_per_count(
    running: Running, am: type[AM]
) -> None:
    a = am.alert("NodeDown", labels={"instance": "ms-1"})
    payload = am.notification("NodeDown", a, truncated=37)

    await deliver(running, payload, payload)

    assert (await events(running, 1)).count("alerts.truncated") == 1
    [note] = running.sender.texts("alerts.truncated")
    assert note == (
        "INC-0001 · ⚠️ O Alertmanager deixou 37 alerta(s) fora da notificação "
        "(truncatedAlerts); veja todos em http://alertmanager.local:9093."
    )


async def test_labels_and_annotations_with_accents_and_emoji_are_kept_as_sent(
    running: Running, am: type[AM]
) -> None:
    labels = {
        "instance": "estação-uti-3",
        "setor": "Cardiologia – UTI",
        "jamie_departments": "uti",
    }
    annotations = {
        "summary": "Latência acima de 100 ms na UTI 🚑",
        "descrição": "ação: verificar",
    }
    a = am.alert("LatênciaDeRede", labels=labels, annotations=annotations)

    await deliver(running, am.notification("LatênciaDeRede", a))

    [incident] = await incidents(running)
    [row] = await alerts_of(running, incident.id)
    assert incident.title == "Latência acima de 100 ms na UTI 🚑"
    assert incident.departments == ["icu"]  # "uti" is the plan's alias of icu
    assert (row.alertname, row.labels["setor"], row.annotations["descrição"]) == (
        "LatênciaDeRede", "Cardiologia – UTI", "ação: verificar",
    )  # fmt: skip
    assert "LatênciaDeRede (estação-uti-3)" in running.sender.texts("alerts.opened")[0]


async def test_an_alert_matching_a_playbook_puts_its_checklist_on_the_incident(
    running: Running, am: type[AM]
) -> None:
    slow = am.alert("AIResponseTimeHigh", labels={"severity": "critical", "jamie_severity": "P2"})

    await deliver(running, am.notification("AIResponseTimeHigh", slow))

    async with running.jamie.sessions() as session:
        steps = (await session.scalars(select(ChecklistItemRow.text))).all()
    assert steps == [s.text for s in running.jamie.plan.playbooks["ai_model_degradation"].actions]
    [attached] = running.sender.texts("playbook.attached")
    assert attached.startswith("INC-0001 · 📋 Playbook “ai_model_degradation”")


def _console() -> object:
    from bot.commands.handler import Context
    from bot.domain.people import ConversationRef

    room = ConversationRef(Transport.CONSOLE, "local")
    return Context(Transport.CONSOLE, "ana.sre", "Ana", room)
