"""The words Jamie posts about incidents: status updates, summaries, timelines, lists."""

from __future__ import annotations

from datetime import datetime

from bot.domain.enums import Stage
from bot.domain.incident import Incident, TimelineEntry
from bot.domain.sla import Clock, ClockState, clocks
from bot.i18n import Catalog
from bot.plan import Plan
from bot.render.timefmt import TimeFormat, duration

_STATE_ICON = {
    ClockState.RUNNING: "⏳",
    ClockState.WARNING: "⚠️",
    ClockState.BREACHED: "🔴",
    ClockState.MET: "✅",
    ClockState.MISSED: "❌",
}
_SEVERITY_ICON = {"P0": "🔴", "P1": "🟠", "P2": "🟡", "P3": "🟢"}


class Renderer:
    def __init__(self, plan: Plan, timeformat: TimeFormat) -> None:
        self.plan = plan
        self.time = timeformat

    def severity_label(self, incident: Incident, language: str) -> str:
        policy = self.plan.policy(incident.severity)
        return policy.label.get(language) or policy.label.get("en") or incident.severity.value

    def clocks(self, incident: Incident, now: datetime) -> list[Clock]:
        targets = self.plan.policy(incident.severity).targets
        return clocks(incident, {s: targets.for_stage(s) for s in Stage}, now)

    def departments(self, incident: Incident, language: str) -> str:
        names = []
        for key in incident.departments:
            dept = self.plan.departments.get(key)
            names.append(dept.name.get(language, key) if dept else key)
        return ", ".join(names)

    def headline(self, incident: Incident, language: str) -> str:
        icon = _SEVERITY_ICON.get(incident.severity.value, "")
        label = self.severity_label(incident, language)
        return f"{icon} {incident.ref} · {label} — {incident.title}"

    def clock_line(self, clock: Clock, now: datetime, language: str) -> str:
        t = Catalog(language)
        stage = t(f"stage.{clock.stage.value}")
        icon = _STATE_ICON[clock.state]
        left = clock.remaining(now)
        if clock.state is ClockState.MET:
            took = duration(clock.done_at - clock.started_at) if clock.done_at else "?"
            detail = t("clock.met", took=took, target=duration(clock.target))
        elif clock.state is ClockState.MISSED:
            detail = t("clock.missed", late=duration(left), target=duration(clock.target))
        elif clock.state is ClockState.BREACHED:
            detail = t("clock.breached", late=duration(left), target=duration(clock.target))
        else:
            detail = t(
                "clock.left", left=duration(left), target=duration(clock.target),
                deadline=self.time.short(clock.deadline, now, language),
            )  # fmt: skip
        return f"{icon} {stage}: {detail}"

    def _facts(self, incident: Incident, now: datetime, language: str) -> list[str]:
        t = Catalog(language)
        lines = [
            t(
                "status.state_line",
                state=t(f"state.{incident.status.value}"),
                elapsed=duration(now - incident.declared_at),
                declared=self.time.short(incident.declared_at, now, language),
            )
        ]
        people = t("status.commander", name=incident.commander or t("status.nobody"))
        if incident.departments:
            people += " · " + t("status.departments", names=self.departments(incident, language))
        if incident.patient_impact:
            people += " · " + t("status.patient_impact")
        lines.append(people)
        lines.append(t("status.sla_header"))
        lines.extend("  " + self.clock_line(c, now, language) for c in self.clocks(incident, now))
        return lines

    def status_update(self, incident: Incident, now: datetime, language: str) -> str:
        """The scheduled update: everything a stakeholder needs, nothing to click."""
        t = Catalog(language)
        lines = [t("status.update_title", headline=self.headline(incident, language))]
        lines.extend(self._facts(incident, now, language))
        lines.append(self._last_update(incident, now, language))
        if incident.next_status_at is not None:
            lines.append(
                t("status.next_update", at=self.time.short(incident.next_status_at, now, language))
            )
        lines.append(t("status.zone", zone=self.time.zone_name))
        return "\n".join(lines)

    def _last_update(self, incident: Incident, now: datetime, language: str) -> str:
        t = Catalog(language)
        if incident.last_update and incident.last_update_at:
            return t(
                "status.last_update",
                at=self.time.short(incident.last_update_at, now, language),
                text=incident.last_update,
            )
        return t("status.no_update")

    def summary(self, incident: Incident, now: datetime, language: str) -> str:
        """The answer to `status INC-…`: the update's facts plus the resolution, if any."""
        t = Catalog(language)
        lines = [self.headline(incident, language), *self._facts(incident, now, language)]
        lines.append(self._last_update(incident, now, language))
        if incident.root_cause:
            lines.append(t("status.root_cause", text=incident.root_cause))
        if incident.reopen_count:
            lines.append(t("status.reopened_times", count=incident.reopen_count))
        return "\n".join(lines)

    def list_line(self, incident: Incident, now: datetime, language: str) -> str:
        t = Catalog(language)
        icon = _SEVERITY_ICON.get(incident.severity.value, "")
        return t(
            "list.line",
            icon=icon,
            ref=incident.ref,
            severity=incident.severity.value,
            state=t(f"state.{incident.status.value}"),
            title=incident.title,
            age=duration(now - incident.declared_at),
        )

    def timeline_entry(self, entry: TimelineEntry, now: datetime, language: str) -> str:
        t = Catalog(language)
        what = t(f"timeline.{entry.kind.value}", **_entry_params(entry)).rstrip(" :")
        when = self.time.stamp(entry.at, language)
        return f"{when} · {what} — {entry.actor} ({entry.transport.value})"

    def timeline(self, incident: Incident, now: datetime, language: str) -> str:
        t = Catalog(language)
        lines = [t("timeline.header", ref=incident.ref, zone=self.time.zone_name)]
        lines.extend("  " + self.timeline_entry(e, now, language) for e in incident.timeline)
        return "\n".join(lines)

    def event(self, incident: Incident, entry: TimelineEntry, now: datetime, language: str) -> str:
        """A change announced in the incident's other conversations."""
        what = Catalog(language)(f"timeline.{entry.kind.value}", **_entry_params(entry))
        what = what.rstrip(" :")
        return f"{incident.ref} · {what} — {entry.actor}"


def _entry_params(entry: TimelineEntry) -> dict[str, str]:
    params = {key: str(value) for key, value in entry.data.items()}
    params.setdefault("text", entry.text or "")
    params.setdefault("severity", "")
    params.setdefault("previous", "")
    return params
