"""The Alertmanager webhook payload, version 4, and the one function that validates it.

Shape: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
Firing alerts carry `endsAt` as the zero time "0001-01-01T00:00:00Z" or a future estimate;
only resolved alerts have a meaningful one. The group's top-level `status` is "firing" as
long as any alert fires, so Jamie reads each alert's own status instead.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

MAX_BODY_BYTES = 4 * 1024 * 1024
_ZERO_TIME_YEAR = 1


class PayloadError(Exception):
    """The body is not a version-4 Alertmanager notification; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


def _labels(value: Any) -> Any:
    """Label and annotation values as Alertmanager sends them: strings. Numbers become text."""
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
    return value


Labels = Annotated[dict[str, str], BeforeValidator(_labels)]


class _Wire(BaseModel):
    # Alertmanager adds fields between releases; unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Alert(_Wire):
    status: AlertStatus
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a zone (RFC 3339)")
        return value.astimezone(UTC)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "?")

    @property
    def ended_at(self) -> datetime | None:
        """When a resolved alert ended; None for a firing one or the zero time."""
        if self.status is AlertStatus.FIRING or self.ends_at is None:
            return None
        return None if self.ends_at.year == _ZERO_TIME_YEAR else self.ends_at

    @property
    def key(self) -> str:
        """The fingerprint Alertmanager computed, or a stable one from the labels."""
        if self.fingerprint:
            return self.fingerprint[:64]
        canonical = json.dumps(sorted(self.labels.items()), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class Notification(_Wire):
    version: str
    group_key: str = Field(alias="groupKey", min_length=1)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: str = ""
    group_labels: Labels = Field(default_factory=dict, alias="groupLabels")
    common_labels: Labels = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Labels = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[Alert] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _version_4(cls, value: str) -> str:
        if value != "4":
            raise ValueError(f"version {value!r} is not supported; Jamie reads version 4")
        return value

    @property
    def group_id(self) -> str:
        """A short, stable id for the group (receiver and group key), safe to log."""
        raw = f"{self.receiver}\x00{self.group_key}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


def parse_notification(body: bytes) -> Notification:
    """The notification in `body`, or PayloadError with a reason fit for the sender."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        raw = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PayloadError(f"invalid JSON: {exc.msg} at {where}") from exc
    if not isinstance(raw, dict):
        raise PayloadError("the body must be a JSON object (an Alertmanager notification)")
    try:
        return Notification.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise PayloadError(f"{where}: {message}{more}") from exc
