"""The arithmetic of what falls due, on a hand-moved clock: warnings at 80 %, breaches at
the deadline, clocks restarting on a severity change, escalation tiers, cadence slots
(one late notice after a sleep), regulatory reminders, and the next moment to look."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.enums import Severity, Stage, Status, Transport
from bot.domain.incident import Incident
from bot.plan import Plan
from bot.plan.model import Channel, RegulatoryFlag
from bot.scheduling.due import DueKind, agenda

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SEC, MIN, HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


def incident(severity: Severity = Severity.P0, **changes: object) -> Incident:
    base = Incident(
        number=7, title="Mac Studio down", severity=severity, status=Status.DECLARED,
        departments=(), patient_impact=True, commander=None, declared_by="Ana",
        source=Transport.CONSOLE, started_at=T0, detected_at=T0, declared_at=T0,
        acknowledged_at=None, acknowledged_by=None, mitigated_at=None, resolved_at=None,
        root_cause=None, severity_since=T0, last_update=None, last_update_at=None,
        next_status_at=None, reopen_count=0,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def kinds_at(plan: Plan, subject: Incident, now: datetime, *wanted: DueKind) -> list[str]:
    return [d.key for d in agenda(subject, plan, now).due if d.kind in wanted]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (95 * SEC, []),
        (96 * SEC, ["warn:response:20260302T150000.000000"]),
        (2 * MIN - SEC, ["warn:response:20260302T150000.000000"]),
        (2 * MIN, ["breach:response:20260302T150000.000000:0"]),
        (7 * MIN, ["breach:response:20260302T150000.000000:0",
                   "breach:response:20260302T150000.000000:1"]),
    ],
)  # fmt: skip
def test_p0_response_clock_warns_at_80_percent_and_breaches_tier_by_tier(
    plan: Plan, after: timedelta, expected: list[str]
) -> None:
    found = kinds_at(plan, incident(), T0 + after, DueKind.WARNING, DueKind.BREACH)

    assert [k for k in found if k.startswith(("warn:response", "breach:response"))] == expected


def test_breach_tiers_follow_the_plan_for_the_severity(plan: Plan) -> None:
    due = agenda(incident(), plan, T0 + 8 * MIN).due
    tiers = [d for d in due if d.kind is DueKind.BREACH and d.stage is Stage.RESPONSE]

    assert [(d.tier, d.contacts, d.channels) for d in tiers] == [
        (0, ("it_manager", "hospital_cto"), (Channel.SMS, Channel.PAGING)),
        (1, ("hospital_administrator", "head_emergency", "head_icu", "head_cardiology",
             "head_surgery"), (Channel.SMS, Channel.PAGING)),
    ]  # fmt: skip


def test_acknowledged_incident_has_no_response_warning_or_breach(plan: Plan) -> None:
    acked = incident(status=Status.ACKNOWLEDGED, acknowledged_at=T0 + MIN)

    assert not [k for k in kinds_at(plan, acked, T0 + 5 * MIN, DueKind.BREACH) if "response" in k]


def test_escalation_restarts_the_clocks_with_new_keys_and_the_new_targets(plan: Plan) -> None:
    escalated = incident(Severity.P0, severity_since=T0 + 4 * MIN)  # was P1 until 4m

    at_6m = kinds_at(plan, escalated, T0 + 6 * MIN, DueKind.WARNING, DueKind.BREACH)

    assert "breach:response:20260302T150400.000000:0" in at_6m  # 4m + P0's 2m


def test_next_moment_is_the_earliest_upcoming_warning_or_deadline(plan: Plan) -> None:
    acked = incident(
        Severity.P2, status=Status.ACKNOWLEDGED, acknowledged_at=T0 + MIN, severity_since=T0
    )

    plan_at = agenda(acked, plan, T0 + 2 * MIN)

    # P2: mitigation 2h, warning at 96 minutes; P2 escalation's second step is at 1h.
    assert plan_at.next_at == T0 + HOUR


def test_escalation_steps_skip_people_that_a_cadence_keeps_informed(plan: Plan) -> None:
    [declared, media] = [
        d for d in agenda(incident(), plan, T0).due if d.kind is DueKind.ESCALATION
    ]

    assert declared.contacts == ("primary_sre", "it_manager")  # not the CTO, admin, heads
    assert (media.contacts, media.channels) == (("media_team",), (Channel.EMAIL,))


def test_after_a_three_hour_sleep_each_cadence_offers_only_its_latest_slot(plan: Plan) -> None:
    due = [d for d in agenda(incident(), plan, T0 + 3 * HOUR + MIN).due
           if d.kind is DueKind.CADENCE]  # fmt: skip

    assert sorted((d.contacts[0], d.at - T0) for d in due) == [
        ("head_emergency", 2 * HOUR),
        ("hospital_administrator", 3 * HOUR),
        ("hospital_cto", 3 * HOUR),
    ]


def test_p1_cto_cadence_starts_after_30_minutes(plan: Plan) -> None:
    p1 = incident(Severity.P1)

    before = [d.contacts for d in agenda(p1, plan, T0 + 29 * MIN).due
              if d.kind is DueKind.CADENCE]  # fmt: skip
    after = [d.contacts for d in agenda(p1, plan, T0 + 30 * MIN).due
             if d.kind is DueKind.CADENCE]  # fmt: skip

    assert ("hospital_cto",) not in before and ("hospital_cto",) in after


def test_resolution_notice_goes_to_stakeholders_whose_cadence_had_started(plan: Plan) -> None:
    p1 = incident(Severity.P1, status=Status.RESOLVED, resolved_at=T0 + 20 * MIN,
                  acknowledged_at=T0, mitigated_at=T0)  # fmt: skip

    due = agenda(p1, plan, T0 + 21 * MIN).due

    notified = {c for d in due if d.kind is DueKind.RESOLUTION for c in d.contacts}
    assert "hospital_administrator" in notified  # P1 cadence starts at 15m
    assert "hospital_cto" not in notified  # P1 cadence starts at 30m: never told


@pytest.mark.parametrize(
    ("after", "number", "overdue"),
    [
        (0 * HOUR, 0, False),
        (11 * HOUR, 0, False),
        (12 * HOUR, 1, False),
        (21 * HOUR + 36 * MIN, 3, False),
        (24 * HOUR, 4, False),
        (26 * HOUR + MIN, 6, True),
    ],
)
def test_anvisa_reminders_run_to_the_deadline_then_hourly_while_overdue(
    plan: Plan, after: timedelta, number: int, overdue: bool
) -> None:
    flags = {RegulatoryFlag.PATIENT_SAFETY: T0}

    [reminder] = agenda(incident(), plan, T0 + after, flags=flags).due[-1:]

    assert reminder.kind is DueKind.REMINDER
    assert reminder.key == f"reg:anvisa:20260302T150000.000000:{number}"
    assert (reminder.at > reminder.deadline) == overdue  # type: ignore[operator]


def test_reminders_stop_once_the_regulator_is_notified_even_after_resolution(
    plan: Plan,
) -> None:
    resolved = incident(status=Status.RESOLVED, resolved_at=T0 + HOUR)
    flags = {RegulatoryFlag.PERSONAL_DATA_BREACH: T0}

    pending = agenda(resolved, plan, T0 + 2 * HOUR, flags=flags)
    done = agenda(resolved, plan, T0 + 2 * HOUR, flags=flags, notified=["anpd"])

    assert [d.regulator for d in pending.due if d.kind is DueKind.REMINDER] == ["anpd"]
    assert pending.next_at == T0 + 36 * HOUR
    assert ([d for d in done.due if d.kind is DueKind.REMINDER], done.next_at) == ([], None)
