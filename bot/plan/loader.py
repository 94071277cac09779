"""Loading the plan file: YAML in, a validated Plan out, or an error naming file and field."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.plan.model import Plan


class PlanError(Exception):
    """The plan file is missing, unreadable or invalid; the message names file and field."""


def load_plan(path: Path) -> Plan:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PlanError(f"{path}: plan file not found (set JAMIE_PLAN to its path)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PlanError(f"{path}:{where} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PlanError(f"{path}: the plan must be a mapping at the top level")
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(_describe(path, exc)) from exc


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: the plan is invalid ({exc.error_count()} problem(s)):"]
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"  - {field}: {message}")
    return "\n".join(lines)
