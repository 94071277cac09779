"""deploy/prometheus/: the plan's thresholds as alert rules, the playbooks' conditions as
rules generated from the plan, and the Alertmanager receiver that points at Jamie; checked
with Prometheus's own promtool and amtool (Debian's prometheus and prometheus-alertmanager
packages, installed by deploy/dev/system-deps.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.plan import Plan
from bot.playbooks import checklists
from bot.playbooks.prometheus import rules

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULE_FILES = sorted(PROMETHEUS.glob("*.rules.yml"))


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} not found on PATH: install Debian's {package} package with "
            "`make system-deps` (deploy/dev/system-deps.sh), which `make test` runs first.",
            pytrace=False,
        )
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False
    )


def alert_rules(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [r for group in document["groups"] for r in group["rules"] if "alert" in r]


def test_promtool_accepts_every_rule_file() -> None:
    done = run(tool("promtool", "prometheus"), "check", "rules", *map(str, RULE_FILES))

    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in RULE_FILES} == {"thresholds.rules.yml", "playbooks.rules.yml"}


def test_the_thresholds_fire_when_the_plan_says_and_not_before() -> None:
    done = run(tool("promtool", "prometheus"), "test", "rules", "thresholds.test.yml")

    assert done.returncode == 0, done.stdout + done.stderr


def test_amtool_accepts_the_alertmanager_configuration() -> None:
    done = run(tool("amtool", "prometheus-alertmanager"), "check-config", "alertmanager.yml")

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_receiver_sends_every_alert_and_its_resolution_to_jamie_with_a_token() -> None:
    config = yaml.safe_load((PROMETHEUS / "alertmanager.yml").read_text(encoding="utf-8"))

    [receiver] = config["receivers"]
    [webhook] = receiver["webhook_configs"]
    assert (config["route"]["receiver"], webhook["url"].endswith("/alerts/alertmanager")) == (
        receiver["name"], True,
    )  # fmt: skip
    assert (webhook["send_resolved"], webhook["http_config"]["authorization"]["type"]) == (
        True, "Bearer",
    )  # fmt: skip
    assert "inhibit_rules" not in config  # an inhibited alert never resolves for Jamie


def test_the_playbook_rules_file_is_what_the_plan_generates(plan: Plan) -> None:
    committed = (PROMETHEUS / "playbooks.rules.yml").read_text(encoding="utf-8")

    assert committed == rules(plan), "regenerate: jamie playbooks rules --write " + str(
        PROMETHEUS / "playbooks.rules.yml"
    )


def test_each_playbook_rule_triggers_its_playbook_at_the_plans_severity(plan: Plan) -> None:
    for rule in alert_rules(PROMETHEUS / "playbooks.rules.yml"):
        labels = {"alertname": rule["alert"], **rule["labels"]}
        [playbook] = checklists.triggered(plan, labels)
        assert labels["jamie_severity"] == plan.playbooks[playbook].severity.value


def test_every_threshold_rule_says_its_check_and_plan_severity(plan: Plan) -> None:
    for rule in alert_rules(PROMETHEUS / "thresholds.rules.yml"):
        labels = rule["labels"]
        expected = "P2" if labels["severity"] == "critical" else "P3"
        assert (bool(labels.get("check")), labels["jamie_severity"]) == (True, expected), rule


def test_the_critical_ai_response_alert_triggers_the_ai_degradation_playbook(plan: Plan) -> None:
    [rule] = [r for r in alert_rules(PROMETHEUS / "thresholds.rules.yml")
              if r["alert"] == "AIResponseTimeHigh"]  # fmt: skip

    assert checklists.triggered(plan, {"alertname": rule["alert"], **rule["labels"]}) == [
        "ai_model_degradation"
    ]
