"""The one interface every way of reaching a person implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from bot.plan.model import Channel


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one person on one channel. `key` is the same on every attempt at this
    message: channels pass it on (Idempotency-Key, Message-ID) so a receiver can drop a
    repeat that a crash between sending and recording made."""

    id: int
    key: str
    kind: str
    contact: str
    name: str
    channel: Channel
    address: str
    language: str
    subject: str
    text: str
    incident_ref: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A channel could not deliver; `permanent` when trying again cannot help."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class NotificationChannel(Protocol):
    """A way to reach people: e-mail, a webhook (SMS, paging), a chat transport's DMs."""

    @property
    def serves(self) -> frozenset[Channel]:
        """The plan's channel names this delivers."""
        ...

    @property
    def idempotent(self) -> bool:
        """True when delivering the same key twice reaches the person once."""
        ...

    async def send(self, notification: Notification) -> None:
        """Deliver, or raise DeliveryError."""
        ...
