"""Writing notifications in the caller's transaction, and knowing who is reachable how.

A notification is queued only on a channel this deployment delivers (SMTP configured for
e-mail, the webhook for SMS, calls and paging) and for which the person has an address;
the caller records the people it could not reach on the incident's timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import normalise_language
from bot.notify.outbox import insert_once
from bot.plan.model import Channel, Plan
from bot.storage.sla_models import NotificationRow

# subject and text for a person, in their language
Render = Callable[[str], tuple[str, str]]


class Addressbook:
    """The plan's contacts as seen by the channels this deployment has."""

    def __init__(self, plan: Plan, available: frozenset[Channel]) -> None:
        self._plan = plan
        self.available = available

    def address(self, contact: str, channel: Channel) -> str | None:
        person = self._plan.contacts[contact]
        if channel not in self.available:
            return None
        if channel is Channel.EMAIL:
            return person.email
        if channel in (Channel.SMS, Channel.CALL):
            return person.phone
        if channel in (Channel.PAGING, Channel.BROADCAST):
            return person.pager or person.phone
        if channel is Channel.CHAT and person.chat:
            transport, where = next(iter(person.chat.items()))
            return f"{transport}:{where}"
        return None

    def language(self, contact: str) -> str:
        return normalise_language(self._plan.contacts[contact].language)

    def name(self, contact: str) -> str:
        return self._plan.contacts[contact].name


@dataclass
class Reach:
    """Who was queued on which channels, and who could not be reached at all."""

    queued: dict[str, list[Channel]] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)

    def merge(self, other: Reach) -> None:
        for contact, channels in other.queued.items():
            self.queued.setdefault(contact, []).extend(channels)
        self.unreachable.extend(c for c in other.unreachable if c not in self.unreachable)


async def enqueue_notification(
    session: AsyncSession,
    *,
    key: str,
    incident_id: int | None,
    contact: str,
    channel: Channel,
    address: str,
    language: str,
    kind: str,
    subject: str,
    text: str,
    now: datetime,
    page_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a notification unless one with the same key exists; True when added."""
    values = {
        "dedupe_key": key[:200],
        "incident_id": incident_id,
        "page_id": page_id,
        "contact": contact,
        "channel": channel.value,
        "address": address,
        "language": language,
        "kind": kind,
        "subject": subject[:200],
        "text": text,
        "payload": payload or {},
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }
    return await insert_once(session, NotificationRow, values)


async def notify_people(
    session: AsyncSession,
    book: Addressbook,
    *,
    key: str,
    incident_id: int | None,
    contacts: tuple[str, ...],
    channels: tuple[Channel, ...],
    kind: str,
    render: Render,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> Reach:
    """One notification per person and channel they can be reached on."""
    reach = Reach()
    for contact in contacts:
        language = book.language(contact)
        subject, text = render(language)
        for channel in channels:
            address = book.address(contact, channel)
            if address is None:
                continue
            await enqueue_notification(
                session,
                key=f"{key}:{contact}:{channel.value}",
                incident_id=incident_id,
                contact=contact,
                channel=channel,
                address=address,
                language=language,
                kind=kind,
                subject=subject,
                text=text,
                now=now,
                payload=payload,
            )
            reach.queued.setdefault(contact, []).append(channel)
        if contact not in reach.queued:
            reach.unreachable.append(contact)
    return reach
