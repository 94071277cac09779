"""What the chat commands reach of pages and regulatory flags: one object handed to the
command handler (`flag`, `notified`, `workaround`, and `ack` stopping a person's pages)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import DomainError
from bot.regulatory.desk import RegulatoryDesk
from bot.scheduling.pages import Pages


@dataclass(frozen=True, slots=True)
class OnCall:
    regulatory: RegulatoryDesk
    pages: Pages


class OnCallUnavailable(DomainError):
    """The handler was built without pages and regulatory flags (a bare test wiring)."""

    key = "notify.not_configured"
