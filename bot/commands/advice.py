"""Jamie's advice on incidents, bot side: the brief the advisor reads, the `rca` reply, and
the posts that follow a command in the background.

After `open` and `escalate` a root-cause suggestion is worked out in a background task and
posted to the incident's conversations through the outbox; after `update` the text is
translated for conversations in the other language. Neither ever delays the command's
reply, and a failure is logged once and costs nothing else. Shutting down cancels what is
still running.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts.notes import post
from bot.commands.ports import Advisor, AssistantUnavailable, IncidentBrief, Suggestion
from bot.commands.words import CommandName
from bot.domain.incident import Incident, format_ref
from bot.domain.people import ConversationRef
from bot.i18n import Catalog, normalise_language
from bot.i18n.detect import guess_language
from bot.notify.outbox import enqueue
from bot.plan import Plan
from bot.playbooks.checklists import triggered
from bot.storage.alert_models import AlertRow, ChecklistItemRow
from bot.storage.models import BindingRow, ConversationRow

log = logging.getLogger(__name__)

TIMELINE_TEXT = 200
RCA_KIND = "ai.rca"
TRANSLATION_KIND = "ai.translation"


def render_suggestion(suggestion: Suggestion, language: str) -> str:
    t = Catalog(language)
    ref = suggestion.ref
    if not suggestion.known:
        return t("ai.dont_know", ref=ref)
    lines = [t("ai.suggestion_header", ref=ref)]
    book = suggestion.playbook
    if book is not None:
        confirmed = any(h.confirmed_by_alerts for h in suggestion.hypotheses)
        key = "ai.playbook_confirmed" if confirmed else "ai.playbook"
        lines.append(t(key, name=book.key, trigger=book.trigger, severity=book.severity))
    lines.append(t("ai.hypotheses"))
    for n, hypothesis in enumerate(suggestion.hypotheses, start=1):
        lines.append(t("ai.hypothesis", n=n, cause=hypothesis.cause))
        lines.append(t("ai.next_step", step=hypothesis.next_step))
        if hypothesis.reason:
            lines.append(t("ai.reason", reason=hypothesis.reason))
        citations = ", ".join(f"[{c}]" for c in hypothesis.citations)
        lines.append(t("ai.sources", citations=citations))
    if suggestion.removed:
        lines.append(t("ai.removed", count=suggestion.removed))
    if suggestion.note:
        lines.append(t("ai.note", note=suggestion.note))
    if suggestion.served_by:
        lines.append(t("ai.served_by", backend=suggestion.served_by))
    else:
        lines.append(t("ai.structure_only"))
    return "\n".join(lines)


class AdviceDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        advisor: Advisor,
        *,
        clock: Callable[[], datetime],
        get_incident: Callable[[int], Coroutine[Any, Any, Incident]],
        on_outbox: Callable[[], None] | None = None,
        max_pending: int = 4,
    ) -> None:
        self.advisor = advisor
        self._max_pending = max_pending
        self._sessions = sessions
        self._plan = plan
        self._now = clock
        self._get = get_incident
        self._on_outbox = on_outbox or (lambda: None)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- reading -------------------------------------------------------------------------

    async def brief(self, number: int) -> IncidentBrief:
        incident = await self._get(number)
        async with self._sessions() as session:
            labels = (
                await session.scalars(
                    select(AlertRow.labels).where(AlertRow.incident_id == number)
                )
            ).all()
            attached = (
                await session.scalars(
                    select(ChecklistItemRow.playbook)
                    .where(ChecklistItemRow.incident_id == number)
                    .distinct()
                )
            ).all()
        label_sets = [{str(k): str(v) for k, v in (found or {}).items()} for found in labels]
        playbooks = dict.fromkeys(attached)
        for found in label_sets:
            playbooks.update(dict.fromkeys(triggered(self._plan, found)))
        timeline = tuple(
            f"{e.at:%H:%M} {e.kind.value}: {(e.text or '')[:TIMELINE_TEXT]}".rstrip(": ")
            for e in incident.timeline
        )
        return IncidentBrief(
            ref=incident.ref,
            title=incident.title,
            severity=incident.severity.value,
            status=incident.status.value,
            departments=incident.departments,
            patient_impact=incident.patient_impact,
            timeline=timeline,
            alert_labels=tuple(label_sets),
            playbooks=tuple(playbooks),
        )

    async def suggestion_text(self, number: int, language: str) -> str:
        """The `rca` command's reply."""
        try:
            suggestion = await self.advisor.suggest(await self.brief(number), language=language)
        except AssistantUnavailable as exc:
            return Catalog(language)("ai.unavailable", reason=exc.detail or exc.reason_key)
        return render_suggestion(suggestion, language)

    # -- in the background ---------------------------------------------------------------

    def after(
        self, command: CommandName, number: int, text: str, origin: ConversationRef | None
    ) -> None:
        """Called after a command succeeded; starts what follows it, without waiting."""
        if command is CommandName.OPEN:
            self._spawn(self._post_rca(number, f"rca:{number}:open"), f"rca-{number}")
        elif command is CommandName.ESCALATE:
            stamp = self._now().strftime("%Y%m%d%H%M%S")
            self._spawn(self._post_rca(number, f"rca:{number}:{stamp}"), f"rca-{number}")
        elif command is CommandName.UPDATE and text.strip():
            self._spawn(self._post_translations(number, text), f"translate-{number}")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        if len(self._tasks) >= self._max_pending:
            # An alert storm must not queue model work without bound: the `rca` command
            # still answers on demand.
            log.warning("background %s skipped: %d already pending", name, len(self._tasks))
            work.close()
            return
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_rca(self, number: int, key: str) -> None:
        try:
            brief = await self.brief(number)
            suggestion = await self.advisor.suggest(brief, language=self._plan.default_language)
            async with self._sessions.begin() as session:
                queued = await post(
                    session, number, key=key, kind=RCA_KIND,
                    render=lambda language: render_suggestion(suggestion, language),
                    now=self._now(), default_language=self._plan.default_language,
                )  # fmt: skip
        except AssistantUnavailable as exc:
            log.info("no root-cause suggestion for %s: %s", format_ref(number), exc.reason_key)
            return
        except Exception:
            log.exception("root-cause suggestion for %s failed", format_ref(number))
            return
        log.info(
            "root-cause suggestion for %s posted (%s)", format_ref(number), suggestion.served_by
        )
        if queued:
            self._on_outbox()

    async def _post_translations(self, number: int, text: str) -> None:
        """The update, translated for each conversation in the other language (the original
        already went to every conversation with the update itself)."""
        source = guess_language(text)
        if source is None:
            return
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
        queued = False
        try:
            for language, conversations in (await self._conversations(number)).items():
                if language == source:
                    continue
                translation = await self.advisor.translate(
                    text, target_language=language, source_language=source
                )
                if not translation.translated:
                    continue
                t = Catalog(language)
                message = t(
                    "ai.translated", ref=format_ref(number), text=translation.text,
                    language=t(f"ai.language.{language}"), backend=translation.served_by or "-",
                )  # fmt: skip
                async with self._sessions.begin() as session:
                    for conversation_id in conversations:
                        queued |= await enqueue(
                            session, dedupe_key=f"translation:{number}:{digest}:{conversation_id}",
                            conversation_id=conversation_id, incident_id=number,
                            kind=TRANSLATION_KIND, text=message, now=self._now(),
                        )  # fmt: skip
        except Exception:
            log.exception("translation of an update on %s failed", format_ref(number))
        if queued:
            self._on_outbox()

    async def _conversations(self, number: int) -> dict[str, list[int]]:
        """The incident's conversations by language."""
        query = (
            select(ConversationRow.id, ConversationRow.language)
            .join(BindingRow, BindingRow.conversation_id == ConversationRow.id)
            .where(BindingRow.incident_id == number)
            .order_by(ConversationRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        grouped: dict[str, list[int]] = {}
        for conversation_id, language in rows:
            key = normalise_language(language, self._plan.default_language)
            grouped.setdefault(key, []).append(conversation_id)
        return grouped

    async def wait(self) -> None:
        """Let what is running finish (tests, bench)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._tasks.clear()
