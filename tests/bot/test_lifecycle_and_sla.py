"""The lifecycle (which moves are allowed from which state) and the SLA clocks that measure
each stage against the plan, computed at fixed instants."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.enums import Severity, Stage, Status, Transport
from bot.domain.errors import IllegalTransition
from bot.domain.incident import Incident
from bot.domain.lifecycle import Action, allowed_actions, next_status
from bot.domain.sla import ClockState, clock_for, clocks
from bot.plan import Plan
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat

SEC = timedelta(seconds=1)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
P1_TARGETS = {
    Stage.DETECTION: 1 * MIN,
    Stage.RESPONSE: 5 * MIN,
    Stage.MITIGATION: 30 * MIN,
    Stage.RESOLUTION: 12 * HOUR,
}
P0_TARGETS = {
    Stage.DETECTION: 30 * SEC,
    Stage.RESPONSE: 2 * MIN,
    Stage.MITIGATION: 15 * MIN,
    Stage.RESOLUTION: 4 * HOUR,
}


def incident(**changes: object) -> Incident:
    """A P1 that started, was detected and declared at T0; `changes` override any field."""
    base = Incident(
        number=1,
        title="Mac Studio unresponsive",
        severity=Severity.P1,
        status=Status.DECLARED,
        departments=("icu",),
        patient_impact=False,
        commander=None,
        declared_by="Ana",
        source=Transport.CONSOLE,
        started_at=T0,
        detected_at=T0,
        declared_at=T0,
        acknowledged_at=None,
        acknowledged_by=None,
        mitigated_at=None,
        resolved_at=None,
        root_cause=None,
        severity_since=T0,
        last_update=None,
        last_update_at=None,
        next_status_at=T0 + 5 * MIN,
        reopen_count=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- lifecycle -------------------------------------------------------------------------------

ALLOWED = [
    (Status.DECLARED, Action.ACKNOWLEDGE, Status.ACKNOWLEDGED),
    (Status.DECLARED, Action.MITIGATE, Status.MITIGATED),
    (Status.DECLARED, Action.RESOLVE, Status.RESOLVED),
    (Status.ACKNOWLEDGED, Action.MITIGATE, Status.MITIGATED),
    (Status.ACKNOWLEDGED, Action.RESOLVE, Status.RESOLVED),
    (Status.MITIGATED, Action.RESOLVE, Status.RESOLVED),
    (Status.RESOLVED, Action.REOPEN, Status.ACKNOWLEDGED),
]
ILLEGAL = [
    (Status.ACKNOWLEDGED, Action.ACKNOWLEDGE),
    (Status.MITIGATED, Action.ACKNOWLEDGE),
    (Status.RESOLVED, Action.ACKNOWLEDGE),
    (Status.MITIGATED, Action.MITIGATE),
    (Status.RESOLVED, Action.MITIGATE),
    (Status.RESOLVED, Action.RESOLVE),
    (Status.DECLARED, Action.REOPEN),
    (Status.ACKNOWLEDGED, Action.REOPEN),
    (Status.MITIGATED, Action.REOPEN),
]


@pytest.mark.parametrize(("current", "action", "after"), ALLOWED)
def test_allowed_move_leads_to_the_next_status(
    current: Status, action: Action, after: Status
) -> None:
    assert next_status(current, action) == after


@pytest.mark.parametrize(("current", "action"), ILLEGAL)
def test_illegal_move_is_refused_naming_the_action_and_the_status(
    current: Status, action: Action
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status(current, action)

    assert caught.value.params == {"action": action.value, "status": current.value}


def test_the_two_tables_above_cover_every_status_and_action() -> None:
    listed = {(current, action) for current, action, _ in ALLOWED} | set(ILLEGAL)

    assert listed == set(itertools.product(Status, Action))


@pytest.mark.parametrize(
    ("current", "actions"),
    [
        (Status.DECLARED, [Action.ACKNOWLEDGE, Action.MITIGATE, Action.RESOLVE]),
        (Status.ACKNOWLEDGED, [Action.MITIGATE, Action.RESOLVE]),
        (Status.MITIGATED, [Action.RESOLVE]),
        (Status.RESOLVED, [Action.REOPEN]),
    ],
)
def test_allowed_actions_lists_the_moves_offered_in_each_status(
    current: Status, actions: list[Action]
) -> None:
    assert allowed_actions(current) == actions


# -- clock states ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("acknowledged_after", "now_after", "state"),
    [
        (None, 1 * MIN, ClockState.RUNNING),
        (None, 4 * MIN - SEC, ClockState.RUNNING),
        (None, 4 * MIN, ClockState.WARNING),  # 80% of the 5-minute target
        (None, 5 * MIN, ClockState.WARNING),  # the deadline itself is still on time
        (None, 5 * MIN + SEC, ClockState.BREACHED),
        (3 * MIN, 1 * HOUR, ClockState.MET),
        (5 * MIN, 1 * HOUR, ClockState.MET),
        (5 * MIN + SEC, 1 * HOUR, ClockState.MISSED),
    ],
)
def test_response_clock_state_at_a_fixed_instant(
    acknowledged_after: timedelta | None, now_after: timedelta, state: ClockState
) -> None:
    acked = None if acknowledged_after is None else T0 + acknowledged_after
    subject = incident(
        status=Status.ACKNOWLEDGED if acked else Status.DECLARED, acknowledged_at=acked
    )

    clock = clock_for(subject, Stage.RESPONSE, 5 * MIN, T0 + now_after)

    assert (clock.started_at, clock.deadline, clock.done_at, clock.state) == (
        T0,
        T0 + 5 * MIN,
        acked,
        state,
    )


@pytest.mark.parametrize(
    ("now_after", "remaining"),
    [(1 * MIN, 4 * MIN), (5 * MIN, timedelta(0)), (7 * MIN, -2 * MIN)],
)
def test_open_clock_counts_down_and_goes_negative_once_breached(
    now_after: timedelta, remaining: timedelta
) -> None:
    clock = clock_for(incident(), Stage.RESPONSE, 5 * MIN, T0 + now_after)

    assert clock.remaining(T0 + now_after) == remaining


def test_closed_clock_keeps_the_margin_it_closed_with() -> None:
    subject = incident(status=Status.ACKNOWLEDGED, acknowledged_at=T0 + 2 * MIN)

    clock = clock_for(subject, Stage.RESPONSE, 5 * MIN, T0 + 3 * HOUR)

    assert clock.remaining(T0 + 3 * HOUR) == 3 * MIN


@pytest.mark.parametrize(
    ("started_before_detection", "state"),
    [(30 * SEC, ClockState.MET), (1 * MIN, ClockState.MET), (2 * MIN, ClockState.MISSED)],
)
def test_detection_clock_runs_from_the_start_of_the_problem_to_its_detection(
    started_before_detection: timedelta, state: ClockState
) -> None:
    subject = incident(started_at=T0 - started_before_detection)

    clock = clock_for(subject, Stage.DETECTION, 1 * MIN, T0)

    assert (clock.started_at, clock.done_at, clock.state) == (
        T0 - started_before_detection,
        T0,
        state,
    )


def test_clocks_come_one_per_stage_in_lifecycle_order() -> None:
    stages = [clock.stage for clock in clocks(incident(), P1_TARGETS, T0)]

    assert stages == [Stage.DETECTION, Stage.RESPONSE, Stage.MITIGATION, Stage.RESOLUTION]


# -- escalation restarts the open clocks -----------------------------------------------------


def escalated_to_p0() -> Incident:
    """A P1 acknowledged at T0+2m and escalated to P0 at T0+20m, still being worked."""
    return incident(
        severity=Severity.P0,
        status=Status.ACKNOWLEDGED,
        acknowledged_at=T0 + 2 * MIN,
        severity_since=T0 + 20 * MIN,
    )


def test_escalation_restarts_the_open_stages_from_the_severity_change() -> None:
    now = T0 + 30 * MIN

    started = {
        clock.stage: clock.started_at for clock in clocks(escalated_to_p0(), P0_TARGETS, now)
    }

    assert started == {
        Stage.DETECTION: T0,
        Stage.RESPONSE: T0,  # closed before the escalation: measured as it was
        Stage.MITIGATION: T0 + 20 * MIN,
        Stage.RESOLUTION: T0 + 20 * MIN,
    }


def test_escalated_incident_is_not_born_breached_against_the_stricter_targets() -> None:
    # 30 minutes after detection is past P0's 15-minute mitigation target, but only
    # 10 minutes have passed since the escalation: the team still has 5.
    now = T0 + 30 * MIN

    mitigation = clock_for(escalated_to_p0(), Stage.MITIGATION, 15 * MIN, now)

    assert (mitigation.state, mitigation.remaining(now)) == (ClockState.RUNNING, 5 * MIN)


def test_stage_closed_after_an_escalation_is_measured_from_the_escalation() -> None:
    subject = replace(escalated_to_p0(), status=Status.MITIGATED, mitigated_at=T0 + 34 * MIN)

    mitigation = clock_for(subject, Stage.MITIGATION, 15 * MIN, T0 + 1 * HOUR)

    assert (mitigation.started_at, mitigation.state) == (T0 + 20 * MIN, ClockState.MET)


# -- clocks from the real plan ---------------------------------------------------------------


@pytest.fixture
def renderer(plan: Plan) -> Renderer:
    return Renderer(plan, TimeFormat("America/Sao_Paulo"))


def test_p3_has_no_mitigation_clock(renderer: Renderer) -> None:
    stages = [clock.stage for clock in renderer.clocks(incident(severity=Severity.P3), T0)]

    assert stages == [Stage.DETECTION, Stage.RESPONSE, Stage.RESOLUTION]


@pytest.mark.parametrize(
    ("severity", "mitigation_deadline"),
    [(Severity.P0, 15 * MIN), (Severity.P1, 30 * MIN), (Severity.P2, 2 * HOUR)],
)
def test_plan_targets_set_the_mitigation_deadline(
    renderer: Renderer, severity: Severity, mitigation_deadline: timedelta
) -> None:
    by_stage = {clock.stage: clock for clock in renderer.clocks(incident(severity=severity), T0)}

    assert by_stage[Stage.MITIGATION].deadline == T0 + mitigation_deadline
