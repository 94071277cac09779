"""The shapes a playbook is written in, inside the plan file (see deploy/plan.yaml).

A playbook is triggered by alerts that match one of its `alerts` matcher sets, or that carry
the label `jamie_playbook: <its name>`: the alert rules generated from its `condition`
carry that label (bot/playbooks/prometheus.py). Its `actions` become the incident's
checklist; an action may name a `hook`, defined once under the plan's `hooks:`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.playbooks.matchers import parse_matchers


def _duration(value: object) -> object:
    # Imported here: bot.plan imports this module, and bot.plan.durations lives in bot.plan.
    from bot.plan.durations import parse_duration

    return parse_duration(value) if isinstance(value, str | int | float) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
MAX_HOOK_TIMEOUT = timedelta(minutes=5)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _step(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class Step(_Strict):
    """One line of the checklist; `hook` names something Jamie can run for it."""

    text: str = Field(min_length=1, max_length=300)
    hook: str | None = None


StepItem = Annotated[Step, BeforeValidator(_step)]


def _matcher_set(value: str) -> str:
    parse_matchers(value)
    return value


MatcherSet = Annotated[str, BeforeValidator(_matcher_set)]


class Threshold(_Strict):
    """`metric` compared with `above` or `below`, or a PromQL `expr` that is the test."""

    metric: str | None = None
    expr: str | None = None
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Threshold:
        bounds = (self.above is not None) + (self.below is not None)
        if self.expr is not None and (self.metric is not None or bounds):
            raise ValueError("give either expr alone, or metric with above or below")
        if self.expr is None and (self.metric is None or bounds != 1):
            raise ValueError("give a metric and exactly one of above or below (or an expr)")
        return self

    def promql(self) -> str:
        if self.expr is not None:
            return self.expr.strip()
        if self.above is not None:
            return f"{self.metric} > {_number(self.above)}"
        return f"{self.metric} < {_number(self.below or 0.0)}"


def _number(value: float) -> str:
    return f"{value:g}"


class Condition(_Strict):
    """Any of the thresholds, held for `for`: Prometheus evaluates it, not Jamie."""

    any: list[Threshold] = Field(min_length=1)
    for_: Duration = Field(default=timedelta(0), alias="for")

    def promql(self) -> str:
        parts = [t.promql() for t in self.any]
        return parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)


class HttpCall(_Strict):
    method: Literal["GET", "POST", "PUT"] = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: dict[str, Any] | None = Field(default=None, alias="json")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class Hook(_Strict):
    """A configured action: a local command (no shell) or an HTTP call. Values may say
    `${NAME}` to take a secret from Jamie's environment; it is never shown or recorded."""

    description: str = ""
    command: list[str] | None = Field(default=None, min_length=1)
    http: HttpCall | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=20)

    @model_validator(mode="after")
    def _one_kind(self) -> Hook:
        if (self.command is None) == (self.http is None):
            raise ValueError("a hook has either command or http")
        if not timedelta(0) < self.timeout <= MAX_HOOK_TIMEOUT:
            raise ValueError("timeout must be between 1s and 5m")
        return self
