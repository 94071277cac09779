"""The plan file: the real deploy/plan.yaml carries the plan document's numbers, and a broken
file stops Jamie with a PlanError that names the file and the field to fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.enums import Severity
from bot.plan import Plan, PlanError, load_plan
from bot.plan.durations import format_duration, parse_duration
from bot.plan.model import Channel

PLAN_PATH = Path(__file__).resolve().parents[2] / "deploy" / "plan.yaml"
SEC = timedelta(seconds=1)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)

Raw = dict[str, Any]


def real_plan_data() -> Raw:
    """A fresh copy of the real plan as plain YAML data, for a test to break."""
    data: Raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    return data


def write_plan(folder: Path, data: Raw) -> Path:
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- the real plan ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "detection", "response", "mitigation", "resolution"),
    [
        (Severity.P0, 30 * SEC, 2 * MIN, 15 * MIN, 4 * HOUR),
        (Severity.P1, 1 * MIN, 5 * MIN, 30 * MIN, 12 * HOUR),
        (Severity.P2, 5 * MIN, 15 * MIN, 2 * HOUR, 24 * HOUR),
        (Severity.P3, 30 * MIN, 2 * HOUR, None, 72 * HOUR),
    ],
)
def test_real_plan_carries_the_documented_sla_targets(
    plan: Plan,
    severity: Severity,
    detection: timedelta,
    response: timedelta,
    mitigation: timedelta | None,
    resolution: timedelta,
) -> None:
    targets = plan.policy(severity).targets

    actual = (targets.detection, targets.response, targets.mitigation, targets.resolution)

    assert actual == (detection, response, mitigation, resolution)


@pytest.mark.parametrize(
    ("key", "authority", "deadline"),
    [("anvisa", "ANVISA", 24 * HOUR), ("cfm", "CFM", 48 * HOUR), ("anpd", "ANPD", 72 * HOUR)],
)
def test_real_plan_carries_the_regulatory_deadlines(
    plan: Plan, key: str, authority: str, deadline: timedelta
) -> None:
    actual = plan.regulatory[key]

    assert (actual.authority, actual.deadline) == (authority, deadline)


def test_real_plan_escalates_a_p1_to_the_cto_after_30_minutes(plan: Plan) -> None:
    steps = plan.policy(Severity.P1).escalation

    cto_steps = [(step.after, step.channels) for step in steps if "hospital_cto" in step.notify]

    assert cto_steps == [(30 * MIN, [Channel.SMS])]


def test_real_plan_pages_on_call_and_department_heads_at_once_for_a_p0(plan: Plan) -> None:
    first = plan.policy(Severity.P0).escalation[0]

    assert (first.after, first.notify) == (
        timedelta(0),
        ["on_call", "hospital_administrator", "department_heads"],
    )
    assert plan.expand(first.notify) == [
        "primary_sre", "it_manager", "hospital_cto", "hospital_administrator",
        "head_emergency", "head_icu", "head_cardiology", "head_surgery",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("severity", "every"),
    [(Severity.P0, 5 * MIN), (Severity.P1, 5 * MIN), (Severity.P2, 5 * MIN), (Severity.P3, HOUR)],
)
def test_real_plan_sets_the_status_update_interval_per_severity(
    plan: Plan, severity: Severity, every: timedelta
) -> None:
    assert plan.status_interval(severity) == every


@pytest.mark.parametrize(
    ("typed", "department"),
    [("icu", "icu"), ("UTI", "icu"), ("ps", "emergency"), ("Emergência", "emergency"),
     ("Cardiologia", "cardiology"), ("cc", "surgery"), ("pharmacy", None)],
)  # fmt: skip
def test_real_plan_finds_departments_by_key_alias_or_local_name(
    plan: Plan, typed: str, department: str | None
) -> None:
    assert plan.department_key(typed) == department


# -- broken plans ----------------------------------------------------------------------------


def without_p2(data: Raw) -> None:
    del data["severities"]["P2"]


def response_written_as_fast(data: Raw) -> None:
    data["severities"]["P1"]["targets"]["response"] = "fast"


def escalation_to_unknown_contact(data: Raw) -> None:
    data["severities"]["P1"]["escalation"][2]["notify"] = ["dr_house"]


def response_slower_than_mitigation(data: Raw) -> None:
    data["severities"]["P2"]["targets"]["response"] = "3h"


def misspelt_target(data: Raw) -> None:
    data["severities"]["P0"]["targets"]["responce"] = "2m"


def unknown_channel(data: Raw) -> None:
    data["severities"]["P0"]["escalation"][0]["channels"] = ["pigeon"]


def severity_p4(data: Raw) -> None:
    data["severities"]["P4"] = data["severities"]["P3"]


def group_with_unknown_member(data: Raw) -> None:
    data["groups"]["on_call"].append("ghost")


def regulator_without_contact(data: Raw) -> None:
    data["regulatory"]["anvisa"]["contact"] = "nobody"


def responder_with_unknown_role(data: Raw) -> None:
    data["responders"]["primary-sre"]["role"] = "boss"


BREAKAGES = [
    (without_p2, "severities: missing P2"),
    (response_written_as_fast, "severities.P1.targets.response: 'fast' is not a duration"),
    (
        escalation_to_unknown_contact,
        "severities.P1.escalation.2.notify: unknown contact or group 'dr_house'",
    ),
    (response_slower_than_mitigation, "severities.P2.targets: targets must grow"),
    (misspelt_target, "severities.P0.targets.responce: Extra inputs are not permitted"),
    (unknown_channel, "severities.P0.escalation.0.channels.0: Input should be 'call'"),
    (severity_p4, "severities.P4.[key]: Input should be 'P0'"),
    (group_with_unknown_member, "groups.on_call: unknown contact 'ghost'"),
    (regulator_without_contact, "regulatory.anvisa.contact: unknown contact 'nobody'"),
    (responder_with_unknown_role, "responders.primary-sre.role: Input should be 'observer'"),
]


@pytest.mark.parametrize(
    ("breakage", "expected"), BREAKAGES, ids=[breakage.__name__ for breakage, _ in BREAKAGES]
)
def test_broken_plan_fails_naming_the_file_and_the_field(
    tmp_path: Path, breakage: Callable[[Raw], None], expected: str
) -> None:
    data = real_plan_data()
    breakage(data)
    path = write_plan(tmp_path, data)

    with pytest.raises(PlanError) as caught:
        load_plan(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: the plan is invalid (1 problem(s)):")
    assert expected in message


def test_plan_with_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    lines = PLAN_PATH.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.startswith("  every: 5m"))
    lines[number - 1] = "\tevery: 5m"
    path = tmp_path / "plan.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")

    with pytest.raises(PlanError) as caught:
        load_plan(path)

    assert str(caught.value).startswith(f"{path}: line {number}, column 1 is not valid YAML")


def test_plan_whose_top_level_is_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("- P0\n- P1\n", encoding="utf-8")

    with pytest.raises(PlanError) as caught:
        load_plan(path)

    assert str(caught.value) == f"{path}: the plan must be a mapping at the top level"


def test_missing_plan_file_names_the_setting_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(PlanError) as caught:
        load_plan(path)

    assert str(caught.value) == f"{path}: plan file not found (set JAMIE_PLAN to its path)"


# -- durations as the plan writes them -------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [("30s", 30 * SEC), ("2m", 2 * MIN), ("4h", 4 * HOUR), ("1h30m", 90 * MIN),
     ("1d", 24 * HOUR), (" 15 m ", 15 * MIN), ("90", 90 * SEC), (45, 45 * SEC)],
)  # fmt: skip
def test_duration_in_plan_notation_is_parsed(written: str | int, expected: timedelta) -> None:
    assert parse_duration(written) == expected


@pytest.mark.parametrize("written", ["fast", "", "5x", "1h fast", "-5m"])
def test_text_that_is_not_a_duration_is_refused_with_the_accepted_forms(written: str) -> None:
    with pytest.raises(ValueError, match="write it like 30s, 15m, 4h or 1h30m"):
        parse_duration(written)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [(30 * SEC, "30s"), (2 * MIN + 5 * SEC, "2m05s"), (15 * MIN, "15m"), (65 * MIN, "1h05m"),
     (4 * HOUR, "4h"), (76 * HOUR, "3d4h"), (-(5 * MIN), "5m")],
)  # fmt: skip
def test_duration_is_shown_compactly(delta: timedelta, shown: str) -> None:
    assert format_duration(delta) == shown
