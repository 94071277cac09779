"""Playbook conditions as Prometheus alert rules. Prometheus evaluates them; the alerts
they raise carry `jamie_playbook: <name>`, so the playbook triggers on its own condition.
The file in deploy/prometheus/ is this output, kept equal to it by a test."""

from __future__ import annotations

from datetime import timedelta

import yaml

from bot.domain.enums import Severity
from bot.plan import Plan

GROUP = "jamie-playbooks"
HEADER = (
    "# Generated from deploy/plan.yaml (playbooks.*.condition) by `jamie playbooks rules`.\n"
    "# Do not edit: change the plan and regenerate. Checked by `promtool check rules`.\n"
)
# The conventional label other receivers route on; Jamie reads jamie_severity first.
CONVENTIONAL = {
    Severity.P0: "critical",
    Severity.P1: "critical",
    Severity.P2: "warning",
    Severity.P3: "info",
}


_TEMPLATE = "{{ $labels.instance }} at {{ $value }}"


def alert_name(key: str) -> str:
    return "Playbook" + "".join(part.capitalize() for part in key.split("_"))


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60}m" if seconds and seconds % 60 == 0 else f"{seconds}s"


def rules(plan: Plan) -> str:
    """The rule file for every playbook that has a condition."""
    entries = []
    for key, book in plan.playbooks.items():
        if book.condition is None:
            continue
        entries.append(
            {
                "alert": alert_name(key),
                "expr": book.condition.promql(),
                "for": _duration(book.condition.for_),
                "labels": {
                    "jamie_playbook": key,
                    "jamie_severity": book.severity.value,
                    "severity": CONVENTIONAL[book.severity],
                },
                "annotations": {
                    "summary": book.trigger,
                    "description": f"Playbook {key}: {_TEMPLATE}",
                },
            }
        )
    document = {"groups": [{"name": GROUP, "rules": entries}]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    return HEADER + body
