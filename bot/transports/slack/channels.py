"""A Slack channel for each incident: create it, bind it, invite people, post and pin the card.

`ensure` is idempotent and safe to call from several places at once (the slash command
that opened the incident, and the outbox message every opening writes): a lock per
incident inside the process and a claim row in the database across processes mean one
`conversations.create`. A failure that retrying can fix (rate limit, Slack unreachable)
releases the claim and propagates, so the outbox tries again later; any other failure is
recorded, and the incident simply lives without a channel of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.domain.enums import Severity, Transport
from bot.domain.incident import Incident
from bot.domain.people import ConversationRef
from bot.i18n import Catalog
from bot.plan import Plan
from bot.render.timefmt import TimeFormat
from bot.service.incidents import IncidentService
from bot.transports.slack.cards import CardKeeper
from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import NameTaken, SlackError
from bot.transports.slack.naming import channel_name
from bot.transports.slack.store import FAILED, READY, ChannelStore

log = logging.getLogger(__name__)

NAME_ATTEMPTS = 10
CLAIM_HOLD = timedelta(minutes=2)
_IGNORED_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}


class ChannelUnavailable(Exception):
    """The incident has no channel: `code` says why, `transient` whether it may yet get one."""

    def __init__(self, code: str, *, transient: bool) -> None:
        self.code = code
        self.transient = transient
        super().__init__(code)

    def reason(self, language: str) -> str:
        t = Catalog(language)
        if self.transient:
            key = "ratelimited" if self.code == "ratelimited" else "unavailable"
            return t(f"slack.channel_error.{key}")
        known = ("name_taken", "restricted_action", "missing_scope")
        if self.code in known:
            return t(f"slack.channel_error.{self.code}")
        return t("slack.channel_error.other", code=self.code)


class ChannelProvisioner:
    def __init__(
        self,
        client: SlackClient,
        store: ChannelStore,
        service: IncidentService,
        cards: CardKeeper,
        plan: Plan,
        timeformat: TimeFormat,
        *,
        language: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._store = store
        self._service = service
        self._cards = cards
        self._plan = plan
        self._time = timeformat
        self._language = language
        self._now = clock
        self._locks: dict[int, asyncio.Lock] = {}

    async def ensure(self, incident: Incident, *, invite: Sequence[str] = ()) -> str:
        """The incident's channel id, made now if it has none; raises ChannelUnavailable."""
        lock = self._locks.setdefault(incident.number, asyncio.Lock())
        async with lock:
            return await self._ensure(incident, invite)

    async def _ensure(self, incident: Incident, invite: Sequence[str]) -> str:
        known = await self._store.get(incident.number)
        if known is not None and known.state == READY and known.channel_id:
            await self._invite(known.channel_id, invite)
            return known.channel_id
        if known is not None and known.state == FAILED:
            raise ChannelUnavailable(known.error or "unknown", transient=False)
        if not await self._store.claim(incident.number, CLAIM_HOLD):
            raise ChannelUnavailable("busy", transient=True)  # another process is making it
        try:
            channel_id, name = await self._create(incident)
        except SlackError as exc:
            if exc.transient:
                await self._store.release(incident.number)
            else:
                await self._store.record(incident.number, state=FAILED, error=exc.code[:200])
            log.warning("no channel for %s: %s", incident.ref, exc.code)
            raise ChannelUnavailable(exc.code, transient=exc.transient) from exc
        await self._store.record(incident.number, channel_id=channel_id, name=name)
        await self._service.bind(
            incident.number, ConversationRef(Transport.SLACK, channel_id), self._language
        )
        await self._invite(channel_id, [*invite, *self.responders(incident.severity)])
        await self._cards.post(incident, channel_id)
        await self._store.record(incident.number, state=READY)
        log.info("incident %s has channel %s", incident.ref, channel_id)
        return channel_id

    async def invite_responders(self, incident: Incident) -> None:
        """After an escalation: the new severity's responders join the channel too."""
        known = await self._store.get(incident.number)
        if known is not None and known.state == READY and known.channel_id:
            await self._invite(known.channel_id, self.responders(incident.severity))

    async def _create(self, incident: Incident) -> tuple[str, str]:
        day = self._time.local(incident.declared_at).date()
        for attempt in range(1, NAME_ATTEMPTS + 1):
            name = channel_name(day, incident.title, incident.number, attempt)
            try:
                return await self._client.create_channel(name), name
            except NameTaken:
                continue
        raise NameTaken("name_taken", "conversations.create")

    def responders(self, severity: Severity) -> list[str]:
        """Slack ids of the plan's responders that the severity's first escalation step
        calls now (a responder matches a contact by key, `-` or `_` alike, or by name)."""
        policy = self._plan.policy(severity)
        keys = self._plan.expand([k for step in policy.escalation if not step.after
                                  for k in step.notify])  # fmt: skip
        wanted = {_norm(k) for k in keys} | {_norm(self._plan.contacts[k].name) for k in keys}
        found: list[str] = []
        for key, person in self._plan.responders.items():
            if _norm(key) in wanted or _norm(person.name) in wanted:
                found += [i for i in person.identities.get(Transport.SLACK.value, []) if i != "*"]
        return list(dict.fromkeys(found))

    async def _invite(self, channel_id: str, users: Sequence[str]) -> None:
        """Invite everyone; one refusal (a deactivated account) never stops the others."""
        people = list(dict.fromkeys(u for u in users if u))
        if not people:
            return
        try:
            await self._client.invite(channel_id, people)
            return
        except SlackError as exc:
            if len(people) == 1 and exc.code in _IGNORED_INVITE_ERRORS:
                return
        refused: dict[str, str] = {}
        for user in people:
            try:
                await self._client.invite(channel_id, [user])
            except SlackError as exc:
                if exc.code not in _IGNORED_INVITE_ERRORS:
                    refused[user] = exc.code
        if refused:
            log.warning("channel %s: %d invitation(s) refused", channel_id, len(refused))
            t = Catalog(self._language)
            users_text = ", ".join(f"<@{u}>" for u in refused)
            text = t(
                "slack.invite_failed", users=users_text, reason=", ".join(set(refused.values()))
            )
            try:
                await self._client.post(channel_id, text)
            except SlackError as exc:
                log.warning("channel %s: invitation note not posted: %s", channel_id, exc.code)


def _norm(text: str) -> str:
    return text.casefold().replace("-", "_").replace(" ", "_")
