"""Who acts, and where they talk."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.enums import Role, Transport


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or Jamie itself) acting on an incident through one transport."""

    name: str
    transport: Transport
    user_id: str
    role: Role = Role.OBSERVER
    language: str | None = None
    responder_key: str | None = None

    @property
    def label(self) -> str:
        return self.name


SYSTEM_ACTOR = Actor(
    name="Jamie", transport=Transport.SYSTEM, user_id="jamie", role=Role.COMMANDER
)


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """A place messages go: ('console', 'local'), ('slack', 'C0123'), ('telegram', '-100:7')."""

    transport: Transport
    address: str
