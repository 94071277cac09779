"""The words of warnings, breaches, pages, stakeholder updates, resolution notices and
regulatory reminders, in the language asked for. Short enough for an SMS where they go
to a phone; the catalog keys live under `sla:`, `notify:` and `regulatory:`."""

from __future__ import annotations

from datetime import datetime

from bot.domain.incident import Incident
from bot.domain.sla import Clock
from bot.i18n import Catalog
from bot.plan.model import Channel, Plan
from bot.render.text import Renderer
from bot.render.timefmt import duration


class NoticeWriter:
    def __init__(self, plan: Plan, renderer: Renderer) -> None:
        self._plan = plan
        self._renderer = renderer
        self.time = renderer.time

    def _stage(self, clock: Clock, language: str) -> str:
        return Catalog(language)(f"stage.{clock.stage.value}")

    def people(self, contacts: list[str] | tuple[str, ...]) -> str:
        return ", ".join(self._plan.contacts[c].name for c in contacts) or "-"

    def reach(self, queued: dict[str, list[Channel]], language: str) -> str:
        """`Hospital CTO (sms, paging), IT Manager (sms)`"""
        return ", ".join(
            f"{self._plan.contacts[c].name} ({', '.join(ch.value for ch in chans)})"
            for c, chans in queued.items()
        )

    # -- to the incident's conversations and timeline ---------------------------------------

    def warning(self, incident: Incident, clock: Clock, now: datetime, language: str) -> str:
        return Catalog(language)(
            "sla.warning",
            ref=incident.ref,
            stage=self._stage(clock, language),
            left=duration(clock.deadline - now),
            target=duration(clock.target),
            deadline=self.time.short(clock.deadline, now, language),
        )

    def breach(
        self, incident: Incident, clock: Clock, tier: int, now: datetime, language: str
    ) -> str:
        t = Catalog(language)
        if tier == 0:
            return t(
                "sla.breach",
                ref=incident.ref,
                stage=self._stage(clock, language),
                target=duration(clock.target),
                deadline=self.time.short(clock.deadline, now, language),
            )
        return t(
            "sla.tier",
            ref=incident.ref,
            stage=self._stage(clock, language),
            late=duration(now - clock.deadline),
            tier=tier + 1,
        )

    def paged(
        self, queued: dict[str, list[Channel]], unreachable: list[str], language: str
    ) -> str:
        t = Catalog(language)
        lines = []
        if queued:
            lines.append(t("sla.paged", people=self.reach(queued, language)))
        if unreachable:
            lines.append(t("sla.unreachable", people=self.people(unreachable)))
        return "\n".join(lines)

    def escalation(self, incident: Incident, language: str) -> str:
        return Catalog(language)(
            "sla.escalation", ref=incident.ref, severity=incident.severity.value
        )

    # -- to people ---------------------------------------------------------------------------

    def page(
        self,
        incident: Incident,
        clock: Clock | None,
        reason: str,
        ack_url: str,
        now: datetime,
        language: str,
    ) -> tuple[str, str]:
        t = Catalog(language)
        subject = t(
            "notify.subject_page",
            severity=incident.severity.value,
            ref=incident.ref,
            title=incident.title,
        )
        if reason == "breach" and clock is not None:
            text = t(
                "notify.page_breach",
                severity=incident.severity.value,
                ref=incident.ref,
                stage=self._stage(clock, language),
                target=duration(clock.target),
                title=incident.title,
                ack_url=ack_url,
            )
        else:
            text = t(
                "notify.page_declared",
                severity=incident.severity.value,
                ref=incident.ref,
                title=incident.title,
                ack_url=ack_url,
            )
        return subject, text

    @staticmethod
    def repeat(text: str, number: int, language: str) -> str:
        return Catalog(language)("notify.page_repeat", n=number, text=text)

    def stakeholder_update(
        self,
        incident: Incident,
        now: datetime,
        language: str,
        *,
        next_at: datetime | None,
        workaround: str | None,
        with_workaround: bool,
    ) -> tuple[str, str]:
        t = Catalog(language)
        subject = t(
            "notify.subject_update",
            severity=incident.severity.value,
            ref=incident.ref,
            title=incident.title,
        )
        lines = [
            t(
                "notify.update",
                ref=incident.ref,
                title=incident.title,
                label=self._renderer.severity_label(incident, language),
                state=t(f"state.{incident.status.value}"),
                elapsed=duration(now - incident.declared_at),
                update=incident.last_update or t("notify.no_update"),
            )
        ]
        if with_workaround:
            lines.append(
                t("notify.workaround", text=workaround)
                if workaround
                else t("notify.no_workaround")
            )
        if next_at is not None:
            lines.append(t("notify.next", at=self.time.short(next_at, now, language)))
        return subject, "\n".join(lines)

    def resolution(self, incident: Incident, language: str) -> tuple[str, str]:
        t = Catalog(language)
        resolved = incident.resolved_at or incident.declared_at
        subject = t("notify.subject_resolved", ref=incident.ref, title=incident.title)
        text = t(
            "notify.resolved",
            ref=incident.ref,
            title=incident.title,
            duration=duration(resolved - incident.declared_at),
            root_cause=incident.root_cause or "-",
        )
        return subject, text

    def sent(self, key: str, queued: dict[str, list[Channel]], language: str) -> str:
        return Catalog(language)(key, people=self.reach(queued, language))

    def reminder(
        self,
        incident: Incident,
        regulator: str,
        deadline: datetime,
        now: datetime,
        language: str,
    ) -> tuple[str, str]:
        t = Catalog(language)
        rule = self._plan.regulatory[regulator]
        when = self.time.short(deadline, now, language)
        params = {
            "ref": incident.ref,
            "authority": rule.authority,
            "regulator": regulator,
            "deadline": when,
        }
        subject = t("regulatory.subject", **params)
        if now >= deadline:
            return subject, t("regulatory.overdue", late=duration(now - deadline), **params)
        return subject, t("regulatory.reminder", left=duration(deadline - now), **params)

    def failed(
        self, ref: str, contact: str, channel: str, reason: str, attempts: int, language: str
    ) -> str:
        return Catalog(language)(
            "notify.failed",
            ref=ref,
            person=self._plan.contacts[contact].name
            if contact in self._plan.contacts
            else contact,
            channel=channel,
            reason=reason,
            attempts=attempts,
        )
