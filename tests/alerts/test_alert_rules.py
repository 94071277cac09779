"""The rules that need no server: how an alert is classified against what Jamie recorded,
which severity labels map to, and what a version-4 payload may contain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.alerts.payload import PayloadError, parse_notification
from bot.alerts.policy import AlertPolicy
from bot.alerts.tracker import Change, classify
from bot.domain.enums import Severity
from bot.storage.alert_models import AlertRow

if TYPE_CHECKING:
    from tests.alerts.conftest import AM

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
EARLIER = T0 - timedelta(minutes=5)


def recorded(status: str, starts: datetime = T0) -> AlertRow:
    return AlertRow(status=status, starts_at=starts)


def parsed(am: type[AM], status: str, starts: datetime) -> object:
    payload = am.notification("G", am.alert("A", status=status, starts=starts, ends=LATER))
    return parse_notification(json.dumps(payload).encode()).alerts[0]


@pytest.mark.parametrize(
    ("status", "starts", "row", "change"),
    [
        ("firing", T0, None, Change.NEW),
        ("resolved", T0, None, Change.ORPHAN),
        ("firing", T0, recorded("firing"), Change.REPEAT),
        ("resolved", T0, recorded("firing"), Change.RESOLVE),
        ("resolved", T0, recorded("resolved"), Change.REPEAT),
        ("firing", LATER, recorded("resolved"), Change.REFIRE),
        ("firing", LATER, recorded("firing"), Change.REFIRE),  # we missed its resolution
        ("firing", T0, recorded("resolved"), Change.STALE),  # the firing arrived after it
        ("resolved", EARLIER, recorded("firing"), Change.STALE),
        ("firing", EARLIER, recorded("firing"), Change.STALE),
    ],
)
def test_each_alert_is_classified_by_its_own_status_and_start_against_the_record(
    am: type[AM], status: str, starts: datetime, row: AlertRow | None, change: Change
) -> None:
    assert classify(parsed(am, status, starts), row) is change  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("labels", "severity"),
    [
        ({"severity": "page"}, Severity.P0),
        ({"severity": "critical"}, Severity.P1),
        ({"severity": "CRITICAL"}, Severity.P1),
        ({"severity": "warning"}, Severity.P3),
        ({"severity": "P2"}, Severity.P2),
        ({"severity": "sev1"}, Severity.P1),
        ({"severity": "critical", "jamie_severity": "P0"}, Severity.P0),
        ({"severity": "page", "jamie_severity": "p3"}, Severity.P3),
        ({"severity": "critical", "jamie_severity": "urgent"}, Severity.P1),
        ({"severity": "bizarre"}, Severity.P3),
        ({}, Severity.P3),
    ],
)
def test_severity_comes_from_the_override_then_the_map_then_the_default(
    labels: dict[str, str], severity: Severity
) -> None:
    assert AlertPolicy().severity_for(labels) is severity


def test_a_custom_map_and_default_are_used(am: type[AM]) -> None:
    policy = AlertPolicy(severity_map={"Disaster": Severity.P0}, default_severity=Severity.P2)

    assert (policy.severity_for({"severity": "disaster"}), policy.severity_for({})) == (
        Severity.P0, Severity.P2,
    )  # fmt: skip


def test_conversations_must_name_a_transport_and_an_address() -> None:
    with pytest.raises(ValueError, match="is not transport:address"):
        AlertPolicy(conversations=["C0INCIDENTS"])


def test_a_firing_alert_has_no_end_and_numbers_in_labels_become_text(am: type[AM]) -> None:
    payload = am.notification("G", am.alert("A"))
    payload["alerts"][0]["labels"]["replicas"] = 3
    payload["alerts"][0].pop("fingerprint")
    payload["unknownFieldFromANewerAlertmanager"] = True

    [alert] = parse_notification(json.dumps(payload).encode()).alerts

    assert (alert.ended_at, alert.labels["replicas"], len(alert.key)) == (None, "3", 16)


def test_the_same_labels_without_a_fingerprint_give_the_same_key(am: type[AM]) -> None:
    def key() -> str:
        payload = am.notification("G", am.alert("A", labels={"b": "1", "a": "2"}))
        payload["alerts"][0].pop("fingerprint")
        return parse_notification(json.dumps(payload).encode()).alerts[0].key

    assert key() == key()


def test_a_notification_from_another_group_key_or_receiver_is_another_group(am: type[AM]) -> None:
    def group_id(**changes: str) -> str:
        payload = {**am.notification("G", am.alert("A")), **changes}
        return parse_notification(json.dumps(payload).encode()).group_id

    assert len({group_id(), group_id(groupKey="other"), group_id(receiver="email")}) == 3


def test_a_payload_error_says_where_the_problem_is() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_notification(b'{"version": "4", "status": "firing", "alerts": [{}]}')

    assert caught.value.reason.startswith("groupKey: Field required (+")
