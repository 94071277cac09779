"""Slack requests turned into domain calls: slash commands, card buttons, modal submissions
and mentions.

Every listener acknowledges first, inside Slack's 3-second window and before any database,
index or model work. Then it claims the request in the ledger (`store.RequestLedger`), so a
Slack retry or a double click does nothing the second time, runs the shared command
language through `CommandHandler` (which holds the role checks of `bot/commands/policy.py`)
and answers: through the request's `response_url`, an ephemeral message, or a thread reply.
A change made from a button or a modal is not tied to the channel it came from, so the
outbox announces it in every channel of the incident, including that one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler, Context, Reply
from bot.commands.parser import Command, ParseError, parse
from bot.commands.policy import REQUIRED_ROLE, allowed
from bot.commands.words import CommandName, lookup, primary_word
from bot.domain.enums import Transport
from bot.domain.incident import Incident
from bot.domain.people import ConversationRef
from bot.i18n import Catalog, normalise_language
from bot.plan import Plan
from bot.transports.slack import blocks, modals
from bot.transports.slack.cards import CardKeeper
from bot.transports.slack.channels import ChannelProvisioner, ChannelUnavailable
from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import SlackError
from bot.transports.slack.gate import WorkGate
from bot.transports.slack.people import People
from bot.transports.slack.store import ChannelStore, RequestLedger
from bot.transports.slack.text import clip, from_slack, mrkdwn

log = logging.getLogger(__name__)

Body = dict[str, Any]

REPLY_CHARS = 12000
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")
_CHANGES = frozenset(
    {CommandName.OPEN, CommandName.ACK, CommandName.ESCALATE, CommandName.DOWNGRADE,
     CommandName.UPDATE, CommandName.MITIGATE, CommandName.RESOLVE, CommandName.REOPEN,
     CommandName.ASSIGN}
)  # fmt: skip
_BUTTON_COMMANDS = {
    blocks.ACK: CommandName.ACK,
    blocks.ESCALATE: CommandName.ESCALATE,
    blocks.MITIGATE: CommandName.MITIGATE,
}


class Listeners:
    def __init__(
        self,
        *,
        handler: CommandHandler,
        directory: Directory,
        plan: Plan,
        client: SlackClient,
        people: People,
        ledger: RequestLedger,
        provisioner: ChannelProvisioner,
        cards: CardKeeper,
        channels: ChannelStore,
        digest_channel: str,
        gate: WorkGate | None = None,
    ) -> None:
        self._handler = handler
        self._directory = directory
        self._plan = plan
        self._client = client
        self._people = people
        self._ledger = ledger
        self._provisioner = provisioner
        self._cards = cards
        self._digest = digest_channel
        self._channels = channels
        self._gate = gate or WorkGate()

    def register(self, app: AsyncApp) -> None:
        app.command("/incident")(self.incident_command)
        app.command("/jamie")(self.jamie_command)
        for action in _BUTTON_COMMANDS:
            app.action(action)(self.state_button)
        app.action(blocks.UPDATE)(self.form_button)
        app.action(blocks.RESOLVE)(self.form_button)
        app.view(modals.DECLARE)(self.declaration_submitted)
        app.view(modals.UPDATE)(self.text_submitted)
        app.view(modals.RESOLVE)(self.text_submitted)
        app.event("app_mention")(self.mentioned)

    # -- slash commands ------------------------------------------------------------------

    async def incident_command(self, ack: AsyncAck, body: Body) -> None:
        """`/incident <any command>`; with no text (or a bare `open`), the declare form."""
        await ack()
        text = from_slack(str(body.get("text", ""))).strip()
        user, channel = str(body["user_id"]), str(body.get("channel_id", ""))
        found = lookup(text.split()[0]) if text else None
        if not text or (found and found[0] is CommandName.OPEN and len(text.split()) == 1):
            # Not queued behind other work: the trigger_id expires 3 seconds after the click.
            if await self._ledger.first(_request_key("command", body), "command"):
                await self._open_declare_form(body, user, channel)
            return
        async with self._gate.job(await self._incident_meant(text, channel)):
            if not await self._ledger.first(_request_key("command", body), "command"):
                return
            await self._run_text(body, text, user, channel)

    async def jamie_command(self, ack: AsyncAck, body: Body) -> None:
        """`/jamie <question>`: the runbook, cited (the `ask` command)."""
        await ack()
        async with self._gate.job():
            if not await self._ledger.first(_request_key("command", body), "command"):
                return
            question = from_slack(str(body.get("text", ""))).strip()
            user, channel = str(body["user_id"]), str(body.get("channel_id", ""))
            await self._run_text(body, f"jamie {question}", user, channel)

    async def _run_text(self, body: Body, text: str, user: str, channel: str) -> None:
        found = lookup(text.split()[0])
        opening = found is not None and found[0] is CommandName.OPEN
        # An incident opened here lives in its own channel: binding the channel it was
        # typed in would post its status updates there too.
        ctx = await self._context(
            user, str(body.get("user_name", "")), None if opening else channel
        )
        reply = await self._handler.handle_text(text, ctx)
        extra = await self._after(reply, user)
        public = reply.ok and reply.command in _CHANGES
        await self._answer(body, user, channel, mrkdwn(reply.text) + extra, public=public)

    async def _incident_meant(self, text: str, channel: str) -> int | None:
        """The incident a command will change, if it can be told before running it."""
        try:
            named = parse(text).ref if text else None
        except ParseError:
            return None
        return named or (await self._channels.incident_of(channel) if channel else None)

    async def _open_declare_form(self, body: Body, user: str, channel: str) -> None:
        language = self._language_of(user)
        view = modals.declare_view(self._plan, language, channel)
        try:
            await self._client.open_view(str(body["trigger_id"]), view)
        except SlackError as exc:
            text = Catalog(language)("slack.reply.modal_failed", reason=exc.code)
            await self._answer(body, user, channel, mrkdwn(text), public=False)

    # -- card buttons ---------------------------------------------------------------------

    async def state_button(self, ack: AsyncAck, body: Body, action: Body) -> None:
        """Acknowledge, Escalate (one level), Mitigate: one click per card revision."""
        await ack()
        parsed = blocks.parse_button_value(str(action.get("value", "")))
        if parsed is None:
            return
        number, revision = parsed
        async with self._gate.job(number):
            key = f"click:{action['action_id']}:{number}:{revision}"
            if not await self._ledger.first(key, "click"):
                return
            user, channel = _user_id(body), _channel_id(body)
            ctx = await self._context(user, _user_name(body), None)
            name = _BUTTON_COMMANDS[str(action["action_id"])]
            reply = await self._handler.handle(Command(name=name, language=None, ref=number), ctx)
            self._cards.touch(number)
            if not reply.ok:
                await self._answer(body, user, channel, mrkdwn(reply.text), public=False)

    async def form_button(self, ack: AsyncAck, body: Body, action: Body) -> None:
        """Update and Resolve open a form; Resolve only for those who may resolve. Not
        queued behind other work: the trigger_id expires 3 seconds after the click."""
        await ack()
        if await self._ledger.first(_request_key("form", body), "form"):
            await self._open_text_form(body, action)

    async def _open_text_form(self, body: Body, action: Body) -> None:
        parsed = blocks.parse_button_value(str(action.get("value", "")))
        if parsed is None:
            return
        user, channel = _user_id(body), _channel_id(body)
        language = self._language_of(user)
        resolving = action["action_id"] == blocks.RESOLVE
        if resolving and not self._may(user, CommandName.RESOLVE):
            text = await self._refusal(user, _user_name(body), CommandName.RESOLVE, language)
            await self._answer(body, user, channel, mrkdwn(text), public=False)
            return
        incident = await self._handler.service.get(parsed[0])
        callback = modals.RESOLVE if resolving else modals.UPDATE
        try:
            view = modals.text_view(callback, incident, language, channel)
            await self._client.open_view(str(body["trigger_id"]), view)
        except SlackError as exc:
            text = Catalog(language)("slack.reply.modal_failed", reason=exc.code)
            await self._answer(body, user, channel, mrkdwn(text), public=False)

    # -- modal submissions ----------------------------------------------------------------

    async def declaration_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        user = _user_id(body)
        form = modals.read_declaration(view, self._language_of(user))
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        await ack()
        async with self._gate.job():
            if not await self._ledger.first(f"view:{view['id']}", "submission"):
                return
            ctx = await self._context(user, _user_name(body), None)
            command = Command(
                name=CommandName.OPEN, language=None, severity=form.severity, text=form.title,
                departments=form.departments, patient_impact=form.patient_impact,
            )  # fmt: skip
            reply = await self._handler.handle(command, ctx)
            extra = await self._after(reply, user)
            origin = str(view.get("private_metadata", ""))
            await self._tell(user, origin, mrkdwn(reply.text) + extra)

    async def text_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        user = _user_id(body)
        form = modals.read_text(view, self._language_of(user))
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        await ack()
        number, channel, text = form
        async with self._gate.job(number):
            if not await self._ledger.first(f"view:{view['id']}", "submission"):
                return
            resolving = view.get("callback_id") == modals.RESOLVE
            name = CommandName.RESOLVE if resolving else CommandName.UPDATE
            ctx = await self._context(user, _user_name(body), None)
            reply = await self._handler.handle(Command(name, None, ref=number, text=text), ctx)
            self._cards.touch(number)
            if not reply.ok:
                await self._tell(user, channel, mrkdwn(reply.text))

    # -- events ---------------------------------------------------------------------------

    async def mentioned(self, ack: AsyncAck, body: Body, event: Body) -> None:
        """`@Jamie status`: any command, answered in a thread."""
        await ack()
        user = str(event.get("user") or "")
        text = from_slack(_LEADING_MENTION.sub("", str(event.get("text", "")))).strip()
        channel = str(event["channel"])
        async with self._gate.job(await self._incident_meant(text, channel)):
            if not user or not await self._ledger.first(_request_key("event", body), "event"):
                return
            await self._answer_mention(event, text, user, channel)

    async def _answer_mention(self, event: Body, text: str, user: str, channel: str) -> None:
        found = lookup(text.split()[0]) if text else None
        opening = found is not None and found[0] is CommandName.OPEN
        ctx = await self._context(user, "", None if opening else channel)
        reply = await self._handler.handle_text(text, ctx)
        extra = await self._after(reply, user)
        thread = str(event.get("thread_ts") or event.get("ts") or "") or None
        try:
            await self._client.post(channel, _fit(mrkdwn(reply.text) + extra), thread_ts=thread)
        except SlackError as exc:
            log.warning("reply to mention in %s not posted: %s", channel, exc.code)

    # -- shared steps ---------------------------------------------------------------------

    async def _context(self, user: str, fallback: str, channel: str | None) -> Context:
        name = await self._people.name(user, fallback)
        conversation = ConversationRef(Transport.SLACK, channel) if channel else None
        return Context(Transport.SLACK, user, name, conversation)

    def _language_of(self, user: str) -> str:
        actor = self._directory.actor(Transport.SLACK, user, "")
        return normalise_language(actor.language or self._plan.default_language)

    def _may(self, user: str, command: CommandName) -> bool:
        return allowed(self._directory.role_of(Transport.SLACK, user), command)

    async def _refusal(self, user: str, fallback: str, command: CommandName, language: str) -> str:
        t = Catalog(language)
        name = await self._people.name(user, fallback)
        needed = t(f"role.{REQUIRED_ROLE[command].value}")
        word = primary_word(command, language)
        return t("error.not_authorised", name=name, command=word, needed=needed)

    async def _after(self, reply: Reply, user: str) -> str:
        """After a command: refresh the card; after an opening, the channel line."""
        if reply.incident is None:
            return ""
        self._cards.touch(reply.incident.number)
        if reply.ok and reply.command is CommandName.ESCALATE:
            await self._provisioner.invite_responders(reply.incident)
        if not reply.ok or reply.command is not CommandName.OPEN:
            return ""
        return "\n" + await self._channel_line(reply.incident, user, reply.language)

    async def _channel_line(self, incident: Incident, user: str, language: str) -> str:
        t = Catalog(language)
        try:
            channel = await self._provisioner.ensure(incident, invite=[user])
        except ChannelUnavailable as exc:
            reason = mrkdwn(exc.reason(language))
            if exc.transient:
                return t("slack.reply.channel_retrying", ref=incident.ref, reason=reason,
                         digest=f"<#{self._digest}>")  # fmt: skip
            return t("slack.reply.channel_failed", ref=incident.ref, reason=reason)
        return t("slack.reply.channel_ready", channel=f"<#{channel}>")

    async def _answer(
        self, body: Body, user: str, channel: str, text: str, *, public: bool
    ) -> None:
        """Through the response_url when the request has one; else an ephemeral message."""
        url = body.get("response_url")
        if url:
            payload = {
                "text": _fit(text),
                "response_type": "in_channel" if public else "ephemeral",
                "replace_original": False,
            }
            try:
                await self._client.respond(str(url), payload)
                return
            except SlackError as exc:
                log.warning("response_url refused (%s); answering ephemerally", exc.code)
        await self._tell(user, channel, text)

    async def _tell(self, user: str, channel: str, text: str) -> None:
        """An ephemeral message in `channel`, or a direct message when that fails."""
        if channel:
            try:
                await self._client.post_ephemeral(channel, user, _fit(text))
                return
            except SlackError as exc:
                log.info(
                    "ephemeral in %s refused (%s); sending a direct message", channel, exc.code
                )
        try:
            await self._client.post(user, _fit(text))
        except SlackError as exc:
            log.warning("could not reach user %s: %s", user, exc.code)


def _fit(text: str) -> str:
    return text if len(text) <= REPLY_CHARS else clip(text, REPLY_CHARS, lambda s: s)


def _request_key(kind: str, body: Body) -> str:
    """Slack's own id for the request (event_id, trigger_id), or a hash of its content."""
    own = body.get("event_id") or body.get("trigger_id")
    if own:
        return f"{kind}:{own}"
    return f"{kind}:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _user_id(body: Body) -> str:
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


def _user_name(body: Body) -> str:
    user = body.get("user") or {}
    return str(user.get("name") or user.get("username") or body.get("user_name") or "")


def _channel_id(body: Body) -> str:
    return str((body.get("channel") or {}).get("id") or body.get("channel_id") or "")
