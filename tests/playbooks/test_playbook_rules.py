"""Playbooks as rules in the plan: label matchers as Alertmanager writes them, which
playbooks an alert triggers, and a plan that says something impossible stops Jamie with
the field to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.plan import Plan, PlanError, load_plan
from bot.playbooks import checklists
from bot.playbooks.matchers import parse_matchers

PLAN_PATH = Path(__file__).resolve().parents[2] / "deploy" / "plan.yaml"
LABELS = {"alertname": "MacStudioDown", "environment": "mvp", "instance": "ms-1"}


@pytest.mark.parametrize(
    ("matchers", "matches"),
    [
        ('alertname="MacStudioDown"', True),
        ('alertname="MacStudioDown", environment="production"', False),
        ('alertname = "MacStudioDown" , environment=~"mvp|production"', True),
        ('environment!="mvp"', False),
        ('instance!~"ms-.*"', False),
        ('team=""', True),  # a missing label reads as empty, as in Alertmanager
        ("alertname=MacStudioDown", True),
        ('alertname=~"Mac.*"', True),
        ('alertname=~"Mac"', False),  # regexes are anchored
        ('summary="a, b"', False),
    ],
)
def test_matcher_sets_match_labels_as_alertmanager_does(matchers: str, matches: bool) -> None:
    assert all(m.matches(LABELS) for m in parse_matchers(matchers)) is matches


@pytest.mark.parametrize("bad", ["", "alertname", 'alertname=="x"', 'a=~"("', '1abc="x"'])
def test_a_bad_matcher_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_matchers(bad)


@pytest.mark.parametrize(
    ("labels", "playbooks"),
    [
        ({"alertname": "PlaybookNetworkLatencySpike", "jamie_playbook": "network_latency_spike"},
         ["network_latency_spike"]),
        ({"alertname": "AIResponseTimeHigh", "severity": "critical"}, ["ai_model_degradation"]),
        ({"alertname": "AIResponseTimeHigh", "severity": "warning"}, []),
        ({"alertname": "Anything"}, []),
    ],
)  # fmt: skip
def test_an_alert_triggers_the_playbooks_that_name_it_or_match_it(
    plan: Plan, labels: dict[str, str], playbooks: list[str]
) -> None:
    assert checklists.triggered(plan, labels) == playbooks


def test_every_playbook_of_the_plan_has_a_trigger_jamie_can_see(plan: Plan) -> None:
    silent = [k for k, book in plan.playbooks.items() if not book.condition and not book.alerts]

    assert silent == []
    assert len(plan.playbooks) == 6


def test_hooks_are_only_named_by_steps_of_the_plan(plan: Plan) -> None:
    named = {s.hook for book in plan.playbooks.values() for s in book.actions if s.hook}

    assert named == set(plan.hooks)


def broken_plan(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["playbooks"]["network_latency_spike"]["actions"].append(
            {"text": "Reboot the router", "hook": "reboot"}),
         "playbooks.network_latency_spike.actions.4.hook: unknown hook 'reboot'"),
        (lambda d: d["playbooks"]["security_anomaly"].update(alerts=['alertname=~"("']),
         "playbooks.security_anomaly.alerts.0: alertname: bad regular expression"),
        (lambda d: d["playbooks"]["security_anomaly"]["condition"]["any"][0].update(below=1),
         "give a metric and exactly one of above or below"),
        (lambda d: d["hooks"]["restart_model"].update(http={"url": "ftp://x"}),
         "hooks.restart_model.http.url: 'ftp://x' is not an http(s) URL"),
        (lambda d: d["hooks"]["restart_model"].pop("command"),
         "hooks.restart_model: a hook has either command or http"),
        (lambda d: d["alerts"].update(on_all_resolved="maybe"), "alerts.on_all_resolved"),
    ],
)  # fmt: skip
def test_a_playbook_mistake_stops_jamie_naming_the_field(
    tmp_path: Path, change: Any, message: str
) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(broken_plan(tmp_path, change))

    assert message in str(caught.value)
