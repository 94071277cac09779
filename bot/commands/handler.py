"""Runs a parsed command for a person in a conversation and returns the reply to show.

Every transport calls `handle_text`; nothing here knows which one. Refusals and bad input
come back as replies (ok=False) in the user's language; an unexpected error is logged
once with a short reference that the reply also shows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.commands.advice import AdviceDesk
from bot.commands.directory import Directory
from bot.commands.parser import Command, ParseError, parse
from bot.commands.policy import REQUIRED_ROLE, allowed
from bot.commands.ports import Answer, Assistant, AssistantUnavailable
from bot.commands.words import CommandName, primary_word
from bot.domain.enums import Stage, Transport
from bot.domain.errors import (
    AmbiguousIncident,
    DomainError,
    IllegalTransition,
    SeverityUnchanged,
)
from bot.domain.incident import Incident, format_ref
from bot.domain.people import Actor, ConversationRef
from bot.i18n import Catalog, normalise_language
from bot.i18n.detect import guess_language
from bot.plan import Plan
from bot.plan.durations import format_duration
from bot.playbooks import text as playbook_text
from bot.playbooks.desk import PlaybookDesk, PlaybooksUnavailable
from bot.regulatory.words import parse_flag, parse_regulator
from bot.render.text import Renderer
from bot.scheduling.oncall import OnCall, OnCallUnavailable
from bot.service.incidents import IncidentService

log = logging.getLogger(__name__)

EXCERPT_CHARS = 420


@dataclass(frozen=True, slots=True)
class Context:
    """Who typed, where, and the language the conversation or person prefers."""

    transport: Transport
    user_id: str
    display_name: str
    conversation: ConversationRef | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    language: str
    ok: bool = True
    command: CommandName | None = None
    incident: Incident | None = None


class CommandHandler:
    def __init__(
        self,
        service: IncidentService,
        plan: Plan,
        renderer: Renderer,
        directory: Directory,
        *,
        clock: Callable[[], datetime],
        assistant: Assistant | None = None,
        playbooks: PlaybookDesk | None = None,
        oncall: OnCall | None = None,
        advice: AdviceDesk | None = None,
    ) -> None:
        self.service = service
        self.advice = advice
        self.playbooks = playbooks
        self.oncall = oncall
        self.plan = plan
        self.renderer = renderer
        self.directory = directory
        self.assistant = assistant
        self._now = clock
        self._routes: dict[CommandName, Callable[[Command, Actor, Context, str], Awaitable[Reply]]]
        self._routes = {
            CommandName.OPEN: self._open,
            CommandName.ACK: self._ack,
            CommandName.ESCALATE: self._severity,
            CommandName.DOWNGRADE: self._severity,
            CommandName.UPDATE: self._update,
            CommandName.MITIGATE: self._mitigate,
            CommandName.RESOLVE: self._resolve,
            CommandName.REOPEN: self._reopen,
            CommandName.ASSIGN: self._assign,
            CommandName.STATUS: self._status,
            CommandName.TIMELINE: self._timeline,
            CommandName.LIST: self._list,
            CommandName.ASK: self._ask,
            CommandName.RCA: self._rca,
            CommandName.CHECKLIST: self._checklist,
            CommandName.TICK: self._tick,
            CommandName.RUN: self._run,
            CommandName.CONFIRM: self._confirm,
            CommandName.FLAG: self._flag,
            CommandName.NOTIFIED: self._notified,
            CommandName.WORKAROUND: self._workaround,
            CommandName.HELP: self._help,
        }

    def language_for(self, command_language: str | None, ctx: Context, actor: Actor) -> str:
        chosen = command_language or ctx.language or actor.language or self.plan.default_language
        return normalise_language(chosen, self.plan.default_language)

    async def handle_text(self, text: str, ctx: Context) -> Reply:
        try:
            command = parse(text)
        except ParseError as exc:
            actor = self.directory.actor(ctx.transport, ctx.user_id, ctx.display_name)
            return self._usage(exc, self.language_for(exc.language, ctx, actor))
        return await self.handle(command, ctx)

    async def handle(self, command: Command, ctx: Context) -> Reply:
        actor = self.directory.actor(ctx.transport, ctx.user_id, ctx.display_name)
        language = self.language_for(command.language, ctx, actor)
        t = Catalog(language)
        if not allowed(actor.role, command.name):
            log.info("refused %s for %s:%s", command.name, ctx.transport, ctx.user_id)
            needed = t(f"role.{REQUIRED_ROLE[command.name].value}")
            word = primary_word(command.name, language)
            text = t("error.not_authorised", name=actor.name, command=word, needed=needed)
            return Reply(text, language, ok=False, command=command.name)
        try:
            reply = await self._routes[command.name](command, actor, ctx, language)
            if self.advice is not None and reply.ok and reply.incident is not None:
                # Background follow-ups (root-cause suggestion, translations): never awaited.
                self.advice.after(
                    command.name, reply.incident.number, command.text, ctx.conversation
                )
            return reply
        except DomainError as exc:
            return Reply(self._domain_error(exc, command, language), language, False, command.name)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("command %s failed (reference %s)", command.name, reference)
            return Reply(t("error.unexpected", reference=reference), language, False, command.name)

    # -- replies for refusals --------------------------------------------------------------

    def _usage(self, exc: ParseError, language: str) -> Reply:
        t = Catalog(language)
        params = dict(exc.params)
        if "field" in params and t.has(f"field.{params['field']}"):
            params["field"] = t(f"field.{params['field']}")
        lines = [t(exc.key, **params)]
        if exc.command is not None:
            lines.append(f"{t('help.usage_prefix')} {t(f'help.{exc.command.value}')}")
        return Reply("\n".join(lines), language, ok=False, command=exc.command)

    def _domain_error(self, exc: DomainError, command: Command, language: str) -> str:
        t = Catalog(language)
        params = {key: str(value) for key, value in exc.params.items()}
        params.setdefault("ref", format_ref(command.ref) if command.ref else "")
        if isinstance(exc, IllegalTransition):
            params["action"] = t(f"action.{exc.params['action']}")
            params["status"] = t(f"state.{exc.params['status']}")
        if isinstance(exc, SeverityUnchanged) and exc.params.get("limit"):
            return t("error.severity_limit", **params)
        if isinstance(exc, SeverityUnchanged) and exc.params.get("wrong_direction"):
            other = (
                CommandName.DOWNGRADE
                if command.name is CommandName.ESCALATE
                else CommandName.ESCALATE
            )
            return t(
                "error.severity_direction", ref=params["ref"], severity=params["severity"],
                wanted=params["wanted"], other=primary_word(other, language),
            )  # fmt: skip
        if isinstance(exc, AmbiguousIncident):
            candidates = params.get("candidates", "")
            if not candidates:
                return t("error.no_incident_here")
            return t(
                "error.ambiguous_incident",
                candidates=candidates,
                example=f"{primary_word(command.name, language)} {candidates.split(',')[0]}",
            )
        return t(exc.key, **params)

    # -- commands ----------------------------------------------------------------------------

    async def _open(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        departments: list[str] = []
        for given in cmd.departments:
            key = self.plan.department_key(given)
            if key is None:
                known = ", ".join(self.plan.departments)
                text = t("error.unknown_department", given=given[:40], known=known)
                return Reply(text, language, ok=False, command=cmd.name)
            departments.append(key)
        assert cmd.severity is not None
        incident = await self.service.open(
            actor,
            severity=cmd.severity,
            title=cmd.text,
            departments=tuple(dict.fromkeys(departments)),
            patient_impact=bool(cmd.patient_impact),
            conversation=ctx.conversation,
        )
        return Reply(
            self._opened_text(incident, language), language, command=cmd.name, incident=incident
        )

    def _opened_text(self, incident: Incident, language: str) -> str:
        t = Catalog(language)
        now = self._now()
        deadlines = {
            c.stage: self.renderer.time.short(c.deadline, now, language)
            for c in self.renderer.clocks(incident, now)
        }
        every = format_duration(self.service.status_interval(incident.severity))
        params = {
            "ref": incident.ref,
            "label": self.renderer.severity_label(incident, language),
            "title": incident.title,
            "response": deadlines.get(Stage.RESPONSE, "-"),
            "resolution": deadlines.get(Stage.RESOLUTION, "-"),
            "every": every,
        }
        if Stage.MITIGATION in deadlines:
            text = t("reply.opened", mitigation=deadlines[Stage.MITIGATION], **params)
        else:
            text = t("reply.opened_no_mitigation", **params)
        first = [s for s in self.plan.policy(incident.severity).escalation if not s.after]
        people = [
            self.plan.contacts[key].name for step in first for key in self.plan.expand(step.notify)
        ]
        if people:
            text += "\n" + t("reply.notify_plan", people=", ".join(dict.fromkeys(people)))
        return text

    async def _ack(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        try:
            incident = await self.service.acknowledge(actor, number, ctx.conversation)
        except IllegalTransition:
            # Already acknowledged: `ack` still stops the pages sent to this person.
            stopped = await self._stop_pages(actor, number, language)
            if stopped is None:
                raise
            return Reply(stopped, language, command=cmd.name)
        target = self.plan.policy(incident.severity).targets.response
        took = (incident.acknowledged_at or self._now()) - incident.detected_at
        text = Catalog(language)(
            "reply.acknowledged", ref=incident.ref, actor=actor.name,
            took=format_duration(took), target=format_duration(target),
        )  # fmt: skip
        stopped = await self._stop_pages(actor, number, language)
        text += f"\n{stopped}" if stopped else ""
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _severity(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        raise_it = cmd.name is CommandName.ESCALATE
        before = await self.service.get(number)
        incident = await self.service.change_severity(
            actor,
            number,
            ctx.conversation,
            target=cmd.severity,
            raise_it=raise_it,
            reason=cmd.text,
        )
        key = "reply.escalated" if raise_it else "reply.downgraded"
        text = Catalog(language)(
            key, ref=incident.ref, previous=before.severity.value, severity=incident.severity.value
        )
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _update(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident = await self.service.add_update(actor, number, ctx.conversation, cmd.text)
        text = Catalog(language)("reply.updated", ref=incident.ref)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _mitigate(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident = await self.service.mitigate(actor, number, ctx.conversation, cmd.text)
        text = Catalog(language)("reply.mitigated", ref=incident.ref)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _resolve(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident = await self.service.resolve(actor, number, ctx.conversation, cmd.text)
        took = (incident.resolved_at or self._now()) - incident.declared_at
        text = Catalog(language)(
            "reply.resolved", ref=incident.ref, duration=format_duration(took), root_cause=cmd.text
        )
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _reopen(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident = await self.service.reopen(actor, number, ctx.conversation, cmd.text)
        text = Catalog(language)("reply.reopened", ref=incident.ref)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _assign(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        person = cmd.text.lstrip("@")
        incident = await self.service.assign(actor, number, ctx.conversation, person)
        text = Catalog(language)("reply.assigned", ref=incident.ref, person=person)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _status(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        if cmd.ref is None:
            try:
                number = await self.service.resolve_ref(None, ctx.conversation)
            except AmbiguousIncident:
                return await self._list(cmd, actor, ctx, language)
        else:
            number = cmd.ref
        incident = await self.service.get(number)
        text = self.renderer.summary(incident, self._now(), language)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _timeline(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident = await self.service.get(number, with_timeline=True)
        text = self.renderer.timeline(incident, self._now(), language)
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _list(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        incidents = await self.service.list(active_only=not cmd.show_all)
        if not incidents:
            return Reply(t("list.empty_all" if cmd.show_all else "list.empty"), language)
        now = self._now()
        header = t("list.header_all" if cmd.show_all else "list.header", count=len(incidents))
        lines = [header, *("  " + self.renderer.list_line(i, now, language) for i in incidents)]
        return Reply("\n".join(lines), language, command=CommandName.LIST)

    async def _ask(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        if self.assistant is None:
            return Reply(t("ask.not_ready"), language, ok=False, command=cmd.name)
        language = guess_language(cmd.text) or language
        t = Catalog(language)
        try:
            thread = await self._thread(ctx) if self.advice is not None else None
            if self.advice is not None and thread is not None:
                answer = await self.advice.advisor.ask_in_thread(
                    cmd.text, language=language, thread=thread
                )
            else:
                answer = await self.assistant.ask(cmd.text, language=language)
        except AssistantUnavailable as exc:
            key = "ask.not_ready" if exc.reason_key == "not_ready" else "ask.unavailable"
            text = t(key, reason=exc.detail or exc.reason_key)
            return Reply(text, language, ok=False, command=cmd.name)
        return Reply(self._answer_text(answer, language), language, command=cmd.name)

    async def _thread(self, ctx: Context) -> str | None:
        """Follow-up memory is kept per conversation and its one active incident."""
        if ctx.conversation is None:
            return None
        try:
            number: int | None = await self.service.resolve_ref(None, ctx.conversation)
        except AmbiguousIncident:
            number = None
        where = f"{ctx.conversation.transport.value}:{ctx.conversation.address}"
        return f"{where}:{format_ref(number) if number else '-'}"

    async def _rca(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        if self.advice is None:
            text = Catalog(language)("ai.unavailable", reason="no assistant")
            return Reply(text, language, ok=False, command=cmd.name)
        text = await self.advice.suggestion_text(number, language)
        return Reply(text, language, command=cmd.name)

    def _answer_text(self, answer: Answer, language: str) -> str:
        t = Catalog(language)
        if not answer.passages:
            return t("ask.no_results")
        lines = []
        if answer.synthesis:
            lines += [answer.synthesis, ""]
        lines.append(t("ask.header", count=len(answer.passages)))
        for n, passage in enumerate(answer.passages, start=1):
            excerpt = " ".join(passage.excerpt.split())
            if len(excerpt) > EXCERPT_CHARS:
                excerpt = excerpt[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"
            lines.append(t("ask.passage", n=n, citation=passage.citation, excerpt=excerpt))
        if any(p.language[:2] != language[:2] for p in answer.passages):
            lines.append(t("ask.language_note"))
        if answer.note:
            lines.append(t("ai.note", note=answer.note))
        if answer.served_by:
            lines.append(t("ai.served_by", backend=answer.served_by))
        return "\n".join(lines)

    # -- playbook checklists (bot/playbooks) -----------------------------------------------

    def _desk(self) -> PlaybookDesk:
        if self.playbooks is None:
            raise PlaybooksUnavailable()
        return self.playbooks

    async def _checklist(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        incident, items = await self._desk().checklist(number)
        text = playbook_text.checklist(
            incident.ref, items, self.plan, self.renderer.time, self._now(), language
        )
        return Reply(text, language, command=cmd.name, incident=incident)

    async def _tick(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        assert cmd.step is not None
        item = await self._desk().tick(actor, number, cmd.step, ctx.conversation, cmd.text)
        text = playbook_text.ticked(format_ref(number), item, language)
        return Reply(text, language, command=cmd.name)

    async def _run(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        assert cmd.step is not None
        preview = await self._desk().request_run(actor, number, cmd.step, ctx.conversation)
        text = playbook_text.preview(format_ref(number), preview, language)
        return Reply(text, language, command=cmd.name)

    async def _confirm(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        assert cmd.step is not None
        run = await self._desk().confirm(actor, number, cmd.step, ctx.conversation)
        text = playbook_text.ran(format_ref(number), run, actor.name, language)
        return Reply(text, language, ok=run.result.ok, command=cmd.name)

    # -- pages and regulatory deadlines (bot/scheduling, bot/regulatory) ---------------------

    def _oncall(self) -> OnCall:
        if self.oncall is None:
            raise OnCallUnavailable()
        return self.oncall

    async def _stop_pages(self, actor: Actor, number: int, language: str) -> str | None:
        if self.oncall is None:
            return None
        acked = await self.oncall.pages.acknowledge_for(actor, number)
        if acked is None:
            return None
        return Catalog(language)(
            "notify.acked_reply", ref=acked.incident_ref, name=acked.name, count=acked.count
        )

    async def _flag(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        flag = parse_flag(cmd.text)
        if flag is None:
            known = "patient-safety, personal-data-breach, medical-practice-failure"
            return Reply(t("regulatory.unknown_flag", given=cmd.text[:40], known=known),
                         language, ok=False, command=cmd.name)  # fmt: skip
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        done = await self._oncall().regulatory.flag(actor, number, flag, ctx.conversation)
        name = t(f"regulatory.flag_{flag.value}")
        if not done.new:
            return Reply(t("regulatory.already_flagged", ref=done.ref, flag=name), language,
                         command=cmd.name)  # fmt: skip
        now = self._now()
        items = ", ".join(
            t("regulatory.deadline_item", authority=d.authority,
              deadline=self.renderer.time.short(d.due_at, now, language))
            for d in done.deadlines
        )  # fmt: skip
        key = "regulatory.flagged" if items else "regulatory.flagged_none"
        return Reply(t(key, ref=done.ref, flag=name, deadlines=items), language,
                     command=cmd.name)  # fmt: skip

    async def _notified(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        regulator = parse_regulator(cmd.text, self.plan)
        if regulator is None:
            known = ", ".join(self.plan.regulatory) or "-"
            return Reply(t("regulatory.unknown_regulator", given=cmd.text[:40], known=known),
                         language, ok=False, command=cmd.name)  # fmt: skip
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        done = await self._oncall().regulatory.mark_notified(
            actor, number, regulator, ctx.conversation
        )
        key = "regulatory.notified" if done.new else "regulatory.already_notified"
        text = t(key, ref=done.ref, authority=done.authority, actor=actor.name)
        return Reply(text, language, command=cmd.name)

    async def _workaround(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        number = await self.service.resolve_ref(cmd.ref, ctx.conversation)
        ref = await self._oncall().regulatory.record_workaround(actor, number, cmd.text)
        return Reply(Catalog(language)("notify.workaround_recorded", ref=ref), language,
                     command=cmd.name)  # fmt: skip

    async def _help(self, cmd: Command, actor: Actor, ctx: Context, language: str) -> Reply:
        t = Catalog(language)
        if cmd.topic is not None:
            return Reply(f"{t('help.usage_prefix')} {t(f'help.{cmd.topic.value}')}", language)
        lines = [t("help.intro"), *(f"  {t(f'help.{name.value}')}" for name in CommandName)]
        lines.append(t("help.footer"))
        return Reply("\n".join(lines), language, command=CommandName.HELP)
